package flow

import (
	"fmt"
	"slices"
)

// operableTask finds the actor's open task for a task operation and checks
// the node allows op. Delegates may only approve or reject.
func (a *applier) operableTask(op Operation) (int, error) {
	if err := a.requireRunning(); err != nil {
		return -1, err
	}
	i, err := a.actorTask(a.c.TaskID)
	if err != nil {
		return -1, err
	}
	tk := &a.st.Tasks[i]
	if tk.DelegatedFrom != "" {
		return -1, refuse(ErrForbidden, "task %s is a delegation: approve or reject it and it returns to the delegator", tk.ID)
	}
	if !a.spec(tk.Node).allows(op) {
		return -1, refuse(ErrForbidden, "node %s does not allow %s", tk.Node, op)
	}
	return i, nil
}

// transferCmd hands an open task to another person (转办). An admin may
// transfer anyone's open task, whatever the node allows (e.g. before the
// assignee leaves the org).
func (a *applier) transferCmd() error {
	var i int
	if a.c.Admin && a.c.TaskID != "" {
		if err := a.requireRunning(); err != nil {
			return err
		}
		if i = a.st.taskIndex(a.c.TaskID); i < 0 {
			return refuse(ErrNotFound, "task %s not found on instance %s", a.c.TaskID, a.st.ID)
		}
		tk := &a.st.Tasks[i]
		if tk.State != TaskOpen {
			return refuse(ErrConflict, "%s", notOpenReason(tk))
		}
	} else {
		var err error
		if i, err = a.operableTask(OpTransfer); err != nil {
			return err
		}
	}
	if err := a.checkNewAssignee(&a.st.Tasks[i], a.c.To, "to"); err != nil {
		return err
	}
	a.transfer(i, a.c.To, OriginTransfer, a.c.Comment)
	return nil
}

// transfer replaces open task i by a task of person in the same slot.
func (a *applier) transfer(i int, person string, origin Origin, comment string) {
	a.closeTask(i, TaskTransferred)
	old := a.st.Tasks[i]
	ni := a.openTask(Task{
		Node: old.Node, Run: old.Run, Order: old.Order, Assignee: person, Origin: origin,
		AddedBy: old.AddedBy, Resume: old.Resume, Then: old.Then, TransferredFrom: old.ID,
		DelegatedFrom: old.DelegatedFrom, // an escalated delegate task still only gives an opinion
	})
	newID := a.st.Tasks[ni].ID
	action := "transfer"
	if origin == OriginEscalation {
		action = "escalate"
	}
	a.record(Entry{Action: action, Node: old.Node, TaskID: old.ID, Target: person, Comment: comment})
	a.emit(EventTaskTransferred, old.Node, EventData{TaskID: old.ID, Assignee: old.Assignee, To: person, NewTaskID: newID, Origin: origin, Comment: comment})
}

// delegateCmd lends a task to someone whose opinion comes back to the
// delegator (委派).
func (a *applier) delegateCmd() error {
	i, err := a.operableTask(OpDelegate)
	if err != nil {
		return err
	}
	if err := a.checkNewAssignee(&a.st.Tasks[i], a.c.To, "to"); err != nil {
		return err
	}
	tk := &a.st.Tasks[i]
	tk.State = TaskDelegated
	a.disarm(tk.ID)
	t := *tk
	ni := a.openTask(Task{Node: t.Node, Run: t.Run, Order: t.Order, Assignee: a.c.To, Origin: OriginDelegate, DelegatedFrom: t.ID})
	a.record(Entry{Action: "delegate", Node: t.Node, TaskID: t.ID, Target: a.c.To, Comment: a.c.Comment})
	a.emit(EventTaskDelegated, t.Node, EventData{TaskID: t.ID, Assignee: t.Assignee, To: a.c.To, NewTaskID: a.st.Tasks[ni].ID, Comment: a.c.Comment})
	return nil
}

// addSignerCmd adds signers to the actor's slot (加签): before the actor
// (they sign first, in order, then the task reopens), after the actor (the
// actor approves now, they sign next, in order) or in parallel (they sign
// beside the actor, all required).
func (a *applier) addSignerCmd() error {
	i, err := a.operableTask(OpAddSigner)
	if err != nil {
		return err
	}
	tk := a.st.Tasks[i]
	if len(a.c.Signers) == 0 {
		return refuse(ErrInvalid, "signers: name at least one person")
	}
	for k, p := range a.c.Signers {
		field := fmt.Sprintf("signers[%d]", k)
		switch {
		case p == a.actor:
			return refuse(ErrInvalid, "%s: you cannot add yourself", field)
		case slices.Index(a.c.Signers, p) < k:
			return refuse(ErrInvalid, "%s: %s listed twice", field, p)
		}
		if err := a.checkNewAssignee(&tk, p, field); err != nil {
			return err
		}
	}
	queue := func(origin Origin) []Signer {
		out := make([]Signer, len(a.c.Signers))
		for k, p := range a.c.Signers {
			out[k] = Signer{Person: p, AddedBy: a.actor, Origin: origin}
		}
		return out
	}
	entry := Entry{Action: "add_signer", Node: tk.Node, TaskID: tk.ID, Target: a.c.Position, People: slices.Clone(a.c.Signers), Comment: a.c.Comment}
	switch a.c.Position {
	case PositionBefore:
		a.st.Tasks[i].State = TaskWaiting
		a.st.Tasks[i].Touched = true
		a.disarm(tk.ID)
		a.record(entry)
		gate := tk
		gate.Resume = tk.ID
		a.startSigner(&gate, queue(OriginSignerBefore))
		return nil
	case PositionAfter:
		a.st.Tasks[i].Then = append(queue(OriginSignerAfter), tk.Then...)
		a.record(entry)
		return a.decideRecorded(i, true, a.c.Comment, a.c.Attachments, "")
	case PositionParallel:
		a.st.Tasks[i].Touched = true
		a.record(entry)
		for _, p := range a.c.Signers {
			a.openTask(Task{Node: tk.Node, Run: tk.Run, Order: tk.Order, Assignee: p, Origin: OriginSignerParallel, AddedBy: a.actor, Resume: tk.Resume})
		}
		return nil
	}
	return refuse(ErrInvalid, "position: use before, after or parallel, not %q", a.c.Position)
}

// removeSignerCmd takes back signers the actor added and who have not
// signed yet (减签): a pending signer task is cancelled and its chain goes on
// without it; a queued signer is dropped from the queue.
func (a *applier) removeSignerCmd() error {
	if err := a.requireRunning(); err != nil {
		return err
	}
	if len(a.c.Signers) == 0 {
		return refuse(ErrInvalid, "signers: name at least one person to remove")
	}
	for k, p := range a.c.Signers {
		if slices.Index(a.c.Signers, p) < k {
			return refuse(ErrInvalid, "signers[%d]: %s listed twice", k, p)
		}
	}
	for k, p := range a.c.Signers {
		field := fmt.Sprintf("signers[%d]", k)
		if i := a.pendingSignerTask(p); i >= 0 {
			if !a.spec(a.st.Tasks[i].Node).allows(OpAddSigner) {
				return refuse(ErrForbidden, "node %s does not allow removing signers", a.st.Tasks[i].Node)
			}
			if err := a.removeSignerTask(i); err != nil {
				return err
			}
			continue
		}
		if i, q := a.queuedSigner(p); i >= 0 {
			if !a.spec(a.st.Tasks[i].Node).allows(OpAddSigner) {
				return refuse(ErrForbidden, "node %s does not allow removing signers", a.st.Tasks[i].Node)
			}
			tk := &a.st.Tasks[i]
			tk.Then = slices.Delete(slices.Clone(tk.Then), q, q+1)
			if len(tk.Then) == 0 {
				tk.Then = nil
			}
			tk.Touched = true
			continue
		}
		return refuse(ErrInvalid, "%s: %s is not a pending signer you added", field, p)
	}
	a.record(Entry{Action: "remove_signer", People: slices.Clone(a.c.Signers), Comment: a.c.Comment})
	return nil
}

// pendingSignerTask finds the pending task of person added by the actor.
func (a *applier) pendingSignerTask(person string) int {
	for i := range a.st.Tasks {
		tk := &a.st.Tasks[i]
		if tk.Assignee == person && tk.AddedBy == a.actor && tk.State.pending() && tk.DelegatedFrom == "" {
			return i
		}
	}
	return -1
}

// queuedSigner finds person, queued by the actor, in a pending task's queue.
func (a *applier) queuedSigner(person string) (task, pos int) {
	for i := range a.st.Tasks {
		tk := &a.st.Tasks[i]
		if !tk.State.pending() {
			continue // a decided task's queue has moved on to its successor
		}
		for q, s := range tk.Then {
			if s.Person == person && s.AddedBy == a.actor {
				return i, q
			}
		}
	}
	return -1, -1
}

// removeSignerTask cancels signer task i with whatever depends on it and
// lets its chain or slot go on.
func (a *applier) removeSignerTask(i int) error {
	t := a.st.Tasks[i]
	a.cancelTree(t.ID)
	if len(t.Then) > 0 {
		a.startSigner(&t, t.Then)
		return nil
	}
	return a.slotProgress(t.Node, t.Run, t.Order, t.Resume)
}

// cancelTree cancels a task, its delegate and the signers gating it.
func (a *applier) cancelTree(id string) {
	i := a.st.taskIndex(id)
	if i < 0 || !a.st.Tasks[i].State.pending() {
		return
	}
	a.cancelTask(i, "signer removed")
	for j := range a.st.Tasks {
		if o := &a.st.Tasks[j]; o.State.pending() && (o.Resume == id || o.DelegatedFrom == id) {
			a.cancelTree(o.ID)
		}
	}
}
