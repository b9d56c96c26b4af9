package roster_test

import (
	"context"
	"fmt"

	"github.com/shiftflow/shiftflow/roster"
)

// A two-person week with one day shift to cover each day: the solver
// spreads the work so that both contracts hold.
func ExampleSolve() {
	m := &roster.Model{
		StartDate:  "2025-03-03",
		Days:       7,
		ShiftTypes: []roster.ShiftType{{ID: "D", Start: "08:00", LengthMinutes: 480}},
		Employees: []roster.Employee{
			{ID: "ann", Contract: roster.Contract{MaxConsecutiveWork: roster.IntPtr(4), MaxWeekends: roster.IntPtr(1)}},
			{ID: "bob", Contract: roster.Contract{MaxConsecutiveWork: roster.IntPtr(4), MaxWeekends: roster.IntPtr(1)}},
		},
	}
	for _, d := range m.Dates() {
		m.Cover = append(m.Cover, roster.Cover{Date: d, Shift: "D", Requirement: 1, UnderWeight: 100, OverWeight: 10})
	}
	res, err := roster.Solve(context.Background(), m, roster.Options{MaxSteps: 200, Threads: 1, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("feasible:", res.Feasible, "penalty:", res.Penalty, "optimal:", res.Optimal)
	// Output: feasible: true penalty: 0 optimal: true
}

// Evaluate explains any roster: here ann works five days in a row.
func ExampleEvaluate() {
	m := &roster.Model{
		StartDate:  "2025-03-03",
		Days:       7,
		ShiftTypes: []roster.ShiftType{{ID: "D", LengthMinutes: 480}},
		Employees:  []roster.Employee{{ID: "ann", Contract: roster.Contract{MaxConsecutiveWork: roster.IntPtr(4)}}},
	}
	ev, err := roster.Evaluate(m, roster.Roster{"ann": {"D", "D", "D", "D", "D", "", ""}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ev.Feasible)
	for _, v := range ev.Violations {
		fmt.Println(v.Rule, v.Message)
	}
	// Output:
	// false
	// max_consecutive_work ann works 5 consecutive days from 2025-03-03 (max 4)
}
