package roster

import "testing"

// Both kernels give the pure Go loop's bits, whichever the CPU picks.
func TestAxpyKernels(t *testing.T) {
	kernels := map[string]func(float64, []float64, []float64){"sse2": axpySSE2}
	if hasAVX() {
		kernels["avx"] = func(alpha float64, x, y []float64) {
			n := len(y) &^ 7
			axpyAVX(alpha, x, y[:n])
			for i := n; i < len(y); i++ {
				y[i] += alpha * x[i]
			}
		}
	}
	for name, k := range kernels {
		checkAxpy(t, name, k)
	}
}
