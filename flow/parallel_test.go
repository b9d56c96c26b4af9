package flow

import (
	"testing"
)

func TestParallelSplitAndJoin(t *testing.T) {
	h := newHarness(t, parallelTemplate())
	h.submit("alice", form("days", 1))
	h.approve("mgr")
	h.wantOpen("dave", "erin", "frank", "hr1", "hr2")
	h.approve("hr1")
	h.approve("hr2") // hr branch at the join, finance still voting
	h.wantOpen("dave", "erin", "frank")
	if h.st.Joins["join"] != 1 {
		t.Fatalf("joins %v", h.st.Joins)
	}
	h.approve("erin")
	h.approve("frank") // 2 of 3 >= 50%
	h.wantOpen("ceo")
	if len(h.st.Joins) != 0 {
		t.Fatalf("joins %v", h.st.Joins)
	}
	h.approve("ceo")
	h.wantStatus(StatusApproved)
}

func TestParallelBranchRejectTerminatesAll(t *testing.T) {
	h := newHarness(t, parallelTemplate())
	h.submit("alice", form("days", 1))
	h.approve("mgr")
	h.reject("hr1")
	h.wantStatus(StatusRejected)
	h.wantOpen()
}

func TestRejectOutOfABranchAbandonsTheSplit(t *testing.T) {
	tpl := parallelTemplate()
	tpl.node("hr").Approval.OnReject = RejectToPrevious // previous of hr is mgr, before the split
	h := newHarness(t, tpl)
	h.submit("alice", form("days", 1))
	h.approve("mgr")
	h.approve("erin")
	h.approve("hr2")
	h.reject("hr1")
	h.wantOpen("mgr")
	if len(h.st.Active) != 1 || len(h.st.Joins) != 0 {
		t.Fatalf("active %v joins %v", h.st.Active, h.st.Joins)
	}
	h.approve("mgr")
	h.wantOpen("dave", "erin", "frank", "hr1", "hr2")
}

func TestRejectAfterJoinRerunsTheSplit(t *testing.T) {
	h := newHarness(t, parallelTemplate()) // boss rejects to_previous
	h.submit("alice", form("days", 1))
	h.approve("mgr")
	h.approve("dave")
	h.approve("erin")
	h.approve("hr1")
	h.approve("hr2")
	h.reject("ceo")
	h.wantOpen("dave", "erin", "frank", "hr1", "hr2")
}

func TestRejectInsideABranchStaysInTheBranch(t *testing.T) {
	tpl := &Template{ID: "nested", Version: 1, Form: testForm(), Nodes: []Node{
		startNode("split"),
		{ID: "split", Type: NodeParallel, Join: "join", Branches: []Branch{{Next: "a1"}, {Next: "b1"}}},
		approvalNode("a1", "a2", ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("mgr")}}),
		approvalNode("a2", "join", ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("cto")}, OnReject: RejectToPrevious}),
		approvalNode("b1", "join", ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("dave")}}),
		{ID: "join", Type: NodeJoin, Next: "end"},
		endNode(),
	}}
	h := newHarness(t, tpl)
	h.submit("alice", form("days", 1))
	h.approve("mgr")
	h.reject("cto")
	h.wantOpen("dave", "mgr")
	h.approve("dave")
	h.approve("mgr")
	h.approve("cto")
	h.wantStatus(StatusApproved)
}

func TestNestedParallelWithConditionAndCC(t *testing.T) {
	tpl := &Template{ID: "nested", Version: 1, Form: testForm(), Nodes: []Node{
		startNode("outer"),
		{ID: "outer", Type: NodeParallel, Join: "outer_join", Branches: []Branch{{Next: "inner"}, {Next: "cond"}}},
		{ID: "inner", Type: NodeParallel, Join: "inner_join", Branches: []Branch{{Next: "x"}, {Next: "y"}, {Next: "inner_join"}}},
		approvalNode("x", "inner_join", ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("mgr")}}),
		approvalNode("y", "copy", ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("cto")}}),
		{ID: "copy", Type: NodeCC, Next: "inner_join", CC: &CCSpec{Recipients: []ApproverRule{people("hr1")}}},
		{ID: "inner_join", Type: NodeJoin, Next: "outer_join"},
		{ID: "cond", Type: NodeCondition, Branches: []Branch{
			{When: &Condition{Field: "days", Op: OpGt, Value: 3}, Next: "z"},
			{Default: true, Next: "outer_join"},
		}},
		approvalNode("z", "outer_join", ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("ceo")}}),
		{ID: "outer_join", Type: NodeJoin, Next: "end"},
		endNode(),
	}}
	for _, days := range []int{1, 5} {
		h := newHarness(t, tpl)
		h.submit("alice", form("days", days))
		if days > 3 {
			h.wantOpen("ceo", "cto", "mgr")
			h.approve("ceo")
		} else {
			h.wantOpen("cto", "mgr")
		}
		h.approve("cto")
		h.wantEvents("task.approved", "cc.sent")
		if len(h.st.CCs) != 1 || h.st.CCs[0].Person != "hr1" {
			t.Fatalf("ccs %v", h.st.CCs)
		}
		h.approve("mgr")
		h.wantStatus(StatusApproved)
	}
}

func TestCC(t *testing.T) {
	h := newHarness(t, leaveTemplate(t))
	h.submit("alice", form("person", "alice", "from_date", "2026-03-02", "to_date", "2026-03-02", "days", 1, "type", "sick"))
	h.approve("mgr")
	h.wantEvents("task.approved", "cc.sent", "cc.sent", "cc.sent", "instance.approved", "leave.approved")
	var got []string
	for _, c := range h.st.CCs {
		got = append(got, c.Person)
	}
	if len(got) != 3 || got[0] != "carol" || got[2] != "hr2" {
		t.Fatalf("ccs %v", got)
	}
	// Anyone copied may comment.
	h.do(Command{Action: ActComment, Actor: "hr2", Comment: "noted"})
}
