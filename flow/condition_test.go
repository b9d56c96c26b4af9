package flow

import (
	"encoding/json"
	"testing"
)

func TestConditionEval(t *testing.T) {
	f := map[string]any{"days": 4.0, "reason": "family trip", "type": "annual", "start": "2026-03-10", "urgent": true, "backup": "bob", "count": 3}
	cases := []struct {
		cond string
		want bool
	}{
		{`{"field": "days", "op": "gt", "value": 3}`, true},
		{`{"field": "days", "op": "gt", "value": 4}`, false},
		{`{"field": "days", "op": "ge", "value": 4}`, true},
		{`{"field": "days", "op": "lt", "value": 4.5}`, true},
		{`{"field": "days", "op": "le", "value": 3.99}`, false},
		{`{"field": "days", "op": "eq", "value": 4}`, true},
		{`{"field": "days", "op": "ne", "value": 4}`, false},
		{`{"field": "days", "op": "in", "value": [1, 2, 4]}`, true},
		{`{"field": "count", "op": "eq", "value": 3}`, true},
		{`{"field": "days", "op": "not_in", "value": [1, 2]}`, true},
		{`{"field": "reason", "op": "eq", "value": "family trip"}`, true},
		{`{"field": "reason", "op": "ne", "value": "family trip"}`, false},
		{`{"field": "reason", "op": "contains", "value": "trip"}`, true},
		{`{"field": "reason", "op": "prefix", "value": "trip"}`, false},
		{`{"field": "reason", "op": "in", "value": ["a", "family trip"]}`, true},
		{`{"field": "type", "op": "eq", "value": "annual"}`, true},
		{`{"field": "type", "op": "in", "value": ["sick", "unpaid"]}`, false},
		{`{"field": "type", "op": "not_in", "value": ["sick", "unpaid"]}`, true},
		{`{"field": "start", "op": "lt", "value": "2026-04-01"}`, true},
		{`{"field": "start", "op": "ge", "value": "2026-03-11"}`, false},
		{`{"field": "start", "op": "eq", "value": "2026-03-10"}`, true},
		{`{"field": "urgent", "op": "eq", "value": true}`, true},
		{`{"field": "urgent", "op": "ne", "value": true}`, false},
		{`{"field": "backup", "op": "eq", "value": "bob"}`, true},
		{`{"and": [{"field": "days", "op": "gt", "value": 3}, {"field": "type", "op": "eq", "value": "annual"}]}`, true},
		{`{"and": [{"field": "days", "op": "gt", "value": 3}, {"field": "type", "op": "eq", "value": "sick"}]}`, false},
		{`{"or": [{"field": "days", "op": "gt", "value": 10}, {"field": "type", "op": "eq", "value": "annual"}]}`, true},
		{`{"or": [{"field": "days", "op": "gt", "value": 10}, {"and": [{"field": "urgent", "op": "eq", "value": false}]}]}`, false},
		{`{"field": "files", "op": "eq", "value": "x"}`, false},
		{`{"field": "files", "op": "ne", "value": "x"}`, false},
		{`{"field": "files", "op": "not_in", "value": ["x"]}`, false},
	}
	tpl := &Template{ID: "g", Version: 1, Form: testForm()}
	for _, tc := range cases {
		var c Condition
		if err := json.Unmarshal([]byte(tc.cond), &c); err != nil {
			t.Fatalf("%s: %v", tc.cond, err)
		}
		var probs []string
		checkCondition(tpl, &c, "when", 0, func(field, reason string) { probs = append(probs, field+": "+reason) })
		if len(probs) > 0 && c.Field != "files" {
			t.Errorf("%s: unexpected problems %v", tc.cond, probs)
		}
		if got := c.eval(f); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.cond, got, tc.want)
		}
	}
}

func TestConditionDepthIsBounded(t *testing.T) {
	c := Condition{Field: "days", Op: OpGt, Value: 1}
	for range maxConditionDepth + 2 {
		c = Condition{And: []Condition{c}}
	}
	tpl := &Template{Form: testForm()}
	n := 0
	checkCondition(tpl, &c, "when", 0, func(string, string) { n++ })
	if n == 0 {
		t.Fatal("deep nesting accepted")
	}
}

// TestConditionRouting routes one template through each kind of
// comparison and checks the branch taken.
func TestConditionRouting(t *testing.T) {
	route := func(when *Condition) *Template {
		return &Template{ID: "c", Version: 1, Form: testForm(), Nodes: []Node{
			startNode("cond"),
			{ID: "cond", Type: NodeCondition, Branches: []Branch{{When: when, Next: "yes"}, {Default: true, Next: "no"}}},
			approvalNode("yes", "end", ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("ceo")}}),
			approvalNode("no", "end", ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("mgr")}}),
			endNode(),
		}}
	}
	cases := []struct {
		name string
		when *Condition
		form map[string]any
		want string
	}{
		{"number true", &Condition{Field: "days", Op: OpGt, Value: 3}, form("days", 5), "ceo"},
		{"number false", &Condition{Field: "days", Op: OpGt, Value: 3}, form("days", 3), "mgr"},
		{"string", &Condition{Field: "reason", Op: OpEq, Value: "wedding"}, form("days", 1, "reason", "wedding"), "ceo"},
		{"enum in", &Condition{Field: "type", Op: OpIn, Value: []any{"sick", "unpaid"}}, form("days", 1, "type", "unpaid"), "ceo"},
		{"date before", &Condition{Field: "start", Op: OpLt, Value: "2026-06-01"}, form("days", 1, "start", "2026-05-31"), "ceo"},
		{"date after", &Condition{Field: "start", Op: OpLt, Value: "2026-06-01"}, form("days", 1, "start", "2026-06-01"), "mgr"},
		{"absent optional field", &Condition{Field: "reason", Op: OpNe, Value: "x"}, form("days", 1), "mgr"},
		{"and", &Condition{And: []Condition{{Field: "days", Op: OpGe, Value: 2}, {Field: "urgent", Op: OpEq, Value: true}}}, form("days", 2, "urgent", true), "ceo"},
		{"or", &Condition{Or: []Condition{{Field: "days", Op: OpGe, Value: 20}, {Field: "urgent", Op: OpEq, Value: true}}}, form("days", 2, "urgent", false), "mgr"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, route(tc.when))
			h.submit("alice", tc.form)
			h.wantOpen(tc.want)
		})
	}
}
