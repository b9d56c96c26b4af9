package flow

import (
	"strings"
	"testing"
)

var allOps = []Operation{OpTransfer, OpDelegate, OpAddSigner}

func opsChain(mode Mode, approvers ...string) *Template {
	return chain(
		ApprovalSpec{Mode: mode, Approvers: []ApproverRule{people(approvers...)}, Allow: allOps},
		ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("ceo")}},
	)
}

func TestTransfer(t *testing.T) {
	h := newHarness(t, opsChain(ModeSingle, "mgr"))
	h.submit("alice", form("days", 1))
	old := h.taskOf("mgr")
	h.do(Command{Action: ActTransfer, Actor: "mgr", To: "bob", Comment: "on leave"})
	h.wantEvents("task.created", "task.transferred")
	ev, _ := h.event(EventTaskTransferred)
	if ev.Data.TaskID != old.ID || ev.Data.To != "bob" || ev.Data.Assignee != "mgr" || ev.Data.NewTaskID != h.taskOf("bob").ID {
		t.Fatalf("transferred data %+v", ev.Data)
	}
	h.wantOpen("bob")
	h.fail(Command{Action: ActApprove, Actor: "mgr"}, ErrConflict)
	h.approve("bob")
	h.wantOpen("ceo")
}

func TestTransferRefusals(t *testing.T) {
	cases := []struct {
		name string
		tpl  *Template
		c    Command
		kind error
		text string
	}{
		{"not allowed on the node", chain(ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("mgr")}}), Command{Action: ActTransfer, Actor: "mgr", To: "bob"}, ErrForbidden, "does not allow transfer"},
		{"non-assignee", opsChain(ModeSingle, "mgr"), Command{Action: ActTransfer, Actor: "zed", To: "bob"}, ErrForbidden, "holds no task"},
		{"to nobody", opsChain(ModeSingle, "mgr"), Command{Action: ActTransfer, Actor: "mgr"}, ErrInvalid, "to: name the person"},
		{"to an unknown person", opsChain(ModeSingle, "mgr"), Command{Action: ActTransfer, Actor: "mgr", To: "ghost"}, ErrInvalid, "unknown person"},
		{"to oneself", opsChain(ModeSingle, "mgr"), Command{Action: ActTransfer, Actor: "mgr", To: "mgr"}, ErrInvalid, "already holds"},
		{"to a co-signer (double vote)", opsChain(ModeAll, "mgr", "cto"), Command{Action: ActTransfer, Actor: "mgr", To: "cto"}, ErrInvalid, "already holds a task"},
		{"unknown task id", opsChain(ModeSingle, "mgr"), Command{Action: ActTransfer, Actor: "mgr", To: "bob", TaskID: "i1:t99"}, ErrNotFound, "not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.tpl)
			h.submit("alice", form("days", 1))
			if e := h.fail(tc.c, tc.kind); !strings.Contains(e.Reason, tc.text) {
				t.Fatalf("reason %q, want ~%q", e.Reason, tc.text)
			}
		})
	}
}

func TestAdminTransferIgnoresNodeRules(t *testing.T) {
	h := newHarness(t, chain(ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("mgr")}}))
	h.submit("alice", form("days", 1))
	h.fail(Command{Action: ActTransfer, Actor: "root", To: "bob"}, ErrForbidden)
	h.do(Command{Action: ActTransfer, Actor: "root", Admin: true, TaskID: h.taskOf("mgr").ID, To: "bob"})
	h.wantOpen("bob")
}

func TestDelegateReturnsToDelegator(t *testing.T) {
	h := newHarness(t, opsChain(ModeSingle, "mgr"))
	h.submit("alice", form("days", 1))
	h.do(Command{Action: ActDelegate, Actor: "mgr", To: "carol", Comment: "check the dates"})
	h.wantEvents("task.created", "task.delegated")
	h.wantOpen("carol")
	if e := h.fail(Command{Action: ActApprove, Actor: "mgr"}, ErrConflict); !strings.Contains(e.Reason, "delegate") {
		t.Fatalf("reason %q", e.Reason)
	}
	h.fail(Command{Action: ActTransfer, Actor: "carol", To: "bob"}, ErrForbidden)
	h.fail(Command{Action: ActReject, Actor: "carol", RejectTo: RejectToInitiator}, ErrInvalid)
	// The delegate's reject is an opinion: the node is not rejected.
	h.do(Command{Action: ActReject, Actor: "carol", Comment: "dates overlap"})
	h.wantStatus(StatusRunning)
	h.wantOpen("mgr")
	ev, _ := h.event(EventTaskRejected)
	if !ev.Data.Opinion || ev.Data.ReturnedTo != "mgr" {
		t.Fatalf("opinion event %+v", ev.Data)
	}
	back := h.taskOf("mgr")
	if back.Delegation == nil || back.Delegation.To != "carol" || back.Delegation.Opinion != "reject" || back.Delegation.Comment != "dates overlap" {
		t.Fatalf("delegation %+v", back.Delegation)
	}
	h.approve("mgr")
	h.wantOpen("ceo")
}

func TestDelegateInAllModeDoesNotVote(t *testing.T) {
	h := newHarness(t, opsChain(ModeAll, "mgr", "cto"))
	h.submit("alice", form("days", 1))
	h.do(Command{Action: ActDelegate, Actor: "mgr", To: "bob"})
	h.approve("cto")
	h.approve("bob")
	h.wantOpen("mgr") // back with the delegator; cto's vote alone is not enough
	h.approve("mgr")
	h.wantOpen("ceo")
}

func TestAddSigner(t *testing.T) {
	cases := []struct {
		name     string
		mode     Mode
		position string
		signers  []string
		// decisions after the add, and who is open before each
		steps []string
		want  []string // open after the steps
	}{
		{"before: signers first, in order, then the adder", ModeSingle, PositionBefore, []string{"bob", "carol"}, []string{"bob", "carol", "mgr"}, []string{"ceo"}},
		{"after: the adder approves now, signers follow", ModeSingle, PositionAfter, []string{"bob", "carol"}, []string{"bob", "carol"}, []string{"ceo"}},
		{"parallel: all sign beside the adder", ModeSingle, PositionParallel, []string{"bob", "carol"}, []string{"carol", "mgr", "bob"}, []string{"ceo"}},
		{"after in all mode keeps the node open", ModeAll, PositionAfter, []string{"bob"}, []string{"cto", "bob"}, []string{"ceo"}},
		{"before in any mode: another approver may still win", ModeAny, PositionBefore, []string{"bob"}, []string{"cto"}, []string{"ceo"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			approvers := []string{"mgr"}
			if tc.mode != ModeSingle {
				approvers = append(approvers, "cto")
			}
			h := newHarness(t, opsChain(tc.mode, approvers...))
			h.submit("alice", form("days", 1))
			h.do(Command{Action: ActAddSigner, Actor: "mgr", Signers: tc.signers, Position: tc.position})
			for _, who := range tc.steps {
				if !strings.Contains(strings.Join(h.open(), ","), who) {
					t.Fatalf("%s is not open before deciding: %v", who, h.open())
				}
				h.approve(who)
			}
			h.wantOpen(tc.want...)
		})
	}
}

func TestAddSignerBeforeOrder(t *testing.T) {
	h := newHarness(t, opsChain(ModeSingle, "mgr"))
	h.submit("alice", form("days", 1))
	h.do(Command{Action: ActAddSigner, Actor: "mgr", Signers: []string{"bob", "carol"}, Position: PositionBefore})
	h.wantOpen("bob")
	if tk := h.taskOf("mgr"); tk.State != TaskWaiting {
		t.Fatalf("adder's task is %s", tk.State)
	}
	h.fail(Command{Action: ActApprove, Actor: "mgr"}, ErrConflict)
	h.approve("bob")
	h.wantOpen("carol")
	h.approve("carol")
	h.wantOpen("mgr")
}

func TestAddedSignerRejectRejectsTheNode(t *testing.T) {
	h := newHarness(t, opsChain(ModeSingle, "mgr"))
	h.submit("alice", form("days", 1))
	h.do(Command{Action: ActAddSigner, Actor: "mgr", Signers: []string{"bob"}, Position: PositionBefore})
	h.reject("bob")
	h.wantStatus(StatusRejected)
}

func TestAddSignerRefusals(t *testing.T) {
	cases := []struct {
		name string
		tpl  *Template
		c    Command
		kind error
		text string
	}{
		{"not allowed", chain(ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("mgr")}}), Command{Action: ActAddSigner, Actor: "mgr", Signers: []string{"bob"}, Position: PositionBefore}, ErrForbidden, "does not allow add_signer"},
		{"no signers", opsChain(ModeSingle, "mgr"), Command{Action: ActAddSigner, Actor: "mgr", Position: PositionBefore}, ErrInvalid, "signers: name at least one"},
		{"bad position", opsChain(ModeSingle, "mgr"), Command{Action: ActAddSigner, Actor: "mgr", Signers: []string{"bob"}, Position: "around"}, ErrInvalid, "position"},
		{"oneself", opsChain(ModeSingle, "mgr"), Command{Action: ActAddSigner, Actor: "mgr", Signers: []string{"mgr"}, Position: PositionAfter}, ErrInvalid, "signers[0]: you cannot add yourself"},
		{"twice", opsChain(ModeSingle, "mgr"), Command{Action: ActAddSigner, Actor: "mgr", Signers: []string{"bob", "bob"}, Position: PositionAfter}, ErrInvalid, "signers[1]"},
		{"unknown", opsChain(ModeSingle, "mgr"), Command{Action: ActAddSigner, Actor: "mgr", Signers: []string{"bob", "ghost"}, Position: PositionAfter}, ErrInvalid, "signers[1]: unknown person"},
		{"already voting", opsChain(ModeAll, "mgr", "cto"), Command{Action: ActAddSigner, Actor: "mgr", Signers: []string{"cto"}, Position: PositionParallel}, ErrInvalid, "already holds a task"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.tpl)
			h.submit("alice", form("days", 1))
			if e := h.fail(tc.c, tc.kind); !strings.Contains(e.Reason, tc.text) {
				t.Fatalf("reason %q, want ~%q", e.Reason, tc.text)
			}
		})
	}
}

func TestRemoveSigner(t *testing.T) {
	t.Run("open before-signer: chain continues", func(t *testing.T) {
		h := newHarness(t, opsChain(ModeSingle, "mgr"))
		h.submit("alice", form("days", 1))
		h.do(Command{Action: ActAddSigner, Actor: "mgr", Signers: []string{"bob", "carol"}, Position: PositionBefore})
		h.do(Command{Action: ActRemoveSigner, Actor: "mgr", Signers: []string{"bob"}})
		h.wantOpen("carol")
		h.do(Command{Action: ActRemoveSigner, Actor: "mgr", Signers: []string{"carol"}})
		h.wantOpen("mgr")
	})
	t.Run("queued after-signer dropped", func(t *testing.T) {
		h := newHarness(t, opsChain(ModeSingle, "mgr"))
		h.submit("alice", form("days", 1))
		h.do(Command{Action: ActAddSigner, Actor: "mgr", Signers: []string{"bob", "carol"}, Position: PositionAfter})
		h.do(Command{Action: ActRemoveSigner, Actor: "mgr", Signers: []string{"carol"}})
		h.approve("bob")
		h.wantOpen("ceo")
	})
	t.Run("last pending after-signer removed completes the node", func(t *testing.T) {
		h := newHarness(t, opsChain(ModeSingle, "mgr"))
		h.submit("alice", form("days", 1))
		h.do(Command{Action: ActAddSigner, Actor: "mgr", Signers: []string{"bob"}, Position: PositionAfter})
		h.do(Command{Action: ActRemoveSigner, Actor: "mgr", Signers: []string{"bob"}})
		h.wantOpen("ceo")
	})
	t.Run("parallel co-signer removed", func(t *testing.T) {
		h := newHarness(t, opsChain(ModeSingle, "mgr"))
		h.submit("alice", form("days", 1))
		h.do(Command{Action: ActAddSigner, Actor: "mgr", Signers: []string{"bob"}, Position: PositionParallel})
		h.do(Command{Action: ActRemoveSigner, Actor: "mgr", Signers: []string{"bob"}})
		h.wantOpen("mgr")
		h.approve("mgr")
		h.wantOpen("ceo")
	})
	t.Run("someone else's signer is refused", func(t *testing.T) {
		h := newHarness(t, opsChain(ModeAll, "mgr", "cto"))
		h.submit("alice", form("days", 1))
		h.do(Command{Action: ActAddSigner, Actor: "mgr", Signers: []string{"bob"}, Position: PositionParallel})
		if e := h.fail(Command{Action: ActRemoveSigner, Actor: "cto", Signers: []string{"bob"}}, ErrInvalid); !strings.Contains(e.Reason, "signers[0]: bob is not a pending signer you added") {
			t.Fatal(e.Reason)
		}
		h.fail(Command{Action: ActRemoveSigner, Actor: "mgr"}, ErrInvalid)
	})
}
