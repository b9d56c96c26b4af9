package roster

import (
	"context"
	"math/rand/v2"
	"testing"
)

// benchState is a feasible-ish roster of a generated 100 x 28 x 6 problem.
func benchState(b *testing.B) (*problem, *state, *Model) {
	b.Helper()
	m := GenerateModel(GenerateSpec{Employees: 100, Days: 28, ShiftTypes: 6, Seed: 3})
	res, err := Solve(context.Background(), m, Options{MaxSteps: 50, Threads: 1, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	p := compile(m)
	return p, newState(p, p.encode(res.Roster)), m
}

// BenchmarkDeltaCell prices changing one employee's value on one day.
func BenchmarkDeltaCell(b *testing.B) {
	p, s, _ := benchState(b)
	rng := rand.New(rand.NewPCG(1, 1))
	moves := make([][]rowChange, 1024)
	for i := range moves {
		moves[i] = []rowChange{{e: rng.IntN(p.E), a: rng.IntN(p.D), nv: []uint8{uint8(rng.IntN(p.V))}}}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.moveDelta(moves[i%len(moves)])
	}
}

// BenchmarkDeltaSwap prices exchanging 1-4 days between two employees.
func BenchmarkDeltaSwap(b *testing.B) {
	p, s, _ := benchState(b)
	rng := rand.New(rand.NewPCG(2, 2))
	moves := make([][]rowChange, 1024)
	for i := range moves {
		moves[i] = randomMove(rng, p, s.x)
		for len(moves[i]) != 2 {
			moves[i] = randomMove(rng, p, s.x)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.moveDelta(moves[i%len(moves)])
	}
}

// BenchmarkApply commits single-cell changes (and their undo).
func BenchmarkApply(b *testing.B) {
	p, s, _ := benchState(b)
	rng := rand.New(rand.NewPCG(3, 3))
	for i := 0; i < b.N; i++ {
		e, d := rng.IntN(p.E), rng.IntN(p.D)
		old := s.x[e*p.D+d]
		s.apply([]rowChange{{e: e, a: d, nv: []uint8{uint8(rng.IntN(p.V))}}})
		s.apply([]rowChange{{e: e, a: d, nv: []uint8{old}}})
	}
}

func benchDP(b *testing.B, window int) {
	p, s, _ := benchState(b)
	w := newWorker(p, &shared{}, 1, 0, s.x)
	rng := rand.New(rand.NewPCG(4, 4))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e, a := rng.IntN(p.E), rng.IntN(p.D-window+1)
		w.reoptWindowNoise(e, a, a+window-1, 0)
	}
}

// BenchmarkDPWindow7 re-optimises a week of one row exactly.
func BenchmarkDPWindow7(b *testing.B) { benchDP(b, 7) }

// BenchmarkDPWindow14 re-optimises two weeks of one row exactly.
func BenchmarkDPWindow14(b *testing.B) { benchDP(b, 14) }

// BenchmarkEvaluate is the independent evaluator on a whole roster.
func BenchmarkEvaluate(b *testing.B) {
	p, s, m := benchState(b)
	r := p.decode(s.x)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Evaluate(m, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDayMove re-assigns one day of all 100 employees exactly (the
// min-cost flow of dayflow.go), from a roster close to day-optimal as
// late in a search.
func BenchmarkDayMove(b *testing.B) {
	p, s, _ := benchState(b)
	w := newWorker(p, &shared{}, 1, 0, s.x)
	for d := 0; d < p.D; d++ {
		w.dayMove(d)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.swapMoves(1) // a small change, as the annealing makes between day moves
		w.dayMove(rng.IntN(p.D))
	}
}
