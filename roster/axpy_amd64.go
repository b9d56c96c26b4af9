package roster

// axpy sets y[i] += alpha*x[i] for every i < len(y); len(x) >= len(y).
// Multiplying and adding separately (no fused multiply-add) gives the bits
// the pure Go loop gives, so results do not depend on the CPU.
func axpy(alpha float64, x, y []float64) {
	if useAVX {
		n := len(y) &^ 7
		axpyAVX(alpha, x, y[:n])
		x, y = x[n:], y[n:]
	}
	axpySSE2(alpha, x, y)
}

var useAVX = hasAVX()

// Eight at a time with AVX (len(y) a multiple of 8), the rest with SSE2
// (which every amd64 has), two at a time.
//
//go:noescape
func axpyAVX(alpha float64, x, y []float64)

//go:noescape
func axpySSE2(alpha float64, x, y []float64)

func hasAVX() bool
