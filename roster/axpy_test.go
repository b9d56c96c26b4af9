package roster

import (
	"math/rand/v2"
	"testing"
)

func TestAxpyMatchesScalar(t *testing.T) {
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
		alpha := rng.NormFloat64()
		want := append([]float64(nil), y...)
		for i := range want {
			want[i] -= -alpha * x[i]
		}
		axpy(alpha, x, y)
		for i := range y {
			if y[i] != want[i] {
				t.Fatalf("n=%d i=%d: %v, want %v", n, i, y[i], want[i])
			}
		}
	}
}
