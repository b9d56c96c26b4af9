package roster

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// validModel is a small model that passes validation, for breaking.
func validModel() *Model {
	return &Model{
		StartDate:  "2025-03-03",
		Days:       14,
		ShiftTypes: []ShiftType{{ID: "D", Start: "07:00", LengthMinutes: 480}, {ID: "N", Start: "22:00", LengthMinutes: 600}},
		Employees: []Employee{
			{ID: "ann", Skills: []string{"senior"}, Contract: Contract{MaxMinutes: IntPtr(4800), MaxShifts: map[string]int{"N": 3}}},
			{ID: "bob", FixedDaysOff: []string{"2025-03-05"}},
		},
		Cover:    []Cover{{Date: "2025-03-03", Shift: "D", Requirement: 1, UnderWeight: 100, OverWeight: 1}},
		Requests: []Request{{Employee: "ann", Date: "2025-03-04", Shift: "N", Kind: RequestOff, Weight: 2}},
		Pinned:   []Assignment{{Employee: "bob", Date: "2025-03-06", Shift: "D"}},
		Previous: &Previous{ChangeWeight: 10, Roster: Roster{"ann": make([]string, 14)}},
	}
}

func TestValidateAcceptsValidModel(t *testing.T) {
	mustValid(t, validModel())
	m := validModel()
	m.Days, m.EndDate = 0, "2025-03-16"
	mustValid(t, m)
	if _, n := m.Horizon(); n != 14 {
		t.Fatalf("horizon from end date: %d days", n)
	}
}

func TestValidateNamesFields(t *testing.T) {
	cases := []struct {
		field  string
		reason string
		breakf func(m *Model)
	}{
		{"start_date", "not a date", func(m *Model) { m.StartDate = "2025-02-30" }},
		{"days", "disagrees with end_date", func(m *Model) { m.EndDate = "2025-03-10" }},
		{"days", "exceeds the limit", func(m *Model) { m.Days = MaxDays + 1 }},
		{"shift_types[1].id", `duplicate shift type id "D"`, func(m *Model) { m.ShiftTypes[1].ID = "D" }},
		{"shift_types[0].length_minutes", "between 1 and 1440", func(m *Model) { m.ShiftTypes[0].LengthMinutes = 0 }},
		{"shift_types[1].start", "not a time of day", func(m *Model) { m.ShiftTypes[1].Start = "25:00" }},
		{"shift_types[0].start", "required when min_rest_hours", func(m *Model) { m.MinRestHours = 11; m.ShiftTypes[0].Start = "" }},
		{"shift_types[0].forbidden_successors[0]", `unknown shift type "X"`, func(m *Model) { m.ShiftTypes[0].ForbiddenSuccessors = []string{"X"} }},
		{"employees[1].id", `duplicate employee id "ann"`, func(m *Model) { m.Employees[1].ID = "ann" }},
		{"employees[0].contract.max_minutes", "between 0 and", func(m *Model) { m.Employees[0].Contract.MaxMinutes = IntPtr(-1) }},
		{"employees[0].contract.min_minutes", "exceeds max_minutes", func(m *Model) { m.Employees[0].Contract.MinMinutes = IntPtr(5000) }},
		{"employees[0].contract.max_shifts.Q", `unknown shift type "Q"`, func(m *Model) { m.Employees[0].Contract.MaxShifts["Q"] = 1 }},
		{"employees[1].fixed_days_off[0]", "outside the horizon", func(m *Model) { m.Employees[1].FixedDaysOff[0] = "2025-04-01" }},
		{"cover[0].shift", `unknown shift type "X"`, func(m *Model) { m.Cover[0].Shift = "X" }},
		{"cover[0].under_weight", "must not be negative", func(m *Model) { m.Cover[0].UnderWeight = -1 }},
		{"cover[1]", "duplicate cover", func(m *Model) { m.Cover = append(m.Cover, m.Cover[0]) }},
		{"cover[0].date", "not a date", func(m *Model) { m.Cover[0].Date = "03/03/2025" }},
		{"requests[0].employee", `unknown employee "zed"`, func(m *Model) { m.Requests[0].Employee = "zed" }},
		{"requests[0].kind", "must be", func(m *Model) { m.Requests[0].Kind = "maybe" }},
		{"requests[0].weight", "must not be negative", func(m *Model) { m.Requests[0].Weight = -3 }},
		{"pinned[0]", "a fixed day off", func(m *Model) { m.Pinned[0].Date = "2025-03-05" }},
		{"pinned[1]", "conflicting pins", func(m *Model) {
			m.Pinned = append(m.Pinned, Assignment{Employee: "bob", Date: "2025-03-06", Shift: "N"})
		}},
		{"previous.roster.ann", "has 3 days", func(m *Model) { m.Previous.Roster["ann"] = make([]string, 3) }},
		{"previous.roster.ann[2]", "unknown shift type", func(m *Model) { m.Previous.Roster["ann"][2] = "X" }},
		{"previous.change_weight", "must not be negative", func(m *Model) { m.Previous.ChangeWeight = -1 }},
		{"rules.max_weekends.weight", "must not be negative", func(m *Model) { m.Rules.MaxWeekends = &Rule{Weight: -1} }},
		{"fairness.nights_weight", "must not exceed", func(m *Model) { m.Fairness = &Fairness{NightsWeight: MaxWeight + 1} }},
	}
	for _, tc := range cases {
		m := validModel()
		tc.breakf(m)
		errs := m.Validate()
		found := false
		for _, e := range errs {
			if e.Field == tc.field && strings.Contains(e.Reason, tc.reason) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: want %q, got %v", tc.field, tc.reason, errs)
		}
	}
}

func TestDecodeModel(t *testing.T) {
	data, err := json.Marshal(validModel())
	if err != nil {
		t.Fatal(err)
	}
	m, err := DecodeModel(data)
	if err != nil || m.Employees[1].ID != "bob" {
		t.Fatalf("decode: %v", err)
	}
	cases := map[string]string{
		`{"start_date": "2025-03-03", "days": 7, "shift_typez": []}`: "shift_typez: unknown field",
		`{"start_date": "2025-03-03",
  "days": "seven"}`: "days: must be int",
		"{\n\"start_date\": \"2025-03-03\",\n\"days\": 7,,\n}": "line 3",
		`{"start_date": "2025-03-03"} {}`:                      "unexpected data",
		``:                                                     "empty",
		`{"start_date": "2025-03-03", "days": 7, "shift_types": [{"id": "D", "length_minutes": 480}], "employees": [{"id": "a"}], "cover": [{"date": "2025-03-03", "shift": "Q"}]}`: `cover[0].shift: unknown shift type "Q"`,
	}
	for in, want := range cases {
		_, err := DecodeModel([]byte(in))
		var ve ValidationError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: want %q, got %v", in, want, err)
		}
	}
}

func TestDecodeRosterAndGrid(t *testing.T) {
	bare := `{"a": ["D", ""], "b": ["", "N"]}`
	wrapped := `{"instance": "x", "penalty": 3, "roster": {"a": ["D", ""], "b": ["", "N"]}}`
	for _, in := range []string{bare, wrapped} {
		r, err := DecodeRoster([]byte(in))
		if err != nil || r["b"][1] != "N" || len(r) != 2 {
			t.Fatalf("%s: %v %v", in, r, err)
		}
	}
	if _, err := DecodeRoster([]byte(`{"roster": [1, 2]}`)); err == nil {
		t.Fatal("a roster that is not an object must fail")
	}
	m := oneEmployee(3)
	m.Employees = append(m.Employees, Employee{ID: "f"})
	r, err := ParseGrid(m, []byte("D\t\tN\n\tD\t\n"))
	if err != nil || r["e"][2] != "N" || r["f"][1] != "D" || r["f"][2] != "" {
		t.Fatalf("grid: %v %v", r, err)
	}
	if _, err := ParseGrid(m, []byte("D\tD\n\tD\t\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("short grid line: %v", err)
	}
}

// FuzzDecodeModel checks that arbitrary JSON never panics the decoder,
// the validator or, for models that pass, the evaluator on an empty roster.
func FuzzDecodeModel(f *testing.F) {
	data, _ := json.Marshal(validModel())
	f.Add(data)
	f.Add([]byte(`{"start_date":"2025-01-04","days":3,"shift_types":[{"id":"x","length_minutes":1}],"employees":[{"id":"y","contract":{"min_consecutive_off":2}}],"cover":[]}`))
	f.Add([]byte(`{"days": -1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeModel(data)
		if err != nil {
			var ve ValidationError
			if !errors.As(err, &ve) || len(ve) == 0 {
				t.Fatalf("error is not a ValidationError: %v", err)
			}
			return
		}
		_, days := m.Horizon()
		if days*len(m.Employees)*len(m.ShiftTypes) > 200000 {
			return // valid but too large to evaluate quickly here
		}
		r := Roster{}
		for _, e := range m.Employees {
			r[e.ID] = make([]string, days)
		}
		if _, err := Evaluate(m, r); err != nil {
			t.Fatalf("evaluating an empty roster of a valid model: %v", err)
		}
	})
}
