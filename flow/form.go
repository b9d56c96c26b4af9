package flow

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// FieldError names one form field and why its value is refused.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Reason }

// ValidateForm checks a submitted form against the template's schema:
// unknown fields, required fields, value types, enum membership, the
// YYYY-MM-DD date format, and the kind rules (leave: from_date <= to_date;
// shift swap: two different people). Errors come in schema order, then
// unknown fields by name. It does not check that person ids exist; Apply
// does that against the Directory at submit.
func ValidateForm(t *Template, form map[string]any) []FieldError {
	var errs []FieldError
	for i := range t.Form {
		f := &t.Form[i]
		v, present := form[f.Name]
		if !present || v == nil {
			if f.Required {
				errs = append(errs, FieldError{f.Name, "required"})
			}
			continue
		}
		if reason := valueProblem(f, v); reason != "" {
			errs = append(errs, FieldError{f.Name, reason})
		}
	}
	var unknown []string
	for name := range form {
		if t.field(name) == nil {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		reason := "unknown field"
		if name == "" {
			reason = "empty field name"
		}
		errs = append(errs, FieldError{name, reason})
	}
	if len(errs) > 0 {
		return errs
	}
	switch t.Kind {
	case KindLeave:
		from, _ := form[FieldFromDate].(string)
		to, _ := form[FieldToDate].(string)
		if to < from {
			errs = append(errs, FieldError{FieldToDate, fmt.Sprintf("%s %s is before %s %s", FieldToDate, to, FieldFromDate, from)})
		}
	case KindShiftSwap:
		a, _ := form[FieldPerson].(string)
		b, _ := form[FieldOtherPerson].(string)
		if a != "" && a == b {
			errs = append(errs, FieldError{FieldOtherPerson, "a person cannot swap with themselves"})
		}
	}
	return errs
}

// valueProblem says why v is not a valid value of field f, or "".
func valueProblem(f *Field, v any) string {
	switch f.Type {
	case TypeString:
		if _, ok := v.(string); !ok {
			return "must be a string"
		}
	case TypeNumber:
		if _, ok := toNumber(v); !ok {
			return "must be a number"
		}
	case TypeInteger:
		n, ok := toNumber(v)
		if !ok || n != math.Trunc(n) {
			return "must be an integer"
		}
	case TypeBoolean:
		if _, ok := v.(bool); !ok {
			return "must be true or false"
		}
	case TypeDate:
		s, ok := v.(string)
		if !ok || !validDate(s) {
			return "must be a date in YYYY-MM-DD format"
		}
	case TypeEnum:
		s, ok := v.(string)
		if !ok || !containsString(f.Enum, s) {
			return "must be one of " + strings.Join(f.Enum, ", ")
		}
	case TypePerson:
		s, ok := v.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return "must be a person id"
		}
	case TypeAttachments:
		if !validAttachments(v) {
			return "must be a list of attachment references"
		}
	default:
		return fmt.Sprintf("field type %q is unknown", f.Type)
	}
	return ""
}

func validAttachments(v any) bool {
	switch list := v.(type) {
	case []any:
		for _, x := range list {
			s, ok := x.(string)
			if !ok || s == "" {
				return false
			}
		}
		return true
	case []string:
		for _, s := range list {
			if s == "" {
				return false
			}
		}
		return true
	}
	return false
}

// validDate accepts exactly YYYY-MM-DD naming a real calendar day.
func validDate(s string) bool {
	if len(s) != 10 {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}
