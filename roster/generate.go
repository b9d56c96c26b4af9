package roster

import (
	"fmt"
	"math/rand/v2"
)

// GenerateSpec sizes a generated rostering problem.
type GenerateSpec struct {
	Employees  int
	Days       int
	ShiftTypes int // 1..8
	Seed       uint64
}

var generatedShifts = []ShiftType{
	{ID: "E", Name: "early", Start: "06:00", LengthMinutes: 480},
	{ID: "D", Name: "day", Start: "08:00", LengthMinutes: 480},
	{ID: "L", Name: "late", Start: "14:00", LengthMinutes: 480},
	{ID: "N", Name: "night", Start: "22:00", LengthMinutes: 480, Night: true},
	{ID: "LD", Name: "long day", Start: "08:00", LengthMinutes: 720},
	{ID: "TW", Name: "twilight", Start: "17:00", LengthMinutes: 420},
	{ID: "M", Name: "mid", Start: "11:00", LengthMinutes: 480},
	{ID: "LN", Name: "long night", Start: "20:00", LengthMinutes: 720, Night: true},
}

// GenerateModel builds a realistic, feasible problem of the given size:
// full- and part-time contracts, an 11-hour minimum rest, a senior skill
// with its own cover, night limits, fixed days off and requests. The same
// spec always gives the same model.
func GenerateModel(spec GenerateSpec) *Model {
	rng := rand.New(rand.NewPCG(spec.Seed, 0x5eed))
	S := min(max(spec.ShiftTypes, 1), len(generatedShifts))
	m := &Model{
		Name:         fmt.Sprintf("generated-%dx%dx%d-seed%d", spec.Employees, spec.Days, S, spec.Seed),
		StartDate:    "2025-01-06",
		Days:         spec.Days,
		MinRestHours: 11,
	}
	for i := 0; i < S; i++ {
		st := generatedShifts[i]
		st.ForbiddenSuccessors = nil
		m.ShiftTypes = append(m.ShiftTypes, st)
	}
	dates := m.Dates()
	weeks := float64(spec.Days) / 7
	capacity := 0.0 // shifts the staff can work over the horizon
	for i := 0; i < spec.Employees; i++ {
		e := Employee{ID: fmt.Sprintf("e%04d", i), Skills: []string{"nurse"}}
		if rng.IntN(5) == 0 {
			e.Skills = append(e.Skills, "senior")
		}
		var perWeek int // shifts per week
		switch rng.IntN(10) {
		case 0, 1:
			perWeek = 3
			e.Group = "part-time"
		default:
			perWeek = 5
			e.Group = "full-time"
		}
		target := int(float64(perWeek*480) * weeks)
		e.Contract = Contract{
			MinMinutes:         IntPtr(target - 960),
			MaxMinutes:         IntPtr(target + 480),
			MaxWeeklyMinutes:   IntPtr(perWeek*480 + 960),
			MaxShifts:          map[string]int{},
			MinConsecutiveWork: IntPtr(2),
			MaxConsecutiveWork: IntPtr(5 + rng.IntN(2)),
			MinConsecutiveOff:  IntPtr(2),
			MaxWeekends:        IntPtr(max(1, int(weeks*0.6+0.5))),
		}
		for _, st := range m.ShiftTypes {
			if st.Night {
				e.Contract.MaxShifts[st.ID] = int(weeks*2 + 0.5)
				if rng.IntN(6) == 0 {
					e.Contract.MaxShifts[st.ID] = 0
				}
			}
		}
		for k := 0; k < spec.Days/14; k++ {
			e.FixedDaysOff = append(e.FixedDaysOff, dates[rng.IntN(spec.Days)])
		}
		capacity += float64(target) / 480 * 0.93
		m.Employees = append(m.Employees, e)
	}
	// Spread demand over the shift types so it uses about 90% of capacity.
	perDay := capacity / float64(spec.Days)
	weights := make([]float64, S)
	total := 0.0
	for i := range weights {
		weights[i] = 1
		if m.ShiftTypes[i].Night || m.ShiftTypes[i].LengthMinutes != 480 {
			weights[i] = 0.5
		}
		total += weights[i]
	}
	for d, date := range dates {
		weekend := d%7 >= 5
		for i, st := range m.ShiftTypes {
			req := perDay * 0.9 * weights[i] / total
			if weekend {
				req *= 0.8
			}
			n := int(req + rng.Float64())
			m.Cover = append(m.Cover, Cover{Date: date, Shift: st.ID, Requirement: n, UnderWeight: 100, OverWeight: 1})
			if seniors := n / 8; seniors > 0 {
				m.Cover = append(m.Cover, Cover{Date: date, Shift: st.ID, Skill: "senior", Requirement: seniors, UnderWeight: 50, OverWeight: 0})
			}
		}
	}
	for i := range m.Employees {
		for k := 0; k < spec.Days/7; k++ {
			q := Request{Employee: m.Employees[i].ID, Date: dates[rng.IntN(spec.Days)], Weight: 1 + rng.IntN(3)}
			if rng.IntN(2) == 0 {
				q.Kind = RequestOff
			} else {
				q.Kind = RequestOn
				q.Shift = m.ShiftTypes[rng.IntN(S)].ID
			}
			m.Requests = append(m.Requests, q)
		}
	}
	return m
}
