package flow

import (
	"slices"
	"testing"
)

func TestApproverRules(t *testing.T) {
	cases := []struct {
		name   string
		rules  []ApproverRule
		chosen []string
		form   map[string]any
		want   []string // in slot order
	}{
		{"listed people, skipping who left", []ApproverRule{people("ceo", "ghost", "dave")}, nil, nil, []string{"ceo", "dave"}},
		{"role members sorted", []ApproverRule{{Type: RuleRole, Role: "hr"}}, nil, nil, []string{"carol", "hr1", "hr2"}},
		{"manager level 1", []ApproverRule{{Type: RuleManager, Level: 1}}, nil, nil, []string{"mgr"}},
		{"manager level 3", []ApproverRule{{Type: RuleManager, Level: 3}}, nil, nil, []string{"ceo"}},
		{"manager above the top", []ApproverRule{{Type: RuleManager, Level: 4}}, nil, nil, nil},
		{"manager chain", []ApproverRule{{Type: RuleManagerChain, Level: 5}}, nil, nil, []string{"mgr", "cto", "ceo"}},
		{"department head", []ApproverRule{{Type: RuleDepartmentHead}}, nil, nil, []string{"cto"}},
		{"chosen at submit", []ApproverRule{{Type: RuleChosen}}, []string{"erin", "dave"}, nil, []string{"erin", "dave"}},
		{"person from the form", []ApproverRule{{Type: RuleFormField, Field: "backup"}}, nil, form("backup", "bob"), []string{"bob"}},
		{"rules combine without duplicates", []ApproverRule{{Type: RuleManager, Level: 2}, {Type: RuleDepartmentHead}, people("dave", "cto")}, nil, nil, []string{"cto", "dave"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tpl := chain(ApprovalSpec{Mode: ModeSequential, Approvers: tc.rules, OnEmpty: EmptyAutoApprove})
			h := newHarness(t, tpl)
			f := form("days", 1)
			for k, v := range tc.form {
				f[k] = v
			}
			c := Command{Action: ActSubmit, Actor: "alice", InstanceID: "i1", Form: f}
			if tc.chosen != nil {
				c.Chosen = map[string][]string{"n1": tc.chosen}
			}
			h.do(c)
			var got []string
			for _, want := range tc.want {
				got = append(got, h.open()...)
				h.approve(want)
			}
			h.wantStatus(StatusApproved)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("approvers %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOnEmpty(t *testing.T) {
	nobody := []ApproverRule{people("ghost")}
	next := ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("ceo")}}
	cases := []struct {
		name     string
		spec     ApprovalSpec
		dir      func(*StaticDirectory) Directory
		want     Status
		wantOpen []string
	}{
		{"auto approve passes to the next node", ApprovalSpec{Mode: ModeAll, Approvers: nobody, OnEmpty: EmptyAutoApprove}, nil, StatusRunning, []string{"ceo"}},
		{"reject ends the instance", ApprovalSpec{Mode: ModeAll, Approvers: nobody, OnEmpty: EmptyReject}, nil, StatusRejected, nil},
		{"admin named on the node", ApprovalSpec{Mode: ModeAll, Approvers: nobody, OnEmpty: EmptyToAdmin, EmptyAdmin: "dave"}, nil, StatusRunning, []string{"dave"}},
		{"default routes to the directory admin", ApprovalSpec{Mode: ModeAll, Approvers: nobody}, nil, StatusRunning, []string{"root"}},
		{"no admin anywhere rejects", ApprovalSpec{Mode: ModeAll, Approvers: nobody}, func(d *StaticDirectory) Directory {
			return NewStaticDirectory([]Person{{ID: "alice"}, {ID: "ceo"}}, nil, "")
		}, StatusRejected, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, chain(tc.spec, next))
			if tc.dir != nil {
				h.dir = tc.dir(testDir())
			}
			h.submit("alice", form("days", 1))
			h.wantStatus(tc.want)
			h.wantOpen(tc.wantOpen...)
			if tc.want == StatusRunning && tc.wantOpen[0] != "ceo" {
				if tk := h.taskOf(tc.wantOpen[0]); tk.Origin != OriginAdmin {
					t.Fatalf("admin task origin %s", tk.Origin)
				}
			}
		})
	}
}

func TestEmptyManagerChainIsNeverStuck(t *testing.T) {
	// The ceo has no manager: the manager node auto-approves by its rule.
	h := newHarness(t, leaveTemplate(t))
	h.submit("ceo", form("person", "ceo", "from_date", "2026-03-02", "to_date", "2026-03-09", "days", 6, "type", "annual"))
	// upper: manager level 2 of ceo is nobody, department head of exec is
	// ceo himself: the sequential node asks the ceo.
	h.wantOpen("ceo")
	h.approve("ceo")
	h.wantStatus(StatusApproved)
}
