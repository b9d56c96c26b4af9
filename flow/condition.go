package flow

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// Condition is a predicate on the form. It is either a composite (And or Or,
// non-empty) or a comparison (Field Op Value). A comparison on a field the
// form does not carry is false, whatever the operator.
type Condition struct {
	And   []Condition `json:"and,omitempty"`
	Or    []Condition `json:"or,omitempty"`
	Field string      `json:"field,omitempty"`
	Op    CompareOp   `json:"op,omitempty"`
	// Value is a number, string or boolean matching the field type; for in
	// and not_in a list of them; dates are "YYYY-MM-DD" strings.
	Value any `json:"value,omitempty"`
}

// CompareOp is a comparison operator.
type CompareOp string

const (
	OpEq       CompareOp = "eq"
	OpNe       CompareOp = "ne"
	OpLt       CompareOp = "lt"
	OpLe       CompareOp = "le"
	OpGt       CompareOp = "gt"
	OpGe       CompareOp = "ge"
	OpIn       CompareOp = "in"
	OpNotIn    CompareOp = "not_in"
	OpContains CompareOp = "contains" // strings only
	OpPrefix   CompareOp = "prefix"   // strings only
)

// maxConditionDepth bounds nesting so a hostile template cannot make
// validation or evaluation recurse without limit.
const maxConditionDepth = 32

// opsFor lists the operators a field type supports.
func opsFor(ft FieldType) []CompareOp {
	switch ft {
	case TypeNumber, TypeInteger, TypeDate:
		return []CompareOp{OpEq, OpNe, OpLt, OpLe, OpGt, OpGe, OpIn, OpNotIn}
	case TypeString:
		return []CompareOp{OpEq, OpNe, OpIn, OpNotIn, OpContains, OpPrefix}
	case TypeEnum, TypePerson:
		return []CompareOp{OpEq, OpNe, OpIn, OpNotIn}
	case TypeBoolean:
		return []CompareOp{OpEq, OpNe}
	}
	return nil
}

// checkCondition appends a problem for every defect of c; path names the
// condition inside its node (e.g. "branches[0].when.and[1]").
func checkCondition(t *Template, c *Condition, path string, depth int, add func(field, reason string)) {
	if depth > maxConditionDepth {
		add(path, fmt.Sprintf("conditions nest deeper than %d levels", maxConditionDepth))
		return
	}
	composite := len(c.And) > 0 || len(c.Or) > 0
	if composite {
		if len(c.And) > 0 && len(c.Or) > 0 {
			add(path, "a condition has either and or or, not both")
		}
		if c.Field != "" || c.Op != "" || c.Value != nil {
			add(path, "a composite condition (and/or) has no field, op or value")
		}
		for i := range c.And {
			checkCondition(t, &c.And[i], fmt.Sprintf("%s.and[%d]", path, i), depth+1, add)
		}
		for i := range c.Or {
			checkCondition(t, &c.Or[i], fmt.Sprintf("%s.or[%d]", path, i), depth+1, add)
		}
		return
	}
	if c.Field == "" {
		add(path, "a condition needs a field and op, or a non-empty and/or list")
		return
	}
	f := t.field(c.Field)
	if f == nil {
		add(path+".field", fmt.Sprintf("unknown form field %q", c.Field))
		return
	}
	ops := opsFor(f.Type)
	if !containsOp(ops, c.Op) {
		if len(ops) == 0 {
			add(path+".op", fmt.Sprintf("field %q of type %s cannot be used in conditions", f.Name, f.Type))
		} else {
			add(path+".op", fmt.Sprintf("operator %q does not apply to %s field %q (use one of %s)", c.Op, f.Type, f.Name, joinOps(ops)))
		}
		return
	}
	if c.Op == OpIn || c.Op == OpNotIn {
		list, ok := c.Value.([]any)
		if !ok || len(list) == 0 {
			add(path+".value", fmt.Sprintf("%s needs a non-empty list of %s values", c.Op, f.Type))
			return
		}
		for i, v := range list {
			if reason := conditionValueProblem(f, v); reason != "" {
				add(fmt.Sprintf("%s.value[%d]", path, i), reason)
			}
		}
		return
	}
	if reason := conditionValueProblem(f, c.Value); reason != "" {
		add(path+".value", reason)
	}
}

// conditionValueProblem says why v cannot be compared with field f, or "".
func conditionValueProblem(f *Field, v any) string {
	switch f.Type {
	case TypeNumber, TypeInteger:
		if _, ok := toNumber(v); !ok {
			return fmt.Sprintf("field %q is a %s: compare it with a number", f.Name, f.Type)
		}
	case TypeBoolean:
		if _, ok := v.(bool); !ok {
			return fmt.Sprintf("field %q is a boolean: compare it with true or false", f.Name)
		}
	case TypeDate:
		s, ok := v.(string)
		if !ok || !validDate(s) {
			return fmt.Sprintf("field %q is a date: compare it with a \"YYYY-MM-DD\" string", f.Name)
		}
	case TypeEnum:
		s, ok := v.(string)
		if !ok || !containsString(f.Enum, s) {
			return fmt.Sprintf("field %q is an enum: compare it with one of %s", f.Name, strings.Join(f.Enum, ", "))
		}
	case TypeString, TypePerson:
		if _, ok := v.(string); !ok {
			return fmt.Sprintf("field %q is a %s: compare it with a string", f.Name, f.Type)
		}
	}
	return ""
}

// eval evaluates c against the form. Types were checked by ValidateTemplate
// and ValidateForm, so values compare by their dynamic kind: numbers
// numerically, strings (including dates, whose format sorts by time)
// lexically, booleans by equality. Mismatched kinds compare false.
func (c *Condition) eval(form map[string]any) bool {
	if len(c.And) > 0 {
		for i := range c.And {
			if !c.And[i].eval(form) {
				return false
			}
		}
		return true
	}
	if len(c.Or) > 0 {
		for i := range c.Or {
			if c.Or[i].eval(form) {
				return true
			}
		}
		return false
	}
	v, ok := form[c.Field]
	if !ok || v == nil {
		return false
	}
	switch c.Op {
	case OpIn, OpNotIn:
		list, _ := c.Value.([]any)
		in := false
		for _, want := range list {
			if cmp, ok := compareValues(v, want); ok && cmp == 0 {
				in = true
				break
			}
		}
		return in == (c.Op == OpIn)
	case OpContains, OpPrefix:
		s, ok1 := v.(string)
		want, ok2 := c.Value.(string)
		if !ok1 || !ok2 {
			return false
		}
		if c.Op == OpContains {
			return strings.Contains(s, want)
		}
		return strings.HasPrefix(s, want)
	}
	cmp, ok := compareValues(v, c.Value)
	if !ok {
		return false
	}
	switch c.Op {
	case OpEq:
		return cmp == 0
	case OpNe:
		return cmp != 0
	case OpLt:
		return cmp < 0
	case OpLe:
		return cmp <= 0
	case OpGt:
		return cmp > 0
	case OpGe:
		return cmp >= 0
	}
	return false
}

// compareValues orders a against b; ok is false when they are not
// comparable. Booleans only compare for equality (cmp 0 or 1).
func compareValues(a, b any) (cmp int, ok bool) {
	if x, ok := toNumber(a); ok {
		y, ok := toNumber(b)
		if !ok {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(x, y), true
	case bool:
		y, ok := b.(bool)
		if !ok {
			return 0, false
		}
		if x == y {
			return 0, true
		}
		return 1, true
	}
	return 0, false
}

// toNumber accepts the numeric types JSON decoding and Go callers produce.
func toNumber(v any) (float64, bool) {
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case float32:
		f = float64(n)
	case int:
		f = float64(n)
	case int8:
		f = float64(n)
	case int16:
		f = float64(n)
	case int32:
		f = float64(n)
	case int64:
		f = float64(n)
	case uint:
		f = float64(n)
	case uint8:
		f = float64(n)
	case uint16:
		f = float64(n)
	case uint32:
		f = float64(n)
	case uint64:
		f = float64(n)
	case json.Number:
		x, err := n.Float64()
		if err != nil {
			return 0, false
		}
		f = x
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func containsOp(ops []CompareOp, op CompareOp) bool {
	for _, o := range ops {
		if o == op {
			return true
		}
	}
	return false
}

func joinOps(ops []CompareOp) string {
	s := make([]string, len(ops))
	for i, o := range ops {
		s[i] = string(o)
	}
	return strings.Join(s, ", ")
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
