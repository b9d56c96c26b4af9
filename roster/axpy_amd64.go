package roster

// axpy sets y[i] += alpha*x[i] for every i < len(y); len(x) >= len(y).
// Multiplying and adding separately (no fused multiply-add) gives the bits
// the pure Go loop gives, so results do not depend on the CPU.
func axpy(alpha float64, x, y []float64) {
	if useAVX {
		axpyAVX(alpha, x, y)
		return
	}
	axpySSE2(alpha, x, y)
}

var useAVX = hasAVX()

// Four at a time with AVX, two with SSE2 (which every amd64 has).
//
//go:noescape
func axpyAVX(alpha float64, x, y []float64)

//go:noescape
func axpySSE2(alpha float64, x, y []float64)

func hasAVX() bool
