package roster

import (
	"math"
	"slices"
	"sync/atomic"
	"testing"
)

// transferModel is one employee over four weeks (Monday start) who works
// where no cover is needed (over-cover costs nothing) and is at a limit,
// while a later cell is short: taking it means giving up the earlier work.
func transferModel(limit string) (*Model, Roster) {
	m := &Model{Name: "transfer", StartDate: "2025-03-03", Days: 28,
		ShiftTypes: []ShiftType{{ID: "D", LengthMinutes: 480}, {ID: "N", LengthMinutes: 480}}}
	c := Contract{MaxShifts: map[string]int{}}
	row := make([]string, 28)
	var short []int
	switch limit {
	case "weekends": // works weekend 0, weekend 3 is short
		c.MaxWeekends = IntPtr(1)
		row[5], row[6] = "D", "D"
		short = []int{26, 27}
	case "type": // one night allowed, worked on day 2; day 22 needs one
		c.MaxShifts["N"] = 1
		row[2] = "N"
		short = []int{22}
	case "minutes": // one shift's minutes, worked on day 2; day 22 needs one
		c.MaxMinutes = IntPtr(480)
		row[2] = "D"
		short = []int{22}
	}
	m.Employees = []Employee{{ID: "A", Contract: c}}
	dates := m.Dates()
	shift := "D"
	if limit == "type" {
		shift = "N"
	}
	for d := 0; d < 28; d++ {
		for _, st := range m.ShiftTypes {
			req := 0
			for _, s := range short {
				if s == d && st.ID == shift {
					req = 1
				}
			}
			m.Cover = append(m.Cover, Cover{Date: dates[d], Shift: st.ID, Requirement: req, UnderWeight: 100})
		}
	}
	return m, Roster{"A": row}
}

// A transfer move takes a short cell for an employee at its weekend, type
// or minutes limit by giving up the same resource weeks away, which no
// single-window move can do without breaking the limit or losing cover.
func TestTransferMoveTradesALimitForAShortCell(t *testing.T) {
	for _, limit := range []string{"weekends", "type", "minutes"} {
		t.Run(limit, func(t *testing.T) {
			m, r := transferModel(limit)
			p := compile(m)
			sh := &shared{firstFeasible: -1}
			sh.bestTotal.Store(infCost)
			w := newWorker(p, sh, 1, 0, p.encode(r))
			start := w.s.total
			// Window moves alone cannot improve this roster.
			for i := 0; i < 200; i++ {
				a, b := w.randomWindow(5, 14)
				saved := append([]uint8(nil), w.s.x...)
				if w.reoptWindow(0, a, b) < 0 {
					t.Fatalf("a window move on days %d-%d improved %d by itself", a, b, start)
				}
				w.s = newState(p, saved)
			}
			w.prm.noise, w.noise, w.temp = 0, 0, 0
			for i := 0; i < 200 && w.s.total >= start; i++ {
				w.transferMove()
				if full := newState(p, w.s.x).total; full != w.s.total {
					t.Fatalf("incremental total %d, recomputed %d", w.s.total, full)
				}
			}
			if w.s.total >= start {
				t.Fatalf("no transfer improved the roster (total %d)", start)
			}
			ev := mustEvaluate(t, m, p.decode(w.s.x))
			if !ev.Feasible {
				t.Fatalf("transfer broke a hard rule: %+v", ev.Violations)
			}
			if got := objectiveOf(ev); got != w.s.total {
				t.Fatalf("state total %d, evaluator %d", w.s.total, got)
			}
			t.Logf("%s: %d -> %d, row %v", limit, start, w.s.total, p.decode(w.s.x)["A"])
		})
	}
}

// weekendModel is one employee over eight weeks (Monday start) who may
// work maxWE weekends, with cover on the given weekend days: demand[k] of
// one shift on each day of weekend k.
func weekendModel(maxWE int, demand []int) *Model {
	m := &Model{Name: "weekends", StartDate: "2025-03-03", Days: 56,
		ShiftTypes: []ShiftType{{ID: "D", LengthMinutes: 480}}}
	m.Employees = []Employee{{ID: "A", Contract: Contract{MaxWeekends: IntPtr(maxWE)}}}
	dates := m.Dates()
	for d := 0; d < 56; d++ {
		req := 0
		if d%7 >= 5 {
			req = demand[d/7]
		}
		m.Cover = append(m.Cover, Cover{Date: dates[d], Shift: "D", Requirement: req, UnderWeight: 100, OverWeight: 1})
	}
	return m
}

// A row built window by window gets a share of its weekends that follows
// the weekends' cover demand: with the busy weekends at the end, the first
// half of the horizon gets a quarter of them, not half.
func TestProratedWeekendsFollowDemand(t *testing.T) {
	for _, tc := range []struct {
		name   string
		demand []int
		want   int32
	}{
		{"back-loaded", []int{1, 1, 1, 1, 3, 3, 3, 3}, 1}, // ceil(4 * 8/32)
		{"even", []int{2, 2, 2, 2, 2, 2, 2, 2}, 2},
		{"no demand: by count", []int{0, 0, 0, 0, 0, 0, 0, 0}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := compile(weekendModel(4, tc.demand))
			sh := &shared{firstFeasible: -1}
			w := newWorker(p, sh, 1, 0, make([]uint8, p.E*p.D))
			if got := w.prorated(0, 27).maxWE; got != tc.want {
				t.Fatalf("weekends allowed in the first four weeks: %d, want %d", got, tc.want)
			}
		})
	}
}

// shortCell samples the short cells uniformly. Two short cells on
// consecutive days after a long covered stretch: taking the first short
// cell after a random start would pick the first of them nearly always.
func TestShortCellIsUniform(t *testing.T) {
	m := weekendModel(8, []int{0, 0, 0, 0, 0, 0, 1, 0})
	p := compile(m)
	w := newWorker(p, &shared{firstFeasible: -1}, 7, 0, make([]uint8, p.E*p.D))
	seen := map[int]int{}
	const n = 4000
	for i := 0; i < n; i++ {
		d, v, ok := w.shortCell()
		if !ok || v != 1 {
			t.Fatalf("shortCell = %d, %d, %v", d, v, ok)
		}
		seen[d]++
	}
	if len(seen) != 2 || seen[47] < n*2/5 || seen[48] < n*2/5 {
		t.Fatalf("short days sampled %v in %d draws, want days 47 and 48 about equally", seen, n)
	}
}

// At its weekend limit, a transfer gives up the weekend whose cover needs
// the employee least: here weekend 1 (nobody needed) rather than weekend 0
// (both days short without it), to take the short weekend 6.
func TestTransferGivesUpTheLeastNeededWeekend(t *testing.T) {
	m := weekendModel(2, []int{1, 0, 0, 0, 0, 0, 1, 0})
	p := compile(m)
	row := make([]string, 56)
	row[5], row[6], row[12], row[13] = "D", "D", "D", "D"
	for seed := uint64(1); seed <= 20; seed++ {
		w := newWorker(p, &shared{firstFeasible: -1}, seed, 0, p.encode(Roster{"A": row}))
		w.prm.noise, w.noise, w.temp = 0, 0, 0
		start := w.s.total
		for i := 0; i < 200 && w.s.total >= start; i++ {
			w.transferMove()
		}
		got := p.decode(w.s.x)["A"]
		if w.s.total >= start || got[5] == "" || got[6] == "" || got[12] != "" || got[13] != "" {
			t.Fatalf("seed %d: total %d -> %d, row %v: want weekend 0 kept, weekend 1 given up", seed, start, w.s.total, got)
		}
	}
}

// oneWeekendModel is four weeks (Monday start) of one shift type and two
// employees, A and B, who may each work one weekend; the given days need
// one of them (under-cover 100, over-cover 1), the others nobody.
func oneWeekendModel(name string, needed ...int) *Model {
	m := &Model{Name: name, StartDate: "2025-03-03", Days: 28,
		ShiftTypes: []ShiftType{{ID: "D", LengthMinutes: 480}}}
	for _, id := range []string{"A", "B"} {
		m.Employees = append(m.Employees, Employee{ID: id, Contract: Contract{MaxWeekends: IntPtr(1)}})
	}
	dates := m.Dates()
	for d := 0; d < 28; d++ {
		req := 0
		if slices.Contains(needed, d) {
			req = 1
		}
		m.Cover = append(m.Cover, Cover{Date: dates[d], Shift: "D", Requirement: req, UnderWeight: 100, OverWeight: 1})
	}
	return m
}

// Two half weekends join: A works Saturday and B Sunday of weekend 0,
// each at a one-weekend limit, while weekend 3 has nobody. A takes B's
// Sunday and B takes weekend 3. No window move improves the start (each
// row alone would give up a covered day for at most as much cover).
func TestMergeWeekendJoinsTwoHalves(t *testing.T) {
	m := oneWeekendModel("merge", 5, 6, 26, 27)
	a, b := make([]string, 28), make([]string, 28)
	a[5], b[6] = "D", "D"
	p := compile(m)
	for seed := uint64(1); seed <= 20; seed++ {
		w := newWorker(p, &shared{firstFeasible: -1}, seed, 0, p.encode(Roster{"A": a, "B": b}))
		w.prm.noise, w.noise, w.temp = 0, 0, 0
		start := w.s.total
		if seed == 1 {
			for e := 0; e < 2; e++ {
				for i := 0; i < 200; i++ {
					lo, hi := w.randomWindow(5, 14)
					saved := append([]uint8(nil), w.s.x...)
					if w.reoptWindow(e, lo, hi) < 0 {
						t.Fatalf("a window move of employee %d on days %d-%d improved %d by itself", e, lo, hi, start)
					}
					w.s = newState(p, saved)
				}
			}
		}
		for i := 0; i < 50 && w.s.total > 0; i++ {
			w.mergeWeekendMove()
			if full := newState(p, w.s.x).total; full != w.s.total {
				t.Fatalf("seed %d: incremental total %d, recomputed %d", seed, w.s.total, full)
			}
		}
		got := p.decode(w.s.x)
		ev := mustEvaluate(t, m, got)
		if !ev.Feasible || w.s.total != 0 {
			t.Fatalf("seed %d: total %d -> %d, rows A %v B %v: want every weekend cell covered", seed, start, w.s.total, got["A"], got["B"])
		}
	}
}

// A weekend LP re-plans every employee's weekends at once with the
// weekdays fixed. A and B may each work one weekend; both work the first
// while the last is short. Moving one of them there takes both weekends in
// one LP: a two-week window of one row cannot reach from one to the other.
// On generated models it never makes the roster worse, never touches a
// weekday, and keeps the state equal to the evaluator.
func TestWeekendLPMovesWeekendsAndKeepsWeekdays(t *testing.T) {
	m := oneWeekendModel("weekends", 1, 2, 5, 6, 26, 27)
	a, b := make([]string, 28), make([]string, 28)
	a[5], a[6], b[5], b[6] = "D", "D", "D", "D"
	b[1], b[2] = "D", "D"
	p := compile(m)
	for seed := uint64(1); seed <= 5; seed++ {
		sh := &shared{firstFeasible: -1}
		sh.bestTotal.Store(infCost)
		w := newWorker(p, sh, seed, 0, p.encode(Roster{"A": a, "B": b}))
		free, _, lo, hi := w.weekendSet()
		if lo != 5 || hi != 27 || len(free) != 28 {
			t.Fatalf("weekend set %v over days %d-%d, want the four weekends 5-27", free, lo, hi)
		}
		for d, f := range free {
			if f != (d%7 == 5 || d%7 == 6) {
				t.Fatalf("day %d free %v", d, f)
			}
		}
		start := w.s.total
		if !w.windowLPDays(new(atomic.Bool), lo, hi, free, math.MaxInt64/4) {
			t.Fatalf("seed %d: the weekend LP found nothing from %d", seed, start)
		}
		got := p.decode(w.s.x)
		if w.s.total != 0 || got["B"][1] != "D" || got["B"][2] != "D" {
			t.Fatalf("seed %d: total %d -> %d, rows A %v B %v: want one of them moved to the last weekend", seed, start, w.s.total, got["A"], got["B"])
		}
	}

	improved := 0
	for seed := uint64(1); seed <= 3; seed++ {
		m := GenerateModel(GenerateSpec{Employees: 15, Days: 28, ShiftTypes: 3, Seed: seed})
		p, w, stop := constructedWorker(m, seed)
		if !w.weekendLPs {
			t.Fatal("generated models limit weekends: weekend LPs should be on")
		}
		for i := 0; i < 4; i++ {
			free, _, lo, hi := w.weekendSet()
			if free == nil {
				t.Fatalf("seed %d: no weekend set", seed)
			}
			before := append([]uint8(nil), w.s.x...)
			total := w.s.total
			ok := w.windowLPDays(stop, lo, hi, free, math.MaxInt64/4)
			if ok != (w.s.total < total) || w.s.total > total {
				t.Fatalf("seed %d: improved %v, total %d -> %d", seed, ok, total, w.s.total)
			}
			if ok {
				improved++
			}
			for i := range before {
				if d := i % p.D; !free[d] && w.s.x[i] != before[i] {
					t.Fatalf("seed %d: employee %d changed on weekday %d", seed, i/p.D, d)
				}
			}
			if got := objectiveOf(mustEvaluate(t, m, p.decode(w.s.x))); got != w.s.total {
				t.Fatalf("seed %d: state total %d, evaluator %d", seed, w.s.total, got)
			}
		}
	}
	if improved == 0 {
		t.Fatal("no weekend LP improved a constructed roster")
	}
	t.Logf("%d weekend LPs improved", improved)
}
