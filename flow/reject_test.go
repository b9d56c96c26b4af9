package flow

import (
	"strings"
	"testing"
)

// threeSteps: n1 (mgr) -> n2 (cto) -> n3 (ceo), n3 rejecting per behaviour.
func threeSteps(behaviour string, options ...string) *Template {
	one := func(p string) ApprovalSpec {
		return ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people(p)}}
	}
	last := one("ceo")
	last.OnReject, last.RejectOptions = behaviour, options
	return chain(one("mgr"), one("cto"), last)
}

func TestRejectBehaviours(t *testing.T) {
	cases := []struct {
		name      string
		behaviour string
		want      Status
		wantOpen  []string
	}{
		{"terminate", RejectTerminate, StatusRejected, nil},
		{"default is terminate", "", StatusRejected, nil},
		{"to previous", RejectToPrevious, StatusRunning, []string{"cto"}},
		{"to initiator", RejectToInitiator, StatusReturned, nil},
		{"to node", RejectToNode + "n1", StatusRunning, []string{"mgr"}},
		{"to itself", RejectToNode + "n3", StatusRunning, []string{"ceo"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, threeSteps(tc.behaviour))
			h.submit("alice", form("days", 1))
			h.approve("mgr")
			h.approve("cto")
			h.reject("ceo")
			h.wantStatus(tc.want)
			h.wantOpen(tc.wantOpen...)
		})
	}
}

func TestRejectToPreviousWalksBackStepByStep(t *testing.T) {
	tpl := threeSteps(RejectToPrevious)
	tpl.node("n2").Approval.OnReject = RejectToPrevious
	tpl.node("n1").Approval.OnReject = RejectToPrevious
	h := newHarness(t, tpl)
	h.submit("alice", form("days", 1))
	h.approve("mgr")
	h.approve("cto")
	h.reject("ceo")
	h.wantOpen("cto")
	h.reject("cto")
	h.wantOpen("mgr")
	// The first node has no previous step: back to the initiator.
	h.reject("mgr")
	h.wantStatus(StatusReturned)
	h.wantEvents("task.rejected", "instance.returned")
}

func TestRejectToPreviousSkipsAutoApprovedNodes(t *testing.T) {
	tpl := chain(
		ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("mgr")}},
		ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("ghost")}, OnEmpty: EmptyAutoApprove},
		ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("ceo")}, OnReject: RejectToPrevious},
	)
	h := newHarness(t, tpl)
	h.submit("alice", form("days", 1))
	h.approve("mgr")
	h.wantOpen("ceo")
	h.reject("ceo")
	h.wantOpen("mgr")
}

func TestRejecterChoosesAmongOptions(t *testing.T) {
	h := newHarness(t, threeSteps(RejectTerminate, RejectToInitiator, RejectToNode+"n2"))
	h.submit("alice", form("days", 1))
	h.approve("mgr")
	h.approve("cto")
	if e := h.fail(Command{Action: ActReject, Actor: "ceo", RejectTo: RejectToPrevious}, ErrInvalid); !strings.Contains(e.Reason, "does not offer") {
		t.Fatal(e.Reason)
	}
	h.do(Command{Action: ActReject, Actor: "ceo", RejectTo: RejectToNode + "n2"})
	h.wantOpen("cto")
	h.approve("cto")
	h.do(Command{Action: ActReject, Actor: "ceo", RejectTo: RejectTerminate})
	h.wantStatus(StatusRejected)
}

func TestCommentRequiredOnReject(t *testing.T) {
	h := newHarness(t, chain(ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("mgr")}, CommentRequiredOnReject: true}))
	h.submit("alice", form("days", 1))
	if e := h.fail(Command{Action: ActReject, Actor: "mgr", Comment: "  "}, ErrInvalid); !strings.HasPrefix(e.Reason, "comment:") {
		t.Fatal(e.Reason)
	}
	h.do(Command{Action: ActReject, Actor: "mgr", Comment: "too long"})
	h.wantStatus(StatusRejected)
	if tk := h.taskOf("mgr"); tk.Comment != "too long" {
		t.Fatalf("comment %q", tk.Comment)
	}
}

func TestReturnedThenResubmitted(t *testing.T) {
	h := newHarness(t, leaveTemplate(t))
	h.tpl.node("upper").Approval.OnReject = RejectToInitiator
	h.submit("alice", form("person", "alice", "from_date", "2026-03-02", "to_date", "2026-03-09", "days", 6, "type", "annual"))
	h.approve("mgr")
	h.wantOpen("cto")
	h.reject("cto")
	h.wantStatus(StatusReturned)
	// Only the initiator, and only with a valid form.
	h.fail(Command{Action: ActResubmit, Actor: "mgr"}, ErrForbidden)
	h.fail(Command{Action: ActResubmit, Actor: "alice", Form: form("days", 2)}, ErrInvalid)
	h.fail(Command{Action: ActApprove, Actor: "cto"}, ErrConflict)
	// Two days now: the condition skips the upper node.
	h.do(Command{Action: ActResubmit, Actor: "alice", Form: form("person", "alice", "from_date", "2026-03-02", "to_date", "2026-03-03", "days", 2, "type", "annual")})
	h.wantEvents("instance.resubmitted", "task.created")
	if h.st.Round != 2 || h.st.Form["days"] != 2.0 {
		t.Fatalf("round %d form %v", h.st.Round, h.st.Form)
	}
	h.approve("mgr")
	h.wantStatus(StatusApproved)
	h.fail(Command{Action: ActResubmit, Actor: "alice"}, ErrConflict)
}

func TestResubmitKeepsFormWhenNoneGiven(t *testing.T) {
	h := newHarness(t, threeSteps(RejectToInitiator))
	h.submit("alice", form("days", 1, "reason", "x"))
	h.approve("mgr")
	h.approve("cto")
	h.reject("ceo")
	h.do(Command{Action: ActResubmit, Actor: "alice"})
	if h.st.Form["reason"] != "x" {
		t.Fatalf("form %v", h.st.Form)
	}
	h.wantOpen("mgr")
}
