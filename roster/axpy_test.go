package roster

import (
	"math/rand/v2"
	"testing"
)

func TestAxpyMatchesScalar(t *testing.T) {
	checkAxpy(t, "axpy", axpy)
}

// checkAxpy compares an axpy kernel with the scalar loop it replaces,
// bit for bit, on every length up to 40 (vector bodies and tails).
func checkAxpy(t *testing.T, name string, axpy func(float64, []float64, []float64)) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 40; n++ {
		x := make([]float64, n+3)
		y := make([]float64, n)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		for i := range y {
			y[i] = rng.NormFloat64() * 1e3
		}
		f := rng.NormFloat64()
		want := append([]float64(nil), y...)
		for i := range want {
			want[i] -= f * x[i] // the loop lp.solve ran before
		}
		axpy(-f, x, y)
		for i := range y {
			if y[i] != want[i] {
				t.Fatalf("%s: n=%d i=%d: %v, want %v", name, n, i, y[i], want[i])
			}
		}
	}
}
