package roster

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// FuzzSolveDecodedModel: any model the decoder and validator accept (the
// API's schedule requests pass through both) is solved without a panic or
// an error, and the result agrees with the independent evaluator.
func FuzzSolveDecodedModel(f *testing.F) {
	data, _ := json.Marshal(validModel())
	f.Add(data)
	f.Add([]byte(`{"start_date":"2025-01-04","days":3,"shift_types":[{"id":"x","length_minutes":1}],"employees":[{"id":"y","contract":{"min_consecutive_off":2}}],"cover":[]}`))
	f.Add([]byte(`{"start_date":"2025-01-04","days":7,"shift_types":[{"id":"E","start":"06:00","length_minutes":480,"forbidden_successors":["E"],"night":true}],"min_rest_hours":11,
		"employees":[{"id":"a","contract":{"max_consecutive_work":2,"min_consecutive_work":2,"max_weekends":0}},{"id":"b","fixed_days_off":["2025-01-05"]}],
		"cover":[{"date":"2025-01-05","shift":"E","requirement":2,"under_weight":100,"over_weight":1}],
		"requests":[{"employee":"a","date":"2025-01-06","shift":"E","kind":"on","weight":3}],
		"pinned":[{"employee":"a","date":"2025-01-04","shift":"E"}]}`))
	f.Add([]byte(`{"start_date":"2025-02-01","days":8,"shift_types":[{"id":"D","length_minutes":480,"required_skills":["rn"]},{"id":"N","length_minutes":600}],
		"employees":[{"id":"a","skills":["rn"],"group":"g","contract":{"min_minutes":960,"max_weekly_minutes":1500,"max_shifts":{"N":1}}},
		  {"id":"b","group":"g","contract":{"min_consecutive_off":2}},{"id":"c","contract":{}}],
		"cover":[{"date":"2025-02-02","shift":"D","skill":"rn","requirement":1,"under_weight":50,"over_weight":0},{"date":"2025-02-03","shift":"N","requirement":2,"under_weight":10,"over_weight":5}],
		"rules":{"skills":{"hard":false,"weight":7},"min_minutes":{"hard":false,"weight":1},"max_weekends":{"hard":true}},
		"previous":{"change_weight":3,"roster":{"a":["D","","","","","","",""]}},"fairness":{"minutes_weight":1,"nights_weight":2}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeModel(data)
		if err != nil {
			return
		}
		if _, days := m.Horizon(); days*len(m.Employees)*max(len(m.ShiftTypes), 1) > 600 {
			return // valid but too large to solve many times here
		}
		res, err := Solve(context.Background(), m, Options{Threads: 1, Seed: 1, MaxSteps: 300, TimeLimit: 5 * time.Second})
		if err != nil {
			t.Fatalf("solving a valid model: %v", err)
		}
		ev, err := Evaluate(m, res.Roster)
		if err != nil {
			t.Fatalf("evaluating the solver's roster: %v", err)
		}
		if ev.Penalty != res.Penalty || ev.Feasible != res.Feasible || ev.HardViolations != res.HardViolations {
			t.Fatalf("result %d/%v/%d, evaluator %d/%v/%d", res.Penalty, res.Feasible, res.HardViolations, ev.Penalty, ev.Feasible, ev.HardViolations)
		}
	})
}

// FuzzParseGrid: any text is either refused with the line it fails on, or
// read as one row of the horizon's length per employee, which the evaluator
// then judges (unknown shift ids are its validation errors) without a panic.
func FuzzParseGrid(f *testing.F) {
	f.Add([]byte("D\t\tN\t\t\t\t\t\t\t\t\t\t\t\nN\tD\t\t\t\t\t\t\t\t\t\t\t\t\n"))
	f.Add([]byte("D\t\tN\n\tD\t\n"))
	f.Add([]byte("\r\n\r\n"))
	f.Add([]byte("X\t\t\t\t\t\t\t\t\t\t\t\t\t\t\n\t\t\t\t\t\t\t\t\t\t\t\t\t\t\n"))
	m := validModel()
	_, days := m.Horizon()
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseGrid(m, data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		if len(r) != len(m.Employees) {
			t.Fatalf("%d rows for %d employees", len(r), len(m.Employees))
		}
		for id, row := range r {
			if len(row) != days {
				t.Fatalf("%s: %d cells for %d days", id, len(row), days)
			}
		}
		if _, err := Evaluate(m, r); err != nil {
			var ve ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("evaluating a parsed grid: %v", err)
			}
		}
	})
}
