package flow

import (
	"slices"
	"time"
)

// withdrawCmd is 撤回 in both senses: the initiator withdrawing the whole
// instance (no task id), or an approver taking back their last approval.
func (a *applier) withdrawCmd() error {
	if a.c.TaskID == "" && a.actor == a.st.Initiator {
		a.record(Entry{Action: "withdraw", Comment: a.c.Comment})
		return a.finish(StatusWithdrawn, "", "withdrawn by the initiator")
	}
	return a.takeBack()
}

// takeBack reopens the actor's last approval, undoing what it caused, as
// long as nothing downstream has acted: every task it opened is still open
// and untouched, the runs it started hold only those tasks, the joins it
// counted have not moved, and its own node has not been decided by a later
// decision or gone back by a reject.
func (a *applier) takeBack() error {
	if err := a.requireRunning(); err != nil {
		return err
	}
	last, mine := -1, false
	for i := range a.st.Tasks {
		tk := &a.st.Tasks[i]
		if tk.Assignee == a.actor {
			mine = true
		}
		if tk.DecidedBy == a.actor && tk.DecidedSeq > 0 && (last < 0 || tk.DecidedSeq > a.st.Tasks[last].DecidedSeq) {
			last = i
		}
	}
	if a.c.TaskID != "" {
		i := a.st.taskIndex(a.c.TaskID)
		switch {
		case i < 0:
			return refuse(ErrNotFound, "task %s not found on instance %s", a.c.TaskID, a.st.ID)
		case a.st.Tasks[i].Assignee != a.actor:
			return refuse(ErrForbidden, "task %s is assigned to %s, not %s", a.c.TaskID, a.st.Tasks[i].Assignee, a.actor)
		case i != last:
			return refuse(ErrConflict, "only your last decision can be taken back, and task %s is not it", a.c.TaskID)
		}
	}
	if last < 0 {
		if !mine {
			return refuse(ErrForbidden, "%s is neither the initiator nor an approver of instance %s", a.actor, a.st.ID)
		}
		return refuse(ErrConflict, "%s has no decision to take back", a.actor)
	}
	tk := a.st.Tasks[last]
	if tk.State != TaskApproved || tk.DelegatedFrom != "" || tk.Undo == nil {
		return refuse(ErrConflict, "your last decision (task %s, %s) cannot be taken back: only an approval can", tk.ID, tk.State)
	}
	if reason := a.undoBlocked(&tk); reason != "" {
		return refuse(ErrConflict, "task %s cannot be taken back: %s", tk.ID, reason)
	}
	a.applyUndo(last)
	return nil
}

// undoBlocked says why the approval of tk can no longer be undone, or "".
func (a *applier) undoBlocked(tk *Task) string {
	u := tk.Undo
	r := a.st.run(tk.Node)
	switch {
	case r == nil || r.Run != tk.Run:
		return "the flow went back past node " + tk.Node
	case u.NodeDone && r.Status != RunApproved, !u.NodeDone && r.Status != RunActive:
		return "node " + tk.Node + " was decided since"
	case !u.SlotDone && !a.slotPending(tk.Run, tk.Order):
		return "a later decision completed the slot"
	case a.holdsPending(tk.Run, tk.Assignee):
		return tk.Assignee + " holds another task at node " + tk.Node + " now"
	}
	untouched := func(id string) bool {
		i := a.st.taskIndex(id)
		return i >= 0 && a.st.Tasks[i].State == TaskOpen && !a.st.Tasks[i].Touched
	}
	for _, id := range u.Spawned {
		if !untouched(id) {
			return "the next step has already acted"
		}
	}
	for _, id := range u.Reopened {
		if !untouched(id) {
			return "the next signer has already acted"
		}
	}
	for _, e := range u.Entered {
		er := a.st.run(e.Node)
		if er == nil || er.Run != e.Run || er.Status != RunActive {
			return "node " + e.Node + " has already acted"
		}
		for i := range a.st.Tasks {
			if o := &a.st.Tasks[i]; o.Run == e.Run && !slices.Contains(u.Spawned, o.ID) {
				return "node " + e.Node + " has already acted"
			}
		}
	}
	for _, j := range u.Joins {
		if a.st.Joins[j.Join] != j.After {
			return "the parallel branches have moved on"
		}
	}
	return ""
}

// applyUndo reverses the recorded effects of task i's approval and reopens it.
func (a *applier) applyUndo(i int) {
	tk := a.st.Tasks[i]
	u := tk.Undo
	for _, id := range u.Spawned {
		if j := a.st.taskIndex(id); j >= 0 && a.st.Tasks[j].State.pending() {
			a.cancelTask(j, "decision withdrawn")
		}
	}
	for _, id := range u.Reopened {
		if j := a.st.taskIndex(id); j >= 0 {
			a.st.Tasks[j].State = TaskWaiting
			a.disarm(id)
		}
	}
	for _, e := range u.Entered {
		if er := a.st.run(e.Node); er != nil {
			er.Status, er.EndedAt = RunCancelled, a.c.At
		}
		a.removeActive(e.Node)
	}
	for _, j := range u.Joins {
		a.setJoin(j.Join, j.Before)
	}
	for _, c := range u.Cancelled {
		if j := a.st.taskIndex(c.Task); j >= 0 {
			a.st.Tasks[j].State = c.State
			a.st.Tasks[j].DecidedAt = time.Time{}
			if c.State == TaskOpen {
				a.armTimers(j)
			}
		}
	}
	r := a.st.run(tk.Node)
	if u.NodeDone {
		r.Status, r.EndedAt = RunActive, time.Time{}
		a.st.Active = append(a.st.Active, tk.Node)
	}
	if u.SlotDone {
		r.Approved--
	}
	if u.Dequeued != "" {
		r.Queue = append([]string{u.Dequeued}, r.Queue...)
	}
	t := &a.st.Tasks[i]
	t.State = TaskOpen
	t.DecidedAt, t.DecidedBy, t.DecidedSeq = time.Time{}, "", 0
	t.Comment, t.Attachments, t.Undo = "", nil, nil
	a.armTimers(i)
	a.record(Entry{Action: "withdraw", Node: t.Node, TaskID: t.ID, Comment: a.c.Comment})
	a.emit(EventTaskWithdrawn, t.Node, EventData{TaskID: t.ID, Assignee: t.Assignee, Comment: a.c.Comment})
}
