//go:build !amd64

package roster

// axpy sets y[i] += alpha*x[i] for every i < len(y); len(x) >= len(y).
func axpy(alpha float64, x, y []float64) {
	x = x[:len(y)]
	for i := range y {
		y[i] += alpha * x[i]
	}
}
