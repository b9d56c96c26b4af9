package roster

import (
	"math/rand/v2"
	"testing"
)

// flowableModel is a random model with one cover cell per day and shift
// and no fairness term, the problems day moves apply to.
func flowableModel(rng *rand.Rand) *Model {
	m := randomModel(rng)
	m.Fairness = nil
	seen := map[[2]string]bool{}
	cover := m.Cover[:0]
	for _, c := range m.Cover {
		if k := [2]string{c.Date, c.Shift}; !seen[k] {
			seen[k] = true
			cover = append(cover, c)
		}
	}
	m.Cover = cover
	return m
}

// TestDayMoveFindsTheBestAssignmentOfTheDay compares the flow's result on
// one day with every combination of the employees' values that day: from
// today's assignment (cycle cancelling) and, on every fourth seed, from
// rosters with values a hard cell rule forbids (successive shortest paths).
func TestDayMoveFindsTheBestAssignmentOfTheDay(t *testing.T) {
	improved, cold := 0, 0
	for seed := uint64(1); seed <= 40; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		m := flowableModel(rng)
		p := compile(m)
		if !p.flowable() {
			t.Fatalf("seed %d: one cell per day and shift, no fairness, yet not flowable", seed)
		}
		x := p.encode(randomRoster(rng, m))
		for i := range x {
			if seed%4 != 0 && !p.allowed[i*p.V+int(x[i])] {
				for v := 0; v < p.V; v++ {
					if p.allowed[i*p.V+v] {
						x[i] = uint8(v)
						break
					}
				}
			}
		}
		sh := &shared{firstFeasible: -1}
		sh.bestTotal.Store(infCost)
		w := newWorker(p, sh, seed, 0, x)
		for try := 0; try < 3; try++ {
			d := rng.IntN(p.D)
			for e := 0; e < p.E; e++ {
				if !p.allowed[(e*p.D+d)*p.V+int(w.s.x[e*p.D+d])] {
					cold++
					break
				}
			}
			best := bruteForceDay(p, w.s.x, d)
			before := w.s.total
			got := w.dayMove(d)
			if w.s.total != before+got {
				t.Fatalf("seed %d day %d: returned change %d, total went %d → %d", seed, d, got, before, w.s.total)
			}
			if want := min(best, before); w.s.total != want {
				t.Fatalf("seed %d day %d: day move reached %d, the best assignment of the day gives %d (was %d)", seed, d, w.s.total, best, before)
			}
			if full := newState(p, w.s.x).total; full != w.s.total {
				t.Fatalf("seed %d day %d: incremental total %d, recomputed %d", seed, d, w.s.total, full)
			}
			if got < 0 {
				improved++
			}
		}
	}
	if improved == 0 || cold == 0 {
		t.Fatalf("%d day moves improved, %d started from a forbidden value: the test must exercise both", improved, cold)
	}
}

// bruteForceDay is the lowest objective over every assignment of day d.
func bruteForceDay(p *problem, x []uint8, d int) int64 {
	y := append([]uint8(nil), x...)
	best := int64(infCost)
	var rec func(e int)
	rec = func(e int) {
		if e == p.E {
			best = min(best, newState(p, y).total)
			return
		}
		for v := 0; v < p.V; v++ {
			if p.allowed[(e*p.D+d)*p.V+v] {
				y[e*p.D+d] = uint8(v)
				rec(e + 1)
			}
		}
	}
	rec(0)
	return best
}
