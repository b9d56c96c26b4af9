package roster

import "testing"

// Both kernels give the pure Go loop's bits, whichever the CPU picks.
func TestAxpyKernels(t *testing.T) {
	kernels := map[string]func(float64, []float64, []float64){"sse2": axpySSE2}
	if hasAVX() {
		kernels["avx"] = axpyAVX
	}
	for name, k := range kernels {
		checkAxpy(t, name, k)
	}
}
