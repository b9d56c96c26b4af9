package roster

import (
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
