package flow

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestValidateForm(t *testing.T) {
	generic := &Template{ID: "g", Version: 1, Form: testForm()}
	leave := leaveTemplate(t)
	swap := &Template{ID: "s", Version: 1, Kind: KindShiftSwap, Form: KindFields(KindShiftSwap)}
	cases := []struct {
		name string
		tpl  *Template
		form string // JSON, as the API receives it
		want []FieldError
	}{
		{"valid generic", generic, `{"days": 2.5, "reason": "x", "type": "sick", "start": "2026-02-28", "urgent": true, "backup": "bob", "count": 3, "files": ["a/1", "a/2"]}`, nil},
		{"only the required", generic, `{"days": 1}`, nil},
		{"missing required", generic, `{}`, []FieldError{{"days", "required"}}},
		{"null counts as missing", generic, `{"days": null}`, []FieldError{{"days", "required"}}},
		{"unknown fields sorted", generic, `{"days": 1, "zz": 1, "aa": 2}`, []FieldError{{"aa", "unknown field"}, {"zz", "unknown field"}}},
		{"number as string", generic, `{"days": "2"}`, []FieldError{{"days", "must be a number"}}},
		{"integer with fraction", generic, `{"days": 1, "count": 1.5}`, []FieldError{{"count", "must be an integer"}}},
		{"string as number", generic, `{"days": 1, "reason": 5}`, []FieldError{{"reason", "must be a string"}}},
		{"boolean as string", generic, `{"days": 1, "urgent": "yes"}`, []FieldError{{"urgent", "must be true or false"}}},
		{"enum non-member", generic, `{"days": 1, "type": "paternity"}`, []FieldError{{"type", "must be one of annual, sick, unpaid"}}},
		{"date in wrong format", generic, `{"days": 1, "start": "02/03/2026"}`, []FieldError{{"start", "must be a date in YYYY-MM-DD format"}}},
		{"date that does not exist", generic, `{"days": 1, "start": "2026-02-30"}`, []FieldError{{"start", "must be a date in YYYY-MM-DD format"}}},
		{"date with time", generic, `{"days": 1, "start": "2026-02-03T10:00:00Z"}`, []FieldError{{"start", "must be a date in YYYY-MM-DD format"}}},
		{"empty person", generic, `{"days": 1, "backup": " "}`, []FieldError{{"backup", "must be a person id"}}},
		{"attachments not a list", generic, `{"days": 1, "files": "a"}`, []FieldError{{"files", "must be a list of attachment references"}}},
		{"attachments with an empty ref", generic, `{"days": 1, "files": ["a", ""]}`, []FieldError{{"files", "must be a list of attachment references"}}},
		{"every error at once", generic, `{"days": "x", "type": 1, "nope": 1}`, []FieldError{{"days", "must be a number"}, {"type", "must be one of annual, sick, unpaid"}, {"nope", "unknown field"}}},
		{"leave in order", leave, `{"person": "alice", "from_date": "2026-03-02", "to_date": "2026-03-02", "days": 1, "type": "sick"}`, nil},
		{"leave backwards", leave, `{"person": "alice", "from_date": "2026-03-05", "to_date": "2026-03-02", "days": 1, "type": "sick"}`, []FieldError{{"to_date", "to_date 2026-03-02 is before from_date 2026-03-05"}}},
		{"swap valid", swap, `{"person": "alice", "date": "2026-03-02", "other_person": "bob", "other_date": "2026-03-03"}`, nil},
		{"swap with oneself", swap, `{"person": "alice", "date": "2026-03-02", "other_person": "alice", "other_date": "2026-03-03"}`, []FieldError{{"other_person", "a person cannot swap with themselves"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var f map[string]any
			if err := json.Unmarshal([]byte(tc.form), &f); err != nil {
				t.Fatal(err)
			}
			if got := ValidateForm(tc.tpl, f); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestValidateFormAcceptsGoValues(t *testing.T) {
	tpl := &Template{ID: "g", Version: 1, Form: testForm()}
	got := ValidateForm(tpl, map[string]any{"days": 3, "count": int64(2), "files": []string{"x"}, "number": json.Number("1")})
	if want := []FieldError{{"number", "unknown field"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
}

func TestSubmitRejectsBadForms(t *testing.T) {
	h := newHarness(t, leaveTemplate(t))
	e := h.fail(Command{Action: ActSubmit, Actor: "alice", InstanceID: "i1", Form: form("person", "ghost", "from_date", "2026-03-02", "to_date", "2026-03-01", "days", 1, "type", "sick")}, ErrInvalid)
	if len(e.Fields) != 2 || e.Fields[0].Field != "to_date" || e.Fields[1].Field != "person" {
		t.Fatalf("fields %v", e.Fields)
	}
	e = h.fail(Command{Action: ActSubmit, Actor: "alice", InstanceID: "i1", Form: form("person", "ghost", "from_date", "2026-03-02", "to_date", "2026-03-03", "days", 1, "type", "sick")}, ErrInvalid)
	if len(e.Fields) != 1 || e.Fields[0].Field != "person" || e.Fields[0].Reason != `unknown person "ghost"` {
		t.Fatalf("fields %v", e.Fields)
	}
	e = h.fail(Command{Action: ActSubmit, Actor: "alice", InstanceID: "i1", Form: form("days", "x")}, ErrInvalid)
	if len(e.Fields) < 4 {
		t.Fatalf("want every field error, got %v", e.Fields)
	}
}
