package roster

import (
	"math/rand/v2"
	"testing"
)

// windowCosts fills cost[j*V+v] with the static cost plus the cover
// marginal of e taking v on day a+j, infCost where v is not allowed.
func windowCosts(s *state, e, a, b int) []int64 {
	p := s.p
	cost := make([]int64, (b-a+1)*p.V)
	for j := 0; j <= b-a; j++ {
		d := a + j
		for v := 0; v < p.V; v++ {
			i := (e*p.D+d)*p.V + v
			if !p.allowed[i] {
				cost[j*p.V+v] = infCost
				continue
			}
			cost[j*p.V+v] = p.static[i]
			if v > 0 {
				cost[j*p.V+v] += s.marginal(e, d, uint8(v))
			}
		}
	}
	return cost
}

// bruteWindow enumerates every assignment of the window's allowed values
// and returns the best objective change, overall and keeping the row free
// of hard violations.
func bruteWindow(s *state, e, a, b int, cost []int64) (best, bestFeasible int64, anyFeasible bool) {
	p := s.p
	W := b - a + 1
	nv := make([]uint8, W)
	best, bestFeasible = infCost, infCost
	var rec func(j int)
	rec = func(j int) {
		if j == W {
			mv := []rowChange{{e: e, a: a, nv: nv}}
			rd := s.rowDelta(e, a, nv)
			delta := s.moveDelta(mv)
			best = min(best, delta)
			if s.rowCost[e]+rd < hardWeight {
				anyFeasible = true
				bestFeasible = min(bestFeasible, delta)
			}
			return
		}
		for v := 0; v < p.V; v++ {
			if cost[j*p.V+v] < infCost {
				nv[j] = uint8(v)
				rec(j + 1)
			}
		}
	}
	rec(0)
	return
}

func TestDPIsExactOnWindows(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	checked, strictChecked := 0, 0
	for i := 0; i < 400; i++ {
		m := randomModel(rng)
		m.Fairness = nil // the DP prices one row against fixed others
		p := compile(m)
		s := newState(p, p.encode(randomRoster(rng, m)))
		z := newDP(p)
		for k := 0; k < 5; k++ {
			e := rng.IntN(p.E)
			a := rng.IntN(p.D)
			b := min(p.D-1, a+rng.IntN(4))
			if p.V > 4 {
				b = min(b, a+2)
			}
			cost := windowCosts(s, e, a, b)
			best, bestFeasible, anyFeasible := bruteWindow(s, e, a, b, cost)
			out := make([]uint8, b-a+1)
			if _, ok := z.solve(s, e, a, b, cost, false, out); !ok {
				t.Fatalf("model %d: relaxed DP found nothing", i)
			}
			if got := s.moveDelta([]rowChange{{e: e, a: a, nv: out}}); got != best {
				t.Fatalf("model %d e%d [%d,%d]: relaxed DP delta %d, brute force %d (row %v -> %v)", i, e, a, b, got, best, s.x[e*p.D:(e+1)*p.D], out)
			}
			checked++
			if s.rowCost[e] < hardWeight { // the row is feasible now
				_, ok := z.solve(s, e, a, b, cost, true, out)
				if !ok || !anyFeasible {
					t.Fatalf("model %d: strict DP ok=%v, brute force feasible=%v", i, ok, anyFeasible)
				}
				if got := s.moveDelta([]rowChange{{e: e, a: a, nv: out}}); got != bestFeasible {
					t.Fatalf("model %d e%d [%d,%d]: strict DP delta %d, brute force %d", i, e, a, b, got, bestFeasible)
				}
				strictChecked++
			}
			// Move on from a random roster toward better ones.
			s.apply([]rowChange{{e: e, a: a, nv: out}})
		}
	}
	if strictChecked < 100 {
		t.Fatalf("only %d strict cases of %d checked", strictChecked, checked)
	}
}

// A DP whose state space exceeds the call's limit reports failure rather
// than allocating it; pricing raises the limit (pricingDPStates) so long
// rows still get priced.
func TestDPStateLimit(t *testing.T) {
	m := GenerateModel(GenerateSpec{Employees: 4, Days: 28, ShiftTypes: 3, Seed: 1})
	p := compile(m)
	s := newState(p, make([]uint8, p.E*p.D))
	z := newDP(p)
	cost := windowCosts(s, 0, 0, p.D-1)
	out := make([]uint8, p.D)
	if _, ok := z.solve(s, 0, 0, p.D-1, cost, false, out); !ok {
		t.Fatal("full row DP failed under the default limit")
	}
	z.maxStates = 8
	if _, ok := z.solve(s, 0, 0, p.D-1, cost, false, out); ok {
		t.Fatal("full row DP succeeded with a limit of 8 states")
	}
	z.maxStates = pricingDPStates
	if _, ok := z.solve(s, 0, 0, p.D-1, cost, false, out); !ok {
		t.Fatal("full row DP failed under the pricing limit")
	}
}

// The run-aware reach (reachTable) drops only labels that cannot meet the
// minimum minutes: strict DPs give the same objective with it as with the
// per-day bound alone, over windows up to the whole horizon.
func TestDPReachKeepsTheOptimum(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var models []*Model
	for i := 0; i < 80; i++ {
		m := randomModel(rng)
		m.Fairness = nil
		models = append(models, m)
	}
	for seed := uint64(1); seed <= 4; seed++ {
		models = append(models, GenerateModel(GenerateSpec{Employees: 6, Days: 28, ShiftTypes: 3, Seed: seed}))
	}
	var calls, feasible int
	var workReach, workPlain int64
	for i, m := range models {
		p := compile(m)
		s := newState(p, p.encode(randomRoster(rng, m)))
		with, without := newDP(p), newDP(p)
		without.reachOff = true
		for k := 0; k < 20; k++ {
			e := rng.IntN(p.E)
			a := rng.IntN(p.D)
			b := min(p.D-1, a+rng.IntN(p.D))
			cost := windowCosts(s, e, a, b)
			for j := range cost {
				if cost[j] < infCost && j%p.V > 0 {
					cost[j] += rng.Int64N(60)
				}
			}
			out1 := make([]uint8, b-a+1)
			out2 := make([]uint8, b-a+1)
			w0, p0 := with.work, without.work
			obj1, ok1 := with.solve(s, e, a, b, cost, true, out1)
			obj2, ok2 := without.solve(s, e, a, b, cost, true, out2)
			if ok1 != ok2 || (ok1 && obj1 != obj2) {
				t.Fatalf("model %d e%d [%d,%d]: with reach (%d, %v), without (%d, %v)", i, e, a, b, obj1, ok1, obj2, ok2)
			}
			calls++
			if ok1 {
				feasible++
				workReach += with.work - w0
				workPlain += without.work - p0
			}
			if out := make([]uint8, b-a+1); func() bool { _, ok := without.solve(s, e, a, b, cost, false, out); return ok }() {
				s.apply([]rowChange{{e: e, a: a, nv: out}})
			}
		}
	}
	if feasible < calls/4 {
		t.Fatalf("only %d of %d strict calls feasible", feasible, calls)
	}
	t.Logf("%d strict calls, %d feasible; labels %d with reach, %d without", calls, feasible, workReach, workPlain)
}
