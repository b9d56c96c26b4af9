package roster

import (
	"math/rand/v2"
	"testing"
)

func TestStateMatchesEvaluate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		m := randomModel(rng)
		mustValid(t, m)
		p := compile(m)
		r := randomRoster(rng, m)
		s := newState(p, p.encode(r))
		if want := objectiveOf(mustEvaluate(t, m, r)); s.total != want {
			t.Fatalf("model %d: state total %d, independent evaluation %d", i, s.total, want)
		}
	}
}

// randomMove proposes a change of one row's block or a block swap of two rows.
func randomMove(rng *rand.Rand, p *problem, x []uint8) []rowChange {
	D := p.D
	a := rng.IntN(D)
	b := min(D-1, a+rng.IntN(4))
	e1 := rng.IntN(p.E)
	if rng.IntN(3) == 0 && p.E > 1 {
		e2 := (e1 + 1 + rng.IntN(p.E-1)) % p.E
		r1 := append([]uint8(nil), x[e2*D+a:e2*D+b+1]...)
		r2 := append([]uint8(nil), x[e1*D+a:e1*D+b+1]...)
		return []rowChange{{e: e1, a: a, nv: r1}, {e: e2, a: a, nv: r2}}
	}
	nv := make([]uint8, b-a+1)
	for i := range nv {
		nv[i] = uint8(rng.IntN(p.V))
	}
	return []rowChange{{e: e1, a: a, nv: nv}}
}

func TestDeltaMatchesFullOverRandomMoves(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	models := 60
	if testing.Short() {
		models = 15
	}
	for i := 0; i < models; i++ {
		m := randomModel(rng)
		p := compile(m)
		s := newState(p, p.encode(randomRoster(rng, m)))
		for k := 0; k < 400; k++ {
			mv := randomMove(rng, p, s.x)
			delta := s.moveDelta(mv)
			before := s.total
			if rng.IntN(2) == 0 {
				continue // priced but rejected: nothing may change
			}
			got := s.apply(mv)
			if got != delta {
				t.Fatalf("model %d move %d: moveDelta %d, apply %d", i, k, delta, got)
			}
			fresh := newState(p, s.x)
			if fresh.total != before+delta {
				t.Fatalf("model %d move %d: incremental total %d, recomputed %d", i, k, before+delta, fresh.total)
			}
			if k%50 == 0 {
				if want := objectiveOf(mustEvaluate(t, m, p.decode(s.x))); want != s.total {
					t.Fatalf("model %d move %d: total %d, independent %d", i, k, s.total, want)
				}
			}
		}
	}
}
