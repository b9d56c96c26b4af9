package flow

import (
	"strings"
	"testing"
)

// TestCheckCatchesCorruption shows the invariant checker the property test
// relies on does reject broken states.
func TestCheckCatchesCorruption(t *testing.T) {
	h := newHarness(t, opsChain(ModeAll, "mgr", "cto"))
	h.submit("alice", form("days", 1))
	h.approve("mgr")
	if err := h.st.Check(h.tpl); err != nil {
		t.Fatalf("healthy state rejected: %v", err)
	}
	cases := []struct {
		name    string
		corrupt func(*Instance)
		want    string
	}{
		{"tally off", func(in *Instance) { in.Runs[0].Approved = 0 }, "stores tally"},
		{"double vote", func(in *Instance) {
			in.Tasks[0].State, in.Tasks[0].Assignee, in.Runs[0].Approved = TaskOpen, "cto", 0
		}, "holds two pending tasks"},
		{"stuck", func(in *Instance) {
			for i := range in.Tasks {
				in.Tasks[i].State = TaskCancelled
			}
		}, "stuck"},
		{"orphan timer", func(in *Instance) {
			in.Timers = append(in.Timers, Timer{ID: "i1:tm1", TaskID: "i1:t2", Kind: TimerTimeout})
		}, "not open"},
		{"finished with open tasks", func(in *Instance) { in.Status = StatusApproved; in.FinishedAt = in.UpdatedAt }, "on a approved instance"},
		{"foreign id", func(in *Instance) { in.Tasks[0].ID = "x:t1" }, "is not i1:t"},
		{"active mismatch", func(in *Instance) { in.Active = nil }, "active list says false"},
		{"join out of range", func(in *Instance) { in.Joins = map[string]int{"nope": 1} }, "out of range"},
		{"history gap", func(in *Instance) { in.History[0].Seq = 7 }, "has seq 7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := h.st.clone()
			tc.corrupt(in)
			err := in.Check(h.tpl)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ~%q", err, tc.want)
			}
		})
	}
}

func TestDirectoryChangesMidFlight(t *testing.T) {
	tpl := chain(
		ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("mgr")}},
		ApprovalSpec{Mode: ModeAll, Approvers: []ApproverRule{people("dave", "erin")}, OnEmpty: EmptyAutoApprove},
		ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{{Type: RuleManager, Level: 1}}},
	)
	h := newHarness(t, tpl)
	h.submit("alice", form("days", 1))
	dir := h.dir.(*StaticDirectory)
	dir.Remove("erin")
	dir.Put(Person{ID: "alice", Manager: "bob", Department: "eng"})
	h.approve("mgr")
	h.wantOpen("dave") // erin left: only dave resolves
	h.approve("dave")
	h.wantOpen("bob") // alice's new manager
}

func TestNoQueuedApproverTwice(t *testing.T) {
	h := newHarness(t, opsChain(ModeSequential, "mgr", "cto"))
	h.submit("alice", form("days", 1))
	if e := h.fail(Command{Action: ActAddSigner, Actor: "mgr", Signers: []string{"cto"}, Position: PositionBefore}, ErrInvalid); !strings.Contains(e.Reason, "already queued") {
		t.Fatal(e.Reason)
	}
}
