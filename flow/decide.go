package flow

import (
	"math"
	"slices"
	"strings"
)

// How a node's tasks combine: every task belongs to an approver slot
// (Task.Order). A slot is approved when its tasks (the approver, signers
// added before, after or beside them, a transfer's replacement) are all
// through and one of them approved; it is rejected by any counted reject.
// The node's mode then turns slot outcomes into the node's outcome.

// decideCmd handles approve and reject from an assignee.
func (a *applier) decideCmd(approve bool) error {
	if err := a.requireRunning(); err != nil {
		return err
	}
	i, err := a.actorTask(a.c.TaskID)
	if err != nil {
		return err
	}
	tk := &a.st.Tasks[i]
	spec := a.spec(tk.Node)
	rejectTo := ""
	if !approve {
		if spec.CommentRequiredOnReject && strings.TrimSpace(a.c.Comment) == "" {
			return refuse(ErrInvalid, "comment: node %s requires a comment to reject", tk.Node)
		}
		if a.c.RejectTo != "" {
			if tk.DelegatedFrom != "" {
				return refuse(ErrInvalid, "reject_to: a delegate's opinion does not route the flow")
			}
			if !rejectAllowed(spec, a.c.RejectTo) {
				return refuse(ErrInvalid, "reject_to: node %s does not offer %q", tk.Node, a.c.RejectTo)
			}
			rejectTo = a.c.RejectTo
		}
	}
	return a.decideRecorded(i, approve, a.c.Comment, a.c.Attachments, rejectTo)
}

// decideRecorded applies a human decision; an approval remembers its effects
// on the task so the approver can take it back later.
func (a *applier) decideRecorded(i int, approve bool, comment string, attachments []string, rejectTo string) error {
	record := approve && a.st.Tasks[i].DelegatedFrom == ""
	if record {
		a.undo = &Undo{}
	}
	err := a.decide(i, approve, comment, attachments, rejectTo)
	if record {
		if a.st.Status == StatusRunning {
			u := a.undo
			a.st.Tasks[i].Undo = u
		}
		a.undo = nil
	}
	return err
}

func rejectAllowed(spec *ApprovalSpec, behaviour string) bool {
	if behaviour == spec.OnReject || slices.Contains(spec.RejectOptions, behaviour) {
		return true
	}
	return behaviour == RejectTerminate && spec.OnReject == ""
}

// decide records the decision of task i (which must be open) by a.actor and
// carries it through the slot, the node and the graph.
func (a *applier) decide(i int, approve bool, comment string, attachments []string, rejectTo string) error {
	if a.st.Tasks[i].DelegatedFrom != "" {
		return a.returnDelegation(i, approve, comment, attachments)
	}
	state, action, typ := TaskRejected, "reject", EventTaskRejected
	if approve {
		state, action, typ = TaskApproved, "approve", EventTaskApproved
	}
	a.closeTask(i, state)
	tk := &a.st.Tasks[i]
	tk.DecidedBy = a.actor
	tk.Comment = comment
	tk.Attachments = slices.Clone(attachments)
	tk.DecidedSeq = a.record(Entry{Action: action, Node: tk.Node, TaskID: tk.ID, Target: rejectTo, Comment: comment, Attachments: tk.Attachments})
	a.emit(typ, tk.Node, EventData{TaskID: tk.ID, Assignee: tk.Assignee, Origin: tk.Origin, Comment: comment, Attachments: tk.Attachments})
	t := *tk
	r := a.st.run(t.Node)
	if r == nil || r.Run != t.Run || r.Status != RunActive {
		return a.badTemplate("task %s belongs to no active run of node %s", t.ID, t.Node)
	}
	if !approve {
		a.cancelPending("another signer of the same slot rejected", func(o *Task) bool { return o.Run == t.Run && o.Order == t.Order })
		a.st.run(t.Node).Rejected++
		return a.evaluate(t.Node, rejectTo)
	}
	if len(t.Then) > 0 {
		a.startSigner(&t, t.Then)
		return nil
	}
	return a.slotProgress(t.Node, t.Run, t.Order, t.Resume)
}

// startSigner opens the first of queue, a chain of signers following from
// (a before-chain keeps gating from.Resume, an after-chain its slot).
func (a *applier) startSigner(from *Task, queue []Signer) {
	next := queue[0]
	a.openTask(Task{
		Node: from.Node, Run: from.Run, Order: from.Order,
		Assignee: next.Person, Origin: next.Origin, AddedBy: next.AddedBy,
		Resume: from.Resume, Then: slices.Clip(queue[1:]),
	})
}

// slotProgress runs after a task of a slot finished without a reject: it
// reopens a gated task once its before-signers are through, or counts the
// slot once nothing in it is pending.
func (a *applier) slotProgress(node string, run, order int, resume string) error {
	if resume != "" {
		if slices.ContainsFunc(a.st.Tasks, func(o Task) bool { return o.Resume == resume && o.State.pending() }) {
			return nil
		}
		if ri := a.st.taskIndex(resume); ri >= 0 && a.st.Tasks[ri].State == TaskWaiting {
			a.reopen(ri)
		}
		return nil
	}
	if a.slotPending(run, order) {
		return nil
	}
	a.st.run(node).Approved++
	if a.undo != nil {
		a.undo.SlotDone = true
	}
	return a.evaluate(node, "")
}

// votesNeeded is the smallest approval count reaching ratio of n voters.
func votesNeeded(ratio float64, n int) int {
	need := int(math.Ceil(ratio*float64(n) - 1e-9))
	return min(max(need, 1), n)
}

// evaluate applies the node's mode to its tally and concludes the node, or
// starts the next sequential approver, when the outcome is known.
func (a *applier) evaluate(node, rejectTo string) error {
	r := a.st.run(node)
	spec := a.spec(node)
	outcome := 0
	switch spec.Mode {
	case ModeSingle, ModeAny:
		if r.Rejected > 0 {
			outcome = -1
		} else if r.Approved > 0 {
			outcome = 1
		}
	case ModeAll:
		if r.Rejected > 0 {
			outcome = -1
		} else if r.Approved >= r.Slots {
			outcome = 1
		}
	case ModeSequential:
		switch {
		case r.Rejected > 0:
			outcome = -1
		case r.Approved >= r.Slots:
			outcome = 1
		case len(r.Queue) > 0:
			next := r.Queue[0]
			r.Queue = r.Queue[1:]
			order, run := r.Approved, r.Run
			if a.undo != nil {
				a.undo.Dequeued = next
			}
			a.openTask(Task{Node: node, Run: run, Order: order, Assignee: next, Origin: OriginApprover})
			return nil
		}
	case ModeVote:
		need := votesNeeded(spec.PassRatio, r.Slots)
		if r.Approved >= need {
			outcome = 1
		} else if r.Approved+(r.Slots-r.Approved-r.Rejected) < need {
			outcome = -1
		}
	}
	if outcome == 0 {
		return nil
	}
	return a.conclude(node, outcome > 0, rejectTo)
}

// conclude closes a decided node run and moves the flow on: to the next
// node when approved, per the reject behaviour when rejected.
func (a *applier) conclude(node string, approved bool, rejectTo string) error {
	r := a.st.run(node)
	r.Status, r.EndedAt = RunRejected, a.c.At
	if approved {
		r.Status = RunApproved
	}
	run, prev := r.Run, r.Prev
	a.removeActive(node)
	a.cancelPending("node "+node+" already decided", func(tk *Task) bool { return tk.Run == run })
	n := a.t.node(node)
	if n == nil {
		return a.badTemplate("no node %q", node)
	}
	if approved {
		if a.undo != nil {
			a.undo.NodeDone = true
		}
		return a.enter(n.Next, node)
	}
	behaviour := rejectTo
	if behaviour == "" {
		behaviour = a.spec(node).OnReject
	}
	kind, target, _ := parseReject(behaviour)
	switch kind {
	case RejectToInitiator:
		return a.returnToInitiator(node)
	case RejectToPrevious:
		if prev == "" {
			return a.returnToInitiator(node)
		}
		return a.rewind(node, prev)
	case RejectToNode:
		return a.rewind(node, target)
	}
	return a.finish(StatusRejected, node, "rejected at node "+node)
}

// returnDelegation closes a delegate's task with their opinion and hands
// the task back to the delegator, who still has to decide.
func (a *applier) returnDelegation(i int, approve bool, comment string, attachments []string) error {
	state, opinion, typ := TaskRejected, "reject", EventTaskRejected
	if approve {
		state, opinion, typ = TaskApproved, "approve", EventTaskApproved
	}
	a.closeTask(i, state)
	d := &a.st.Tasks[i]
	d.DecidedBy = a.actor
	d.Comment = comment
	d.Attachments = slices.Clone(attachments)
	pi := a.st.taskIndex(d.DelegatedFrom)
	if pi < 0 {
		return a.badTemplate("delegate task %s returns to missing task %s", d.ID, d.DelegatedFrom)
	}
	p := &a.st.Tasks[pi]
	d.DecidedSeq = a.record(Entry{Action: opinion, Node: d.Node, TaskID: d.ID, Target: p.Assignee, Comment: comment, Attachments: d.Attachments})
	a.emit(typ, d.Node, EventData{TaskID: d.ID, Assignee: d.Assignee, Origin: d.Origin, Opinion: true, ReturnedTo: p.Assignee, Comment: comment, Attachments: d.Attachments})
	p.State = TaskOpen
	p.Touched = true
	p.Delegation = &Delegation{To: d.Assignee, Opinion: opinion, Comment: comment}
	a.armTimers(pi)
	return nil
}

// slotPending reports whether a slot still has work in progress.
func (a *applier) slotPending(run, order int) bool {
	return slices.ContainsFunc(a.st.Tasks, func(o Task) bool { return o.Run == run && o.Order == order && o.State.pending() })
}
