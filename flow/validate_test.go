package flow

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// leaveTemplate is the flow the end-to-end test uses: a leave
// request approved by the manager, then, when days > 3, by the manager's
// manager and the department head in sequence; HR is copied at the end.
const leaveTemplateJSON = `{
  "id": "leave", "name": "Leave request", "version": 1, "kind": "leave",
  "form": [
    {"name": "person", "type": "person", "required": true},
    {"name": "from_date", "type": "date", "required": true},
    {"name": "to_date", "type": "date", "required": true},
    {"name": "days", "type": "number", "required": true},
    {"name": "type", "type": "enum", "enum": ["annual", "sick"], "required": true}
  ],
  "nodes": [
    {"id": "start", "type": "start", "next": "manager"},
    {"id": "manager", "type": "approval", "next": "long",
     "approval": {"mode": "single", "approvers": [{"type": "manager", "level": 1}],
                  "on_empty": "auto_approve", "timeout": {"after": "2d", "action": "escalate"},
                  "reminders": {"every": "4h", "max": 3}, "allow": ["transfer", "delegate", "add_signer"],
                  "comment_required_on_reject": true}},
    {"id": "long", "type": "condition", "branches": [
      {"when": {"and": [{"field": "days", "op": "gt", "value": 3}, {"field": "type", "op": "eq", "value": "annual"}]}, "next": "upper"},
      {"default": true, "next": "hr"}]},
    {"id": "upper", "type": "approval", "next": "hr",
     "approval": {"mode": "sequential", "approvers": [{"type": "manager", "level": 2}, {"type": "department_head"}],
                  "on_reject": "to_previous"}},
    {"id": "hr", "type": "cc", "next": "end", "cc": {"recipients": [{"type": "role", "role": "hr"}]}},
    {"id": "end", "type": "end"}
  ]
}`

func leaveTemplate(t testing.TB) *Template {
	var tpl Template
	if err := json.Unmarshal([]byte(leaveTemplateJSON), &tpl); err != nil {
		t.Fatal(err)
	}
	return &tpl
}

// parallelTemplate: manager, then finance (vote) and hr (all) in parallel,
// then the ceo.
func parallelTemplate() *Template {
	return &Template{ID: "par", Version: 1, Form: testForm(), Nodes: []Node{
		startNode("mgr"),
		approvalNode("mgr", "split", ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{{Type: RuleManager, Level: 1}}}),
		{ID: "split", Type: NodeParallel, Join: "join", Branches: []Branch{{Next: "fin"}, {Next: "hr"}}},
		approvalNode("fin", "join", ApprovalSpec{Mode: ModeVote, PassRatio: 0.5, Approvers: []ApproverRule{{Type: RuleRole, Role: "finance"}}}),
		approvalNode("hr", "join", ApprovalSpec{Mode: ModeAll, Approvers: []ApproverRule{people("hr1", "hr2")}}),
		{ID: "join", Type: NodeJoin, Next: "boss"},
		approvalNode("boss", "end", ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("ceo")}, OnReject: RejectToPrevious}),
		endNode(),
	}}
}

func TestValidTemplatesHaveNoProblems(t *testing.T) {
	for name, tpl := range map[string]*Template{
		"leave":    leaveTemplate(t),
		"parallel": parallelTemplate(),
		"chain":    chain(ApprovalSpec{Mode: ModeAll, Approvers: []ApproverRule{people("mgr")}}),
	} {
		if probs := ValidateTemplate(tpl); len(probs) > 0 {
			t.Errorf("%s: %v", name, probs)
		}
	}
}

// TestValidateTemplateProblems breaks a valid template in one way per case
// and expects a problem naming the node (and field) with a telling reason.
func TestValidateTemplateProblems(t *testing.T) {
	base := func() *Template { return leaveTemplate(t) }
	node := func(tpl *Template, id string) *Node { return tpl.node(id) }
	cases := []struct {
		name      string
		edit      func(*Template)
		wantNode  string
		wantField string
		wantText  string
	}{
		{"unknown kind", func(t *Template) { t.Kind = "vacation" }, "", "kind", "unknown kind"},
		{"leave without to_date", func(t *Template) { t.Form = append(t.Form[:2], t.Form[3:]...) }, "", "form.to_date", "needs a required date field"},
		{"leave person of wrong type", func(t *Template) { t.Form[0].Type = TypeString }, "", "form.person", "to be a person field"},
		{"leave field not required", func(t *Template) { t.Form[1].Required = false }, "", "form.from_date", "to be required"},
		{"shift swap without other_date", func(t *Template) {
			t.Kind = KindShiftSwap
			t.Form = append(t.Form, Field{Name: "date", Type: TypeDate, Required: true}, Field{Name: "other_person", Type: TypePerson, Required: true})
		}, "", "form.other_date", "needs a required date field"},
		{"duplicate field", func(t *Template) { t.Form = append(t.Form, Field{Name: "days", Type: TypeNumber}) }, "", "form.days", "duplicate field"},
		{"bad field type", func(t *Template) { t.Form[3].Type = "money" }, "", "form.days.type", "unknown field type"},
		{"enum without values", func(t *Template) { t.Form[4].Enum = nil }, "", "form.type.enum", "at least one value"},
		{"unreachable node", func(t *Template) {
			t.Nodes = append(t.Nodes, approvalNode("orphan", "end", ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("ceo")}}))
		}, "orphan", "", "unreachable"},
		{"no path to end", func(t *Template) { node(t, "hr").Next = "nowhere" }, "upper", "", "no path from this node to an end node"},
		{"condition on unknown field", func(t *Template) { node(t, "long").Branches[0].When.And[0].Field = "weeks" }, "long", "branches[0].when.and[0].field", "unknown form field \"weeks\""},
		{"number compared with a string", func(t *Template) { node(t, "long").Branches[0].When.And[0].Value = "three" }, "long", "branches[0].when.and[0].value", "compare it with a number"},
		{"enum compared with a non-member", func(t *Template) { node(t, "long").Branches[0].When.And[1].Value = "maternity" }, "long", "branches[0].when.and[1].value", "one of annual, sick"},
		{"operator not for enums", func(t *Template) { node(t, "long").Branches[0].When.And[1].Op = OpGt }, "long", "branches[0].when.and[1].op", "does not apply"},
		{"date compared with a bad date", func(t *Template) {
			node(t, "long").Branches[0].When = &Condition{Field: "from_date", Op: OpLt, Value: "2026-13-01"}
		}, "long", "branches[0].when.value", "YYYY-MM-DD"},
		{"in without a list", func(t *Template) {
			node(t, "long").Branches[0].When = &Condition{Field: "type", Op: OpIn, Value: "annual"}
		}, "long", "branches[0].when.value", "non-empty list"},
		{"and with or", func(t *Template) {
			node(t, "long").Branches[0].When.Or = []Condition{{Field: "days", Op: OpGt, Value: 1}}
		}, "long", "branches[0].when", "not both"},
		{"empty condition", func(t *Template) { node(t, "long").Branches[0].When = &Condition{} }, "long", "branches[0].when", "needs a field"},
		{"missing default branch", func(t *Template) {
			node(t, "long").Branches[1].Default = false
			node(t, "long").Branches[1].When = node(t, "long").Branches[0].When
		}, "long", "branches", "missing default branch"},
		{"two default branches", func(t *Template) { b := &node(t, "long").Branches[0]; b.Default, b.When = true, nil }, "long", "branches", "more than one default"},
		{"branch without condition", func(t *Template) { node(t, "long").Branches[0].When = nil }, "long", "branches[0].when", "needs a when condition"},
		{"cycle", func(t *Template) { node(t, "hr").Next = "manager" }, "hr", "", "cycle manager -> long -> "},
		{"empty approver rules", func(t *Template) { node(t, "upper").Approval.Approvers = nil }, "upper", "approval.approvers", "empty approver rules"},
		{"empty people rule", func(t *Template) { node(t, "upper").Approval.Approvers[0] = ApproverRule{Type: RulePeople} }, "upper", "approval.approvers[0].people", "at least one person"},
		{"empty role rule", func(t *Template) { node(t, "upper").Approval.Approvers[0] = ApproverRule{Type: RuleRole} }, "upper", "approval.approvers[0].role", "name a role"},
		{"manager level 0", func(t *Template) { node(t, "upper").Approval.Approvers[0].Level = 0 }, "upper", "approval.approvers[0].level", "between 1 and"},
		{"form field rule on a number", func(t *Template) {
			node(t, "upper").Approval.Approvers[0] = ApproverRule{Type: RuleFormField, Field: "days"}
		}, "upper", "approval.approvers[0].field", "not a person"},
		{"unknown rule", func(t *Template) { node(t, "upper").Approval.Approvers[0].Type = "boss" }, "upper", "approval.approvers[0].type", "unknown approver rule"},
		{"unknown mode", func(t *Template) { node(t, "upper").Approval.Mode = "majority" }, "upper", "approval.mode", "unknown mode"},
		{"vote without ratio", func(t *Template) { node(t, "upper").Approval.Mode = ModeVote }, "upper", "approval.pass_ratio", "pass ratio in (0, 1]"},
		{"ratio outside vote", func(t *Template) { node(t, "upper").Approval.PassRatio = 0.5 }, "upper", "approval.pass_ratio", "only applies to vote"},
		{"bad on_empty", func(t *Template) { node(t, "upper").Approval.OnEmpty = "skip" }, "upper", "approval.on_empty", "unknown on_empty"},
		{"zero timeout", func(t *Template) { node(t, "manager").Approval.Timeout.After = 0 }, "manager", "approval.timeout.after", "positive"},
		{"bad timeout action", func(t *Template) { node(t, "manager").Approval.Timeout.Action = "nag" }, "manager", "approval.timeout.action", "unknown timeout action"},
		{"reminders max 0", func(t *Template) { node(t, "manager").Approval.Reminders.Max = 0 }, "manager", "approval.reminders.max", "between 1 and"},
		{"unknown reject behaviour", func(t *Template) { node(t, "upper").Approval.OnReject = "to_hell" }, "upper", "approval.on_reject", "unknown reject behaviour"},
		{"reject to a downstream node", func(t *Template) { node(t, "manager").Approval.OnReject = "to_node:upper" }, "manager", "approval.on_reject", "not upstream"},
		{"reject to a cc node", func(t *Template) { node(t, "upper").Approval.OnReject = "to_node:hr" }, "upper", "approval.on_reject", "not an approval node"},
		{"reject to a missing node", func(t *Template) { node(t, "upper").Approval.RejectOptions = []string{"to_node:ghost"} }, "upper", "approval.reject_options[0]", "not a node"},
		{"unknown operation", func(t *Template) {
			node(t, "manager").Approval.Allow = append(node(t, "manager").Approval.Allow, "forward")
		}, "manager", "approval.allow[3]", "unknown operation"},
		{"duplicate node id", func(t *Template) { t.Nodes = append(t.Nodes, endNode()) }, "end", "id", "duplicate node id"},
		{"no start", func(t *Template) {
			t.Nodes[0].Type = NodeCC
			t.Nodes[0].CC = &CCSpec{Recipients: []ApproverRule{people("ceo")}}
		}, "", "nodes", "no start node"},
		{"two starts", func(t *Template) { t.Nodes = append(t.Nodes, Node{ID: "start2", Type: NodeStart, Next: "end"}) }, "start2", "type", "more than one start"},
		{"no end", func(t *Template) {
			node(t, "end").Type = NodeCC
			node(t, "end").CC = &CCSpec{Recipients: []ApproverRule{people("ceo")}}
		}, "", "nodes", "no end node"},
		{"next to a missing node", func(t *Template) { node(t, "upper").Next = "nowhere" }, "upper", "next", "\"nowhere\" is not a node"},
		{"start as a target", func(t *Template) { node(t, "upper").Next = "start" }, "upper", "next", "start node cannot be a target"},
		{"end with next", func(t *Template) { node(t, "end").Next = "hr" }, "end", "next", "no next node"},
		{"unknown node type", func(t *Template) { node(t, "hr").Type = "email" }, "hr", "type", "unknown node type"},
		{"approval without settings", func(t *Template) { node(t, "upper").Approval = nil }, "upper", "approval", "settings are required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tpl := base()
			tc.edit(tpl)
			probs := ValidateTemplate(tpl)
			for _, p := range probs {
				if p.Node == tc.wantNode && p.Field == tc.wantField && strings.Contains(p.Reason, tc.wantText) {
					return
				}
			}
			t.Fatalf("want problem {node %q field %q ~%q}, got %v", tc.wantNode, tc.wantField, tc.wantText, probs)
		})
	}
}

func TestValidateParallelStructure(t *testing.T) {
	cases := []struct {
		name     string
		edit     func(*Template)
		wantNode string
		wantText string
	}{
		{"split without join", func(t *Template) { t.node("split").Join = "" }, "split", "split without matching join"},
		{"split naming a non-join", func(t *Template) { t.node("split").Join = "boss" }, "split", "split without matching join"},
		{"branch running to the end", func(t *Template) { t.node("hr").Next = "end" }, "end", "end reached inside branch 1 of parallel split"},
		{"branches merging before the join", func(t *Template) { t.node("fin").Next = "hr" }, "hr", "parallel branches must stay apart"},
		{"join reached from outside", func(t *Template) { t.node("mgr").Next = "join" }, "join", "join reached outside any parallel branch"},
		{"one branch", func(t *Template) { t.node("split").Branches = t.node("split").Branches[:1] }, "split", "at least two branches"},
		{"join without split", func(t *Template) {
			t.Nodes = append(t.Nodes, Node{ID: "join2", Type: NodeJoin, Next: "end"})
			t.node("boss").Next = "join2"
		}, "join2", "join without a parallel split"},
		{"conditional parallel branch", func(t *Template) {
			t.node("split").Branches[0].When = &Condition{Field: "days", Op: OpGt, Value: 1}
		}, "split", "take no condition"},
		{"reject into a sibling branch", func(t *Template) { t.node("hr").Approval.OnReject = "to_node:fin" }, "hr", "not upstream"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tpl := parallelTemplate()
			tc.edit(tpl)
			probs := ValidateTemplate(tpl)
			for _, p := range probs {
				if p.Node == tc.wantNode && strings.Contains(p.Reason, tc.wantText) {
					return
				}
			}
			t.Fatalf("want problem {node %q ~%q}, got %v", tc.wantNode, tc.wantText, probs)
		})
	}
}

func TestRejectTargetOutOfABranchIsValid(t *testing.T) {
	tpl := parallelTemplate()
	tpl.node("hr").Approval.OnReject = "to_node:mgr"
	if probs := ValidateTemplate(tpl); len(probs) > 0 {
		t.Fatal(probs)
	}
}

func TestValidateTemplateReportsEveryProblem(t *testing.T) {
	tpl := leaveTemplate(t)
	tpl.node("upper").Approval.Approvers = nil
	tpl.node("long").Branches[1].Default = false
	tpl.node("long").Branches[1].When = &Condition{Field: "ghost", Op: OpEq, Value: 1}
	probs := ValidateTemplate(tpl)
	nodes := map[string]bool{}
	for _, p := range probs {
		nodes[p.Node] = true
	}
	if !nodes["upper"] || !nodes["long"] || len(probs) < 3 {
		t.Fatalf("want problems on upper and long (3+), got %v", probs)
	}
}

func TestDurationJSON(t *testing.T) {
	for in, want := range map[string]time.Duration{
		`"2d"`: 48 * time.Hour, `"1d12h"`: 36 * time.Hour, `"90m"`: 90 * time.Minute, `"1h30m"`: 90 * time.Minute,
	} {
		var d Duration
		if err := json.Unmarshal([]byte(in), &d); err != nil || time.Duration(d) != want {
			t.Errorf("%s: got %v %v, want %v", in, time.Duration(d), err, want)
		}
		b, _ := json.Marshal(d)
		var back Duration
		if err := json.Unmarshal(b, &back); err != nil || back != d {
			t.Errorf("%s: round trip %s -> %v %v", in, b, back, err)
		}
	}
	for _, bad := range []string{`"d"`, `"x2d"`, `"2dd"`, `""`, `12`, `"-1d"`, `"99999999d"`} {
		var d Duration
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("%s: accepted as %v", bad, time.Duration(d))
		}
	}
}
