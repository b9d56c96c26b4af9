package roster

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// randomModel builds a small model exercising every feature: skills, cover
// by skill, weekly limits, a rest rule, soft and hard rules, pins, a
// previous roster and fairness. The horizon may start on any weekday.
func randomModel(rng *rand.Rand) *Model {
	E, D, S := 2+rng.IntN(5), 5+rng.IntN(20), 1+rng.IntN(4)
	start := []string{"2025-03-03", "2025-03-05", "2025-03-08", "2025-03-09"}[rng.IntN(4)]
	m := &Model{Name: "random", StartDate: start, Days: D}
	if rng.IntN(2) == 0 {
		m.MinRestHours = 11
	}
	starts := []string{"06:00", "14:00", "22:00", "09:00"}
	for s := 0; s < S; s++ {
		st := ShiftType{ID: fmt.Sprintf("s%d", s), Start: starts[s], LengthMinutes: []int{480, 600, 720, 450}[rng.IntN(4)], Night: s == 2}
		if rng.IntN(4) == 0 {
			st.RequiredSkills = []string{"senior"}
		}
		m.ShiftTypes = append(m.ShiftTypes, st)
	}
	for s := range m.ShiftTypes {
		for t := range m.ShiftTypes {
			if rng.IntN(4) == 0 {
				m.ShiftTypes[s].ForbiddenSuccessors = append(m.ShiftTypes[s].ForbiddenSuccessors, m.ShiftTypes[t].ID)
			}
		}
	}
	dates := m.Dates()
	opt := func(lo, hi int) *int {
		if rng.IntN(4) == 0 {
			return nil
		}
		return IntPtr(lo + rng.IntN(hi-lo+1))
	}
	for e := 0; e < E; e++ {
		emp := Employee{ID: fmt.Sprintf("E%d", e), Group: []string{"", "a"}[rng.IntN(2)]}
		if rng.IntN(2) == 0 {
			emp.Skills = []string{"senior"}
		}
		c := Contract{
			MinConsecutiveWork: opt(1, 3),
			MaxConsecutiveWork: opt(3, 6),
			MinConsecutiveOff:  opt(1, 3),
			MaxWeekends:        opt(0, 3),
			MinWeeklyMinutes:   opt(0, 1500),
			MaxWeeklyMinutes:   opt(1500, 3000),
			MaxShifts:          map[string]int{},
		}
		if c.MinConsecutiveWork != nil && c.MaxConsecutiveWork != nil && *c.MinConsecutiveWork > *c.MaxConsecutiveWork {
			c.MinConsecutiveWork = c.MaxConsecutiveWork
		}
		lo := rng.IntN(D * 300)
		c.MinMinutes, c.MaxMinutes = IntPtr(lo), IntPtr(lo+rng.IntN(2000))
		if rng.IntN(4) == 0 {
			c.MinMinutes = nil
		}
		for _, st := range m.ShiftTypes {
			if rng.IntN(3) == 0 {
				c.MaxShifts[st.ID] = rng.IntN(D / 2)
			}
		}
		emp.Contract = c
		for k := 0; k < rng.IntN(3); k++ {
			emp.FixedDaysOff = append(emp.FixedDaysOff, dates[rng.IntN(D)])
		}
		m.Employees = append(m.Employees, emp)
	}
	for d := 0; d < D; d++ {
		for _, st := range m.ShiftTypes {
			m.Cover = append(m.Cover, Cover{Date: dates[d], Shift: st.ID, Requirement: rng.IntN(3), UnderWeight: 100, OverWeight: rng.IntN(3)})
			if rng.IntN(5) == 0 {
				m.Cover = append(m.Cover, Cover{Date: dates[d], Shift: st.ID, Skill: "senior", Requirement: 1, UnderWeight: 30, OverWeight: 0})
			}
		}
	}
	for k := 0; k < E*D/4; k++ {
		q := Request{Employee: m.Employees[rng.IntN(E)].ID, Date: dates[rng.IntN(D)], Weight: 1 + rng.IntN(3),
			Kind: []string{RequestOn, RequestOff}[rng.IntN(2)]}
		if rng.IntN(3) > 0 {
			q.Shift = m.ShiftTypes[rng.IntN(S)].ID
		}
		m.Requests = append(m.Requests, q)
	}
	pinned := map[[2]string]bool{}
	for k := 0; k < rng.IntN(3); k++ {
		p := Assignment{Employee: m.Employees[rng.IntN(E)].ID, Date: dates[rng.IntN(D)]}
		if rng.IntN(2) == 0 {
			p.Shift = m.ShiftTypes[rng.IntN(S)].ID
		}
		if pinned[[2]string{p.Employee, p.Date}] {
			continue
		}
		pinned[[2]string{p.Employee, p.Date}] = true
		m.Pinned = append(m.Pinned, p)
	}
	if rng.IntN(2) == 0 {
		m.Previous = &Previous{ChangeWeight: 1 + rng.IntN(5), Roster: Roster{}}
		for _, e := range m.Employees[:E/2+1] {
			m.Previous.Roster[e.ID] = randomRow(rng, m, D)
		}
	}
	soft := func() *Rule {
		switch rng.IntN(3) {
		case 0:
			return nil
		case 1:
			return &Rule{Hard: true}
		default:
			return &Rule{Hard: false, Weight: rng.IntN(20)}
		}
	}
	m.Rules = Rules{Rotation: soft(), MaxShiftsPerType: soft(), MinMinutes: soft(), MaxMinutes: soft(),
		MinWeeklyMinutes: soft(), MaxWeeklyMinutes: soft(), MinConsecutiveWork: soft(), MaxConsecutiveWork: soft(),
		MinConsecutiveOff: soft(), MaxWeekends: soft(), FixedDaysOff: soft(), Pinned: soft(), Skills: soft()}
	// Hard pins on hard fixed days off are rejected by Validate: make pins soft then.
	if rng.IntN(2) == 0 {
		m.Fairness = &Fairness{MinutesWeight: rng.IntN(3), WeekendsWeight: rng.IntN(3), NightsWeight: rng.IntN(3)}
	}
	if len(m.Validate()) > 0 {
		m.Rules.Pinned = &Rule{Weight: 7}
	}
	return m
}

func randomRow(rng *rand.Rand, m *Model, D int) []string {
	row := make([]string, D)
	for d := range row {
		if rng.IntN(2) == 0 {
			row[d] = m.ShiftTypes[rng.IntN(len(m.ShiftTypes))].ID
		}
	}
	return row
}

func randomRoster(rng *rand.Rand, m *Model) Roster {
	_, D := m.Horizon()
	r := Roster{}
	for _, e := range m.Employees {
		r[e.ID] = randomRow(rng, m, D)
	}
	return r
}

// objectiveOf converts an independent evaluation into the search objective
// (hardWeight per unit of hard violation plus the penalty).
func objectiveOf(ev *Evaluation) int64 {
	total := ev.Penalty
	for _, v := range ev.Violations {
		if !v.Hard {
			continue
		}
		units := int64(v.Amount) * 8
		if v.Unit == UnitMinutes {
			units = startedHours(v.Amount)
		}
		total += units * hardWeight
	}
	return total
}

func mustValid(t testing.TB, m *Model) {
	t.Helper()
	if errs := m.Validate(); len(errs) > 0 {
		t.Fatalf("model invalid: %v", ValidationError(errs))
	}
}

func mustEvaluate(t testing.TB, m *Model, r Roster) *Evaluation {
	t.Helper()
	ev, err := Evaluate(m, r)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return ev
}
