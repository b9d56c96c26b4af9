package flow

import (
	"slices"
	"time"
)

// Timers: every open task of a node with a timeout gets one timeout timer,
// and with reminders one reminder timer at a time (the next is scheduled
// when the previous fires, up to Max). Timers live in Instance.Timers while
// pending; closing a task deletes its timers (Result.CancelTimers). The
// adapter fires a due timer as Command{Action: timeout|remind, TimerID};
// a timer no longer in the state is a no-op, so a late or duplicate firing
// never acts twice.

// fireTimer handles timeout and remind commands. Apply has already checked
// that the timer is pending.
func (a *applier) fireTimer() error {
	k := slices.IndexFunc(a.st.Timers, func(tm Timer) bool { return tm.ID == a.c.TimerID })
	tm := a.st.Timers[k]
	want := TimerTimeout
	if a.c.Action == ActRemind {
		want = TimerReminder
	}
	if tm.Kind != want {
		return refuse(ErrInvalid, "timer %s is a %s timer, not %s", tm.ID, tm.Kind, want)
	}
	a.st.Timers = slices.Delete(a.st.Timers, k, k+1)
	i := a.st.taskIndex(tm.TaskID)
	if i < 0 || a.st.Tasks[i].State != TaskOpen {
		return nil // the task moved on without dropping the timer: nothing to do
	}
	tk := a.st.Tasks[i]
	spec := a.spec(tk.Node)
	if tm.Kind == TimerReminder {
		a.record(Entry{Action: "remind", Node: tk.Node, TaskID: tk.ID, Target: tk.Assignee})
		a.emit(EventTaskReminded, tk.Node, EventData{TaskID: tk.ID, Assignee: tk.Assignee, Seq: tm.Seq})
		if r := spec.Reminders; r != nil && r.Every > 0 && tm.Seq < r.Max {
			a.addTimer(Timer{ID: a.nextID("tm"), Kind: TimerReminder, TaskID: tk.ID, Node: tk.Node, DueAt: tm.DueAt.Add(time.Duration(r.Every)), Seq: tm.Seq + 1})
		}
		return nil
	}
	if spec.Timeout == nil {
		return nil
	}
	action := spec.Timeout.Action
	a.record(Entry{Action: "timeout", Node: tk.Node, TaskID: tk.ID, Target: string(action)})
	a.emit(EventTaskTimedOut, tk.Node, EventData{TaskID: tk.ID, Assignee: tk.Assignee, Reason: string(action)})
	switch action {
	case TimeoutAutoApprove:
		return a.decide(i, true, "approved automatically after the timeout", nil, "")
	case TimeoutAutoReject:
		return a.decide(i, false, "rejected automatically after the timeout", nil, "")
	case TimeoutEscalate:
		return a.escalate(i)
	}
	return nil
}

// escalate transfers a timed-out task to the assignee's manager. Without a
// manager who can take it, the task stays where it is (no new timeout, so
// an unescalatable task does not fire forever).
func (a *applier) escalate(i int) error {
	tk := &a.st.Tasks[i]
	m, err := a.dir.Manager(tk.Assignee)
	if err != nil {
		return err
	}
	if m != "" {
		if err := a.checkNewAssignee(tk, m, "manager"); err == nil {
			a.transfer(i, m, OriginEscalation, "escalated after the timeout")
			return nil
		} else if !isRefusal(err) {
			return err
		}
	}
	a.record(Entry{Action: "escalate", Node: tk.Node, TaskID: tk.ID, Comment: "no manager to escalate to; the task stays with " + tk.Assignee})
	return nil
}

func isRefusal(err error) bool {
	_, ok := err.(*Error)
	return ok
}
