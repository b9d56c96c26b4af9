package replan

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/shiftflow/shiftflow/flow"
	"github.com/shiftflow/shiftflow/roster"
	"github.com/shiftflow/shiftflow/workers"
)

func model() *roster.Model {
	return &roster.Model{StartDate: "2026-03-02", Days: 7,
		ShiftTypes: []roster.ShiftType{{ID: "D", LengthMinutes: 480}, {ID: "N", LengthMinutes: 480}},
		Employees:  []roster.Employee{{ID: "ann"}, {ID: "bob"}},
		Pinned:     []roster.Assignment{{Employee: "ann", Date: "2026-03-04", Shift: "D"}}}
}

func day(s string) time.Time { t, _ := time.Parse(roster.DateLayout, s); return t }

func TestLeaveApply(t *testing.T) {
	m := model()
	l := Leave{Person: "ann", From: day("2026-03-03"), To: day("2026-03-10")} // runs past the horizon
	if !l.Apply(m, nil) {
		t.Fatal("leave inside the horizon not applied")
	}
	want := []string{"2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08"}
	if !slices.Equal(m.Employees[0].FixedDaysOff, want) {
		t.Fatalf("fixed days off = %v", m.Employees[0].FixedDaysOff)
	}
	if len(m.Pinned) != 0 {
		t.Fatalf("a pinned shift on a leave day survived: %v", m.Pinned)
	}
	if (Leave{Person: "zoe", From: day("2026-03-03"), To: day("2026-03-04")}).Apply(model(), nil) {
		t.Fatal("leave of someone not in the roster applied")
	}
	if (Leave{Person: "ann", From: day("2026-04-01"), To: day("2026-04-02")}).Apply(model(), nil) {
		t.Fatal("leave outside the horizon applied")
	}
}

func TestSwap(t *testing.T) {
	m := model()
	cur := roster.Roster{"ann": {"D", "D", "", "", "N", "", ""}, "bob": {"", "N", "D", "", "", "", ""}}
	// Different days: ann gives Monday's D to bob, takes bob's Wednesday D.
	s := Swap{Person: "ann", Date: day("2026-03-02"), Other: "bob", OtherDate: day("2026-03-04")}
	got, ok := s.Swapped(m, cur)
	if !ok {
		t.Fatal("swap not applicable")
	}
	if !slices.Equal(got["ann"], []string{"", "D", "D", "", "N", "", ""}) || !slices.Equal(got["bob"], []string{"D", "N", "", "", "", "", ""}) {
		t.Fatalf("swapped = %v", got)
	}
	if !slices.Equal(cur["ann"], []string{"D", "D", "", "", "N", "", ""}) {
		t.Fatal("Swapped modified its input")
	}
	// Same day: they trade shifts.
	same := Swap{Person: "ann", Date: day("2026-03-03"), Other: "bob", OtherDate: day("2026-03-03")}
	got, _ = same.Swapped(m, cur)
	if got["ann"][1] != "N" || got["bob"][1] != "D" {
		t.Fatalf("same-day swap = %v", got)
	}
	if !same.Apply(m, cur) || len(m.Pinned) != 3 { // the earlier pin of ann on 03-04 stays
		t.Fatalf("pins = %v", m.Pinned)
	}
	if (Swap{Person: "ann", Date: day("2027-01-01"), Other: "bob", OtherDate: day("2026-03-03")}).Apply(model(), cur) {
		t.Fatal("swap outside the horizon applied")
	}
}

func TestChangeFromForm(t *testing.T) {
	if _, err := ChangeFromForm(flow.KindLeave, map[string]any{"person": "ann", "from_date": "2026-03-02"}); err == nil {
		t.Fatal("leave without to_date accepted")
	}
	c, err := ChangeFromForm(flow.KindShiftSwap, map[string]any{"person": "a", "date": "2026-03-05", "other_person": "b", "other_date": "2026-03-02"})
	if err != nil {
		t.Fatal(err)
	}
	from, to := c.Span()
	if from.Format(roster.DateLayout) != "2026-03-02" || to.Format(roster.DateLayout) != "2026-03-05" {
		t.Fatalf("span %v..%v", from, to)
	}
	if _, err := ChangeFromForm(flow.KindGeneric, nil); err == nil {
		t.Fatal("a generic template changes no roster")
	}
}

// Events Handle cannot read are permanent failures (dead letters), found
// before any database access: the handler here has none.
func TestHandleRefusesUnreadableEvents(t *testing.T) {
	h := &Handler{}
	for name, data := range map[string]string{
		"not json":           `{"orgid":`,
		"no org":             `{"data":{"instance_id":"0193d1f0-0000-7000-8000-000000000001","template_id":"leave","template_version":1}}`,
		"instance id broken": `{"orgid":"acme","data":{"instance_id":"nope","template_id":"leave","template_version":1}}`,
	} {
		commit, err := h.Handle(context.Background(), &workers.Message{Data: []byte(data)})
		if commit != nil || !workers.IsPermanent(err) {
			t.Errorf("%s: commit %v, error %v; want a permanent error", name, commit != nil, err)
		}
	}
}

func TestChangeWeightFor(t *testing.T) {
	cover := func(weights ...int) *roster.Model {
		m := &roster.Model{}
		for _, w := range weights {
			m.Cover = append(m.Cover, roster.Cover{Date: "2027-01-04", Shift: "E", Requirement: 1, UnderWeight: w, OverWeight: 1})
		}
		return m
	}
	for _, c := range []struct {
		name       string
		m          *roster.Model
		configured int
		want       int
	}{
		{"configured wins", cover(100), 1000, 1000},
		{"configured zero re-optimises freely", cover(100), 0, 0},
		{"auto: a quarter of the smallest under-cover weight", cover(100, 50, 0), AutoChangeWeight, 12},
		{"auto: at least 1", cover(3), AutoChangeWeight, 1},
		{"auto without cover", cover(), AutoChangeWeight, 100},
	} {
		if got := ChangeWeightFor(c.m, c.configured); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}
