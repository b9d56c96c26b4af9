package roster

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tinyModel is small enough to solve by enumeration: 3 employees, 5 days
// from a Friday (so a weekend inside), one shift type.
func tinyModel(rng *rand.Rand) *Model {
	m := &Model{StartDate: "2025-03-07", Days: 5, ShiftTypes: []ShiftType{{ID: "D", LengthMinutes: 480}}}
	dates := m.Dates()
	for i := 0; i < 3; i++ {
		m.Employees = append(m.Employees, Employee{ID: fmt.Sprintf("e%d", i), Contract: Contract{
			MinConsecutiveWork: IntPtr(2), MaxConsecutiveWork: IntPtr(3), MinConsecutiveOff: IntPtr(1 + rng.IntN(2)),
			MaxWeekends: IntPtr(rng.IntN(2)), MaxMinutes: IntPtr(480 * (2 + rng.IntN(3))),
		}})
	}
	for _, d := range dates {
		m.Cover = append(m.Cover, Cover{Date: d, Shift: "D", Requirement: rng.IntN(4), UnderWeight: 100, OverWeight: 1 + rng.IntN(3)})
	}
	for k := 0; k < 4; k++ {
		m.Requests = append(m.Requests, Request{Employee: m.Employees[rng.IntN(3)].ID, Date: dates[rng.IntN(5)],
			Kind: []string{RequestOn, RequestOff}[rng.IntN(2)], Weight: 1 + rng.IntN(5)})
	}
	return m
}

// bruteForce returns the lowest penalty of a feasible roster (or -1).
func bruteForce(m *Model) int64 {
	p := compile(m)
	n := p.E * p.D
	best := int64(-1)
	x := make([]uint8, n)
	for code := 0; code < 1<<n; code++ {
		for i := range x {
			x[i] = uint8(code >> i & 1)
		}
		if t := newState(p, x).total; t < hardWeight && (best < 0 || t < best) {
			best = t
		}
	}
	return best
}

func TestSolveFindsOptimumAndValidBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for i := 0; i < 6; i++ {
		m := tinyModel(rng)
		want := bruteForce(m)
		res, err := Solve(context.Background(), m, Options{MaxSteps: 3000, Threads: 1, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if want < 0 {
			if res.Feasible {
				t.Fatalf("model %d: no feasible roster exists but result is feasible", i)
			}
			continue
		}
		if !res.Feasible || res.Penalty != want {
			t.Fatalf("model %d: got penalty %d feasible %v, optimum %d", i, res.Penalty, res.Feasible, want)
		}
		if res.LowerBound == nil || *res.LowerBound > float64(want)+1e-9 {
			t.Fatalf("model %d: lower bound %v above the optimum %d", i, res.LowerBound, want)
		}
		ev := mustEvaluate(t, m, res.Roster)
		if ev.Penalty != res.Penalty || ev.Feasible != res.Feasible {
			t.Fatalf("result disagrees with Evaluate")
		}
	}
}

func TestSolveIsDeterministicWithOneThread(t *testing.T) {
	m := GenerateModel(GenerateSpec{Employees: 12, Days: 14, ShiftTypes: 3, Seed: 4})
	run := func(seed uint64) *Result {
		res, err := Solve(context.Background(), m, Options{MaxSteps: 400, Threads: 1, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := run(7), run(7)
	if a.Penalty != b.Penalty || !reflect.DeepEqual(a.Roster, b.Roster) {
		t.Fatalf("same seed, different results: %d vs %d", a.Penalty, b.Penalty)
	}
	if a.Steps != b.Steps {
		t.Fatalf("steps %d and %d", a.Steps, b.Steps)
	}
}

func TestSolveHonoursCancellation(t *testing.T) {
	m := GenerateModel(GenerateSpec{Employees: 150, Days: 28, ShiftTypes: 6, Seed: 1})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	began := time.Now()
	res, err := Solve(ctx, m, Options{Threads: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// The contract is 100 ms after cancel (measured natively: under 40 ms
	// for this model); leave room for a loaded machine and the race
	// detector here.
	if el := time.Since(began); el > 300*time.Millisecond+raceSlowdown*500*time.Millisecond {
		t.Fatalf("returned %v after the start, cancel was at 300ms", el)
	}
	if len(res.Roster) != 150 {
		t.Fatalf("roster has %d rows", len(res.Roster))
	}
}

// A small staff with weekend limits runs exact-days descents and weekend
// moves on the second worker; cancelling during them still returns at once
// with a roster the evaluator agrees with.
func TestSolveHonoursCancellationInWeekendMoves(t *testing.T) {
	m := GenerateModel(GenerateSpec{Employees: 18, Days: 28, ShiftTypes: 3, Seed: 3})
	p := compile(m)
	if exactDaysK(p, 2, 1) == 0 || !p.weekendLimited() {
		t.Fatal("model does not exercise the descents")
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(1500*time.Millisecond, cancel)
	began := time.Now()
	res, err := Solve(ctx, m, Options{Threads: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(began); el > 1500*time.Millisecond+raceSlowdown*500*time.Millisecond {
		t.Fatalf("returned %v after the start, cancel was at 1.5s", el)
	}
	ev := mustEvaluate(t, m, res.Roster)
	if ev.Penalty != res.Penalty || ev.Feasible != res.Feasible {
		t.Fatalf("result %d/%v, evaluator %d/%v", res.Penalty, res.Feasible, ev.Penalty, ev.Feasible)
	}
}

func TestSolveReportsInfeasibility(t *testing.T) {
	m := oneEmployee(7)
	m.Employees[0].Contract = Contract{MinMinutes: IntPtr(7 * 600 * 2), MaxConsecutiveWork: IntPtr(3)}
	res, err := Solve(context.Background(), m, Options{MaxSteps: 200, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Feasible || res.HardViolations == 0 {
		t.Fatalf("impossible minimum reported feasible: %+v", res)
	}
	found := false
	for _, v := range res.Violations {
		found = found || (v.Hard && v.Rule == RuleMinMinutes && v.Employee == "e")
	}
	if !found {
		t.Fatalf("min_minutes violation not listed: %+v", res.Violations)
	}
}

func TestSolveProgress(t *testing.T) {
	// Large enough that the solver cannot prove an optimum before the limit.
	m := GenerateModel(GenerateSpec{Employees: 100, Days: 28, ShiftTypes: 4, Seed: 2})
	var mu sync.Mutex
	var times []time.Time
	var pens []int64
	res, err := Solve(context.Background(), m, Options{TimeLimit: 3 * time.Second, Threads: 2, Progress: func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		times = append(times, time.Now())
		pens = append(pens, p.BestPenalty+p.HardViolations*hardWeight)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(times) < 2 {
		t.Fatalf("only %d progress reports (optimal %v after %d ms)", len(times), res.Optimal, res.ElapsedMS)
	}
	for i := 1; i < len(times)-1; i++ {
		if gap := times[i].Sub(times[i-1]); gap < 90*time.Millisecond {
			t.Fatalf("reports %d and %d only %v apart", i-1, i, gap)
		}
		if pens[i] > pens[i-1] {
			t.Fatalf("reported best got worse: %d then %d", pens[i-1], pens[i])
		}
	}
	if last := pens[len(pens)-1]; res.Feasible && last != res.Penalty {
		t.Fatalf("final report %d, result %d", last, res.Penalty)
	}
}

func TestSolveRejectsBadInput(t *testing.T) {
	m := validModel()
	m.Cover[0].Shift = "nope"
	_, err := Solve(context.Background(), m, Options{MaxSteps: 1})
	var ve ValidationError
	if !errors.As(err, &ve) || ve[0].Field != "cover[0].shift" {
		t.Fatalf("want a ValidationError naming cover[0].shift, got %v", err)
	}
	if _, err := Solve(context.Background(), validModel(), Options{}); !errors.Is(err, ErrNoTimeLimit) {
		t.Fatalf("no limit: %v", err)
	}
	_, err = Solve(context.Background(), validModel(), Options{MaxSteps: 1, Initial: Roster{"ann": {"D"}}})
	if !errors.As(err, &ve) {
		t.Fatalf("bad initial roster: %v", err)
	}
}

// Re-planning as the approval loop does it: approved leave becomes fixed
// days off, a swap becomes two pins, the previous roster is kept where
// possible through a per-change penalty.
func TestReplanKeepsTheRosterAndHonoursLeaveAndSwaps(t *testing.T) {
	m := GenerateModel(GenerateSpec{Employees: 20, Days: 14, ShiftTypes: 3, Seed: 8})
	base, err := Solve(context.Background(), m, Options{MaxSteps: 1500, Threads: 1, Seed: 3})
	if err != nil || !base.Feasible {
		t.Fatalf("base roster: %v feasible %v", err, base != nil && base.Feasible)
	}
	// Leave: the first employee with three working days off.
	re := *m
	re.Employees = append([]Employee(nil), m.Employees...)
	leaveEmp := re.Employees[0].ID
	var leave []string
	for d, s := range base.Roster[leaveEmp] {
		if s != "" && len(leave) < 3 {
			leave = append(leave, base.Dates[d])
		}
	}
	re.Employees[0].FixedDaysOff = append(append([]string(nil), re.Employees[0].FixedDaysOff...), leave...)
	// Paid leave counts as working time: the re-plan lowers the minimum.
	c := re.Employees[0].Contract
	c.MinMinutes = IntPtr(max(0, *c.MinMinutes-480*len(leave)))
	re.Employees[0].Contract = c
	// Swap: two employees exchange their shifts on day 5 where they differ.
	var a, b string
	for _, e := range re.Employees[1:] {
		for _, f := range re.Employees[1:] {
			if a == "" && e.ID < f.ID && base.Roster[e.ID][5] != base.Roster[f.ID][5] {
				a, b = e.ID, f.ID
			}
		}
	}
	re.Pinned = []Assignment{
		{Employee: a, Date: base.Dates[5], Shift: base.Roster[b][5]},
		{Employee: b, Date: base.Dates[5], Shift: base.Roster[a][5]},
	}
	re.Previous = &Previous{ChangeWeight: 20, Roster: base.Roster}
	res, err := Solve(context.Background(), &re, Options{MaxSteps: 800, Threads: 1, Seed: 3, Initial: base.Roster})
	if err != nil {
		t.Fatal(err)
	}
	dayOf := map[string]int{}
	for i, d := range res.Dates {
		dayOf[d] = i
	}
	for _, d := range leave {
		if s := res.Roster[leaveEmp][dayOf[d]]; s != "" {
			t.Fatalf("%s works %s on leave day %s", leaveEmp, s, d)
		}
	}
	if res.Roster[a][5] != base.Roster[b][5] || res.Roster[b][5] != base.Roster[a][5] {
		t.Fatalf("swap not applied: %s has %q, %s has %q", a, res.Roster[a][5], b, res.Roster[b][5])
	}
	changes := 0
	for id, row := range res.Roster {
		for d := range row {
			if row[d] != base.Roster[id][d] {
				changes++
			}
		}
	}
	// The leave and the swap force 5 changes; repairing around them may
	// take a few more, but re-planning must not rebuild the roster.
	if changes < 5 || changes > 25 {
		t.Fatalf("%d changed assignments", changes)
	}
	if !res.Feasible {
		t.Fatalf("re-planned roster infeasible: %+v", res.Violations)
	}
}

func TestLowerBoundOf(t *testing.T) {
	if lowerBoundOf(math.Inf(-1)) != nil {
		t.Fatal("no bound must give nil")
	}
	if got := *lowerBoundOf(12.34567); got != 12.345 {
		t.Fatalf("rounding down: %v", got)
	}
}

// A simplex stopped short of optimality can hand pricing duals outside
// [-over, under]; the Lagrangian bound must stay at or below the optimum.
func TestLagrangianBoundValidForAnyDuals(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	checked := 0
	for i := 0; i < 6; i++ {
		m := tinyModel(rng)
		want := bruteForce(m)
		if want < 0 {
			continue
		}
		res, err := Solve(context.Background(), m, Options{MaxSteps: 200, Threads: 1, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		p := compile(m)
		w := newWorker(p, nil, 1, 0, p.encode(res.Roster))
		g := w.newColgen(math.MaxInt64 / 4)
		if g == nil {
			continue
		}
		stop := new(atomic.Bool)
		g.lp.solve(50*g.lp.m, stop)
		// With alpha 1 pricing uses these duals as they are.
		g.piBest = make([]float64, g.lp.C)
		for c := range g.piBest {
			g.piBest[c] = g.lp.under[c] + 50 + float64(rng.IntN(500)) // far above any valid dual
		}
		_, bound, ok := g.price(stop, 1)
		if !ok {
			t.Fatalf("model %d: pricing failed", i)
		}
		if bound > float64(want)+1e-9 {
			t.Fatalf("model %d: bound %.3f above the optimum %d", i, bound, want)
		}
		checked++
	}
	if checked < 3 {
		t.Fatalf("only %d models checked", checked)
	}
}

// A dive ends with an integral LP: one row per employee, every forced cell
// kept and every excluded value avoided, and the LP's value equal to the
// penalty of the roster it returns.
func TestDiveReturnsTheRosterOfItsIntegralLP(t *testing.T) {
	dives, excluded := 0, 0
	for seed := uint64(1); seed <= 4; seed++ {
		p, w, g, stop := solvedRoot(t, seed)
		for attempt := 0; attempt < 3; attempt++ {
			if attempt > 0 {
				g.unfixAll()
				g.random = w.rng
			}
			rows, ok := g.dive(stop, nil)
			if !ok {
				t.Fatalf("seed %d: dive ran out of budget", seed)
			}
			if rows == nil {
				continue
			}
			x := make([]uint8, 0, p.E*p.D)
			for e, row := range rows {
				for d, v := range row {
					if f := g.forced[e*p.D+d]; f >= 0 && uint8(f) != v {
						t.Fatalf("seed %d: employee %d day %d is %d, forced %d", seed, e, d, v, f)
					}
					if g.forbid[e*p.D+d]>>v&1 == 1 {
						t.Fatalf("seed %d: employee %d day %d is %d, which its branch excludes", seed, e, d, v)
					}
					if g.forbid[e*p.D+d] != 0 {
						excluded++
					}
				}
				x = append(x, row...)
			}
			st := newState(p, x)
			if lp := g.lp.objective(); math.Abs(lp-float64(st.total)) > 1e-3 {
				t.Fatalf("seed %d: LP value %.3f, roster %d", seed, lp, st.total)
			}
			if float64(st.total) < g.lb-1e-6 {
				t.Fatalf("seed %d: roster %d below the bound %.3f", seed, st.total, g.lb)
			}
			dives++
		}
	}
	if dives < 6 {
		t.Fatalf("only %d dives reached a roster", dives)
	}
	// Later dives start from open branches, which exclude a value.
	if excluded == 0 {
		t.Fatal("no dive ran in an open branch")
	}
}

// Dropping every non-basic column keeps the basis, so the LP keeps its
// value; the rounded roster takes each employee's heaviest column.
func TestCompactKeepsTheBasisAndRoundedTakesHeaviestColumns(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		p, _, g, stop := solvedRoot(t, seed)
		before, n := g.lp.objective(), len(g.lp.cols)
		dropped := g.lp.compact(func(int) bool { return false })
		if len(dropped) == 0 || len(g.lp.cols)+len(dropped) != n {
			t.Fatalf("seed %d: %d of %d columns dropped, %d left", seed, len(dropped), n, len(g.lp.cols))
		}
		g.lp.refactor()
		if !g.lp.solve(50*g.lp.m, stop) || math.Abs(g.lp.objective()-before) > 1e-4 {
			t.Fatalf("seed %d: LP %.4f after compacting, %.4f before", seed, g.lp.objective(), before)
		}
		x := g.rounded()
		for e := 0; e < p.E; e++ {
			best, row := -1.0, []uint8(nil)
			for j := range g.lp.cols {
				if c := &g.lp.cols[j]; c.e == e && g.lp.value(j) > best {
					best, row = g.lp.value(j), c.row
				}
			}
			if best <= 0 || string(row) != string(x[e*p.D:(e+1)*p.D]) {
				t.Fatalf("seed %d: employee %d's rounded row is not its heaviest column (weight %.3f)", seed, e, best)
			}
		}
	}
}

// constructedWorker is a lone worker on m with its first roster built.
func constructedWorker(m *Model, seed uint64) (*problem, *worker, *atomic.Bool) {
	p := compile(m)
	sh := &shared{firstFeasible: -1}
	sh.bestTotal.Store(infCost)
	w := newWorker(p, sh, seed, 0, p.startRoster(nil))
	stop := new(atomic.Bool)
	w.z.stop = stop
	w.construct(stop)
	return p, w, stop
}

// solvedRoot is a worker on a small generated model with its root LP
// solved by column generation.
func solvedRoot(t *testing.T, seed uint64) (*problem, *worker, *colgen, *atomic.Bool) {
	t.Helper()
	p, w, stop := constructedWorker(GenerateModel(GenerateSpec{Employees: 8, Days: 14, ShiftTypes: 2, Seed: seed}), seed)
	g := w.newColgen(math.MaxInt64 / 4)
	if g == nil || !g.optimize(stop, 0, rootGap) {
		t.Fatalf("seed %d: root LP failed", seed)
	}
	return p, w, g, stop
}

// Exact dives are a complete branch and price: diving until no branch is
// left open finds the optimum, whatever roster the search starts from.
// The models are a stretch of a random sequence where forcing the cells
// the LP decides (the inexact dives) misses the optimum on model 58.
func TestExactDivesFindTheOptimum(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	checked := 0
	for i := 0; i < 70; i++ {
		m := tinyModel(rng)
		if i < 50 {
			continue
		}
		want := bruteForce(m)
		if want < 0 {
			continue
		}
		p := compile(m)
		sh := &shared{firstFeasible: -1}
		sh.bestTotal.Store(infCost)
		w := newWorker(p, sh, 1, 0, p.startRoster(nil))
		stop := new(atomic.Bool)
		w.z.stop = stop
		// No construction: the local search's roster would often be the
		// optimum already, and the dives are what is under test.
		g := w.newColgen(math.MaxInt64 / 4)
		if g == nil || !g.optimize(stop, 0, rootGap) {
			t.Fatalf("model %d: root LP failed", i)
		}
		g.exact = true
		got, dives := int64(-1), 0
		for ; dives < 10000; dives++ {
			rows, ok := g.dive(stop, nil)
			if !ok {
				t.Fatalf("model %d: dive ran out of budget", i)
			}
			if rows != nil {
				var x []uint8
				for _, row := range rows {
					x = append(x, row...)
				}
				if total := newState(p, x).total; total < hardWeight && (got < 0 || total < got) {
					got = total
					sh.offer(total, x)
				}
			}
			if len(g.open) == 0 {
				break
			}
		}
		if got != want {
			t.Fatalf("model %d: exact dives found %d after %d dives, optimum %d", i, got, dives+1, want)
		}
		checked++
	}
	if checked < 6 {
		t.Fatalf("only %d models checked", checked)
	}
}

// A window LP re-plans every employee over a few days at once: it never
// makes the roster worse, leaves every day outside its window as it was,
// keeps the state's bookkeeping equal to the evaluator, and improves the
// constructed roster somewhere.
func TestWindowLPReplansItsWindowOnly(t *testing.T) {
	improved := 0
	for seed := uint64(1); seed <= 3; seed++ {
		m := GenerateModel(GenerateSpec{Employees: 12, Days: 28, ShiftTypes: 3, Seed: seed})
		p, w, stop := constructedWorker(m, seed)
		for a := 0; a+minWindowLen <= p.D; a += minWindowLen {
			b := a + minWindowLen - 1
			before := append([]uint8(nil), w.s.x...)
			total := w.s.total
			ok := w.windowLP(stop, a, b, math.MaxInt64/4)
			if ok != (w.s.total < total) || w.s.total > total {
				t.Fatalf("seed %d [%d,%d]: improved %v, total %d -> %d", seed, a, b, ok, total, w.s.total)
			}
			if ok {
				improved++
			}
			for e := 0; e < p.E; e++ {
				for d := 0; d < p.D; d++ {
					if i := e*p.D + d; (d < a || d > b) && w.s.x[i] != before[i] {
						t.Fatalf("seed %d [%d,%d]: employee %d day %d changed outside the window", seed, a, b, e, d)
					}
				}
			}
			ev := mustEvaluate(t, m, p.decode(w.s.x))
			if got := objectiveOf(ev); got != w.s.total {
				t.Fatalf("seed %d: state total %d, evaluator %d", seed, w.s.total, got)
			}
		}
	}
	if improved == 0 {
		t.Fatal("no window LP improved a constructed roster")
	}
	t.Logf("%d window LPs improved", improved)
}

// Two workers re-plan different windows of the same roster: the one that
// finishes second puts its window onto the roster the first one found, so
// the shared best keeps both gains.
func TestWindowLPKeepsAnotherWorkersGains(t *testing.T) {
	combined := 0
	for seed := uint64(1); seed <= 4; seed++ {
		m := GenerateModel(GenerateSpec{Employees: 12, Days: 28, ShiftTypes: 3, Seed: seed})
		p, w1, stop := constructedWorker(m, seed)
		w2 := newWorker(p, w1.sh, seed, 1, w1.s.x)
		w2.z.stop = stop
		start := append([]uint8(nil), w1.s.x...)
		if !w1.windowLP(stop, 0, 6, math.MaxInt64/4) {
			continue
		}
		first := append([]uint8(nil), w1.s.x...)
		firstTotal := w1.s.total
		if !w2.windowLP(stop, 14, 20, math.MaxInt64/4) {
			continue
		}
		best, total := w1.sh.snapshot(nil)
		if total > firstTotal {
			t.Fatalf("seed %d: shared best %d is worse than the first worker's %d", seed, total, firstTotal)
		}
		if got := objectiveOf(mustEvaluate(t, m, p.decode(best))); got != total {
			t.Fatalf("seed %d: shared total %d, evaluator %d", seed, total, got)
		}
		if total == firstTotal {
			continue // the second window did not add to the first one's roster
		}
		for e := 0; e < p.E; e++ {
			for d := 0; d < p.D; d++ {
				i := e*p.D + d
				switch {
				case d <= 6 && best[i] != first[i]:
					t.Fatalf("seed %d: employee %d day %d lost the first worker's window", seed, e, d)
				case d > 6 && (d < 14 || d > 20) && best[i] != start[i]:
					t.Fatalf("seed %d: employee %d day %d changed outside both windows", seed, e, d)
				}
			}
		}
		combined++
	}
	if combined == 0 {
		t.Fatal("no seed combined two windows")
	}
	t.Logf("%d seeds combined both windows", combined)
}

// Window LPs run where the whole LP does not: on problems above
// maxRootCells employee-days or whose LP would not fit; their lengths grow
// from minWindowLen up to what the dense LP holds.
func TestWindowLengths(t *testing.T) {
	small := compile(GenerateModel(GenerateSpec{Employees: 12, Days: 28, ShiftTypes: 3, Seed: 1}))
	w := newWorker(small, nil, 1, 0, small.startRoster(nil))
	w.winWork = 1
	if got := w.firstWindowLen(); got != 0 {
		t.Fatalf("window LPs on a problem the whole LP handles: first length %d", got)
	}
	p := compile(GenerateModel(GenerateSpec{Employees: 100, Days: 28, ShiftTypes: 3, Seed: 1}))
	w = newWorker(p, nil, 1, 0, p.startRoster(nil))
	if got := w.firstWindowLen(); got != 0 {
		t.Fatalf("without a budget window LPs run: first length %d", got)
	}
	w.winWork = 1
	if got := w.firstWindowLen(); got != minWindowLen {
		t.Fatalf("first window length %d, want %d", got, minWindowLen)
	}
	cellsPerDay := int(p.dsStart[p.V] - p.dsStart[0])
	want := min(p.D, (maxMasterRows-p.E)/cellsPerDay)
	if got := w.maxWindowLen(); got != want {
		t.Fatalf("max window length %d, want %d", got, want)
	}
	// A week's window over many employees and shift types is too large a
	// master to pay: no window LPs.
	big := compile(GenerateModel(GenerateSpec{Employees: 250, Days: 56, ShiftTypes: 8, Seed: 1}))
	w = newWorker(big, nil, 1, 0, big.startRoster(nil))
	w.winWork = 1
	if rows := big.E + w.windowCells(minWindowLen); rows <= maxFirstWindowRows {
		t.Fatalf("test model's first window has %d rows, want over %d", rows, maxFirstWindowRows)
	}
	if got := w.firstWindowLen(); got != 0 {
		t.Fatalf("window LPs over a %d-row master: first length %d", big.E+w.windowCells(minWindowLen), got)
	}
}

// On a small staff without weekend limits the last of several workers
// stays on local search; every other worker, every worker of a larger
// staff, and every worker where weekends are limited gets window LPs.
func TestWindowWork(t *testing.T) {
	opt := Options{TimeLimit: 10 * time.Second}
	for _, tt := range []struct {
		staff, threads int
		weekends       bool
		none           []int // workers without window LPs
	}{
		{40, 1, false, nil},
		{40, 2, false, []int{1}},
		{40, 4, false, []int{3}},
		{lsOnlyStaff, 2, false, []int{1}},
		{lsOnlyStaff + 1, 2, false, nil},
		{120, 4, false, nil},
		{40, 2, true, nil},
		{lsOnlyStaff, 4, true, nil},
	} {
		p := &problem{E: tt.staff, maxWE: make([]int32, tt.staff)}
		for e := range p.maxWE {
			p.maxWE[e] = noLimit
			if tt.weekends && e == 0 {
				p.maxWE[e] = 2
			}
		}
		for i := 0; i < tt.threads; i++ {
			got := windowWork(p, opt, tt.threads, i)
			if slices.Contains(tt.none, i) != (got == 0) {
				t.Fatalf("%d employees, %d threads: worker %d window work %d, want none for %v", tt.staff, tt.threads, i, got, tt.none)
			}
		}
	}
}

// Over half a year the ruin windows shorten when mixed shift lengths widen
// the window DP's minutes dimension; shorter horizons and equal lengths keep
// theirs.
func TestScaledWindowLengths(t *testing.T) {
	for _, tc := range []struct {
		days    int
		lengths []int
		units   int // longest length / gcd
		winMax  int
	}{
		{28, []int{480, 600, 720}, 6, defaultParams.winMax},
		{84, []int{480, 480, 480}, 1, 28},
		{84, []int{480, 600, 720}, 6, 28},
		{182, []int{480, 480, 480}, 1, 28},
		{182, []int{480, 720, 480}, 3, 14},
		{364, []int{480, 480, 480}, 1, 28},
		{364, []int{480, 600, 720}, 6, 14},
		{364, []int{420, 480, 720}, 12, 14},
	} {
		m := GenerateModel(GenerateSpec{Employees: 10, Days: tc.days, ShiftTypes: len(tc.lengths), Seed: 1})
		for i, l := range tc.lengths {
			m.ShiftTypes[i].LengthMinutes = l
		}
		p := compile(m)
		if got := p.maxLengthUnits(); got != tc.units {
			t.Errorf("%d days, lengths %v: %d length units, want %d", tc.days, tc.lengths, got, tc.units)
		}
		prm := defaultParams.scaled(p)
		if prm.winMax != tc.winMax {
			t.Errorf("%d days, lengths %v: longest ruin window %d, want %d", tc.days, tc.lengths, prm.winMax, tc.winMax)
		}
		if prm.winMin > prm.winMax {
			t.Errorf("%d days, lengths %v: window bounds %d > %d", tc.days, tc.lengths, prm.winMin, prm.winMax)
		}
	}
}

// An exact-days move finds the best roster that differs from the current
// one only on the free days (brute force over those days), and with every
// day free the optimum.
func TestExactDaysMoveIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	checked, gained := 0, 0
	for i := 0; i < 12; i++ {
		m := tinyModel(rng)
		p := compile(m)
		// A random roster without hard violations: the row DP builds only
		// such rows, so on days kept fixed the start must be one.
		_, feasible := everyRoster(p)
		if len(feasible) == 0 {
			continue
		}
		start := feasible[rng.IntN(len(feasible))]
		free := make([]bool, p.D)
		for d := range free {
			free[d] = i%3 == 0 || rng.IntN(3) > 0
		}
		// The best roster agreeing with start outside the free days.
		want := newState(p, start).total
		var cells []int
		for e := 0; e < p.E; e++ {
			for d := 0; d < p.D; d++ {
				if free[d] {
					cells = append(cells, e*p.D+d)
				}
			}
		}
		x := append([]uint8(nil), start...)
		for code := 0; code < 1<<len(cells); code++ {
			for k, c := range cells {
				x[c] = uint8(code >> k & 1)
			}
			want = min(want, newState(p, x).total)
		}
		sh := &shared{}
		sh.bestTotal.Store(infCost)
		w := newWorker(p, sh, 7, 0, start)
		before := w.s.total
		improved := w.exactDaysMove(new(atomic.Bool), free)
		if w.s.total != want {
			t.Fatalf("model %d (free %v): move ended at %d, best on those days is %d (start %d)", i, free, w.s.total, want, before)
		}
		if improved != (want < before) {
			t.Fatalf("model %d: improved = %v, start %d, end %d", i, improved, before, w.s.total)
		}
		if i%3 == 0 {
			if opt := bruteForce(m); opt >= 0 && w.s.total != opt {
				t.Fatalf("model %d: every day free ended at %d, optimum %d", i, w.s.total, opt)
			}
		}
		checked++
		if improved {
			gained++
		}
	}
	if checked < 10 || gained < 3 {
		t.Fatalf("%d models checked, %d improved by the move: too few to tell", checked, gained)
	}
}

// A weekend move finds the best roster in which the employees it does not
// free keep their weekend days worked or off (brute force), and with every
// employee free the optimum.
func TestWeekendMoveIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	checked, gained := 0, 0
	for i := 0; i < 16; i++ {
		m := tinyModel(rng)
		p := compile(m)
		if !p.weekendLimited() {
			t.Fatal("tinyModel has weekend limits")
		}
		all, feasible := everyRoster(p)
		if len(feasible) == 0 {
			continue
		}
		start := feasible[rng.IntN(len(feasible))]
		free := make([]bool, p.E)
		for e := range free {
			free[e] = i%4 == 0 || rng.IntN(2) == 0
		}
		keeps := func(x []uint8) bool {
			for e := 0; e < p.E; e++ {
				for d := 0; d < p.D; d++ {
					if !free[e] && p.weekendOf[d] >= 0 && (x[e*p.D+d] == 0) != (start[e*p.D+d] == 0) {
						return false
					}
				}
			}
			return true
		}
		want := newState(p, start).total
		for _, x := range all {
			if keeps(x) {
				want = min(want, newState(p, x).total)
			}
		}
		sh := &shared{}
		sh.bestTotal.Store(infCost)
		w := newWorker(p, sh, 9, 0, start)
		before := w.s.total
		improved := w.weekendMove(new(atomic.Bool), free)
		if w.s.total != want {
			t.Fatalf("model %d (free %v): move ended at %d, best keeping the other weekends is %d (start %d)", i, free, w.s.total, want, before)
		}
		if !keeps(w.s.x) {
			t.Fatalf("model %d: the move changed the weekends of an employee it did not free", i)
		}
		if improved != (want < before) {
			t.Fatalf("model %d: improved = %v, start %d, end %d", i, improved, before, w.s.total)
		}
		if i%4 == 0 {
			if opt := bruteForce(m); w.s.total != opt {
				t.Fatalf("model %d: every employee free ended at %d, optimum %d", i, w.s.total, opt)
			}
		}
		checked++
		if improved {
			gained++
		}
	}
	if checked < 10 || gained < 3 {
		t.Fatalf("%d models checked, %d improved by the move: too few to tell", checked, gained)
	}
}

// everyRoster enumerates the rosters of a one-shift problem, and those
// without hard violations.
func everyRoster(p *problem) (all, feasible [][]uint8) {
	for code := 0; code < 1<<(p.E*p.D); code++ {
		x := make([]uint8, p.E*p.D)
		for j := range x {
			x[j] = uint8(code >> j & 1)
		}
		all = append(all, x)
		if newState(p, x).total < hardWeight {
			feasible = append(feasible, x)
		}
	}
	return all, feasible
}
