package flow

import (
	"testing"
)

// step is one decision in a table-driven flow test.
type step struct {
	actor   string
	approve bool
}

func TestModes(t *testing.T) {
	three := people("mgr", "cto", "ceo")
	five := people("mgr", "cto", "ceo", "dave", "erin")
	cases := []struct {
		name     string
		spec     ApprovalSpec
		steps    []step
		wantOpen []string // after all steps, when still running
		want     Status
	}{
		{"single approves", ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{three}}, []step{{"mgr", true}}, nil, StatusApproved},
		{"single takes only the first resolved", ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{three}}, nil, []string{"mgr"}, StatusRunning},
		{"single rejects", ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{three}}, []step{{"mgr", false}}, nil, StatusRejected},
		{"sequential waits for each in order", ApprovalSpec{Mode: ModeSequential, Approvers: []ApproverRule{three}}, []step{{"mgr", true}}, []string{"cto"}, StatusRunning},
		{"sequential passes when all approve", ApprovalSpec{Mode: ModeSequential, Approvers: []ApproverRule{three}}, []step{{"mgr", true}, {"cto", true}, {"ceo", true}}, nil, StatusApproved},
		{"sequential rejects at the second", ApprovalSpec{Mode: ModeSequential, Approvers: []ApproverRule{three}}, []step{{"mgr", true}, {"cto", false}}, nil, StatusRejected},
		{"all opens everyone at once", ApprovalSpec{Mode: ModeAll, Approvers: []ApproverRule{three}}, nil, []string{"mgr", "cto", "ceo"}, StatusRunning},
		{"all waits for the last", ApprovalSpec{Mode: ModeAll, Approvers: []ApproverRule{three}}, []step{{"ceo", true}, {"mgr", true}}, []string{"cto"}, StatusRunning},
		{"all passes", ApprovalSpec{Mode: ModeAll, Approvers: []ApproverRule{three}}, []step{{"ceo", true}, {"mgr", true}, {"cto", true}}, nil, StatusApproved},
		{"all rejects on one reject", ApprovalSpec{Mode: ModeAll, Approvers: []ApproverRule{three}}, []step{{"ceo", true}, {"cto", false}}, nil, StatusRejected},
		{"any first approval wins", ApprovalSpec{Mode: ModeAny, Approvers: []ApproverRule{three}}, []step{{"cto", true}}, nil, StatusApproved},
		{"any first reject wins", ApprovalSpec{Mode: ModeAny, Approvers: []ApproverRule{three}}, []step{{"cto", false}}, nil, StatusRejected},
		{"vote 60% of 5 passes at 3", ApprovalSpec{Mode: ModeVote, PassRatio: 0.6, Approvers: []ApproverRule{five}}, []step{{"mgr", true}, {"cto", false}, {"ceo", true}, {"dave", true}}, nil, StatusApproved},
		{"vote 60% of 5 still open at 2 of 4", ApprovalSpec{Mode: ModeVote, PassRatio: 0.6, Approvers: []ApproverRule{five}}, []step{{"mgr", true}, {"cto", false}, {"ceo", true}, {"dave", false}}, []string{"erin"}, StatusRunning},
		{"vote 60% of 5 rejects once 3 can't be reached", ApprovalSpec{Mode: ModeVote, PassRatio: 0.6, Approvers: []ApproverRule{five}}, []step{{"mgr", false}, {"cto", true}, {"ceo", false}, {"dave", false}}, nil, StatusRejected},
		{"vote 50% of 4 passes at 2", ApprovalSpec{Mode: ModeVote, PassRatio: 0.5, Approvers: []ApproverRule{people("mgr", "cto", "ceo", "dave")}}, []step{{"mgr", true}, {"dave", true}}, nil, StatusApproved},
		{"vote 100% behaves like all", ApprovalSpec{Mode: ModeVote, PassRatio: 1, Approvers: []ApproverRule{three}}, []step{{"mgr", true}, {"cto", false}}, nil, StatusRejected},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, chain(tc.spec))
			h.submit("alice", form("days", 2))
			for _, s := range tc.steps {
				if s.approve {
					h.approve(s.actor)
				} else {
					h.reject(s.actor)
				}
			}
			h.wantStatus(tc.want)
			if tc.want == StatusRunning {
				h.wantOpen(tc.wantOpen...)
			} else {
				h.wantOpen()
			}
		})
	}
}

func TestAnyRaceLoserGetsConflict(t *testing.T) {
	h := newHarness(t, chain(ApprovalSpec{Mode: ModeAny, Approvers: []ApproverRule{people("mgr", "cto")}}, ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("ceo")}}))
	h.submit("alice", form("days", 2))
	loser := h.taskOf("cto")
	h.approve("mgr")
	h.wantEvents("task.approved", "task.cancelled", "task.created")
	e := h.fail(Command{Action: ActApprove, Actor: "cto", TaskID: loser.ID}, ErrConflict)
	if e.Reason == "" {
		t.Fatal("conflict without a reason")
	}
	h.fail(Command{Action: ActApprove, Actor: "cto"}, ErrConflict)
	h.wantOpen("ceo")
}

func TestVoteTallyIsStored(t *testing.T) {
	h := newHarness(t, chain(ApprovalSpec{Mode: ModeVote, PassRatio: 0.6, Approvers: []ApproverRule{people("mgr", "cto", "ceo", "dave", "erin")}}))
	h.submit("alice", form("days", 2))
	h.approve("mgr")
	h.reject("cto")
	r := h.st.run("n1")
	if r.Slots != 5 || r.Approved != 1 || r.Rejected != 1 {
		t.Fatalf("tally %+v", r)
	}
}
