package flow

import (
	"slices"
	"time"
)

// Tasks live in a.st.Tasks by value; helpers take indexes, and callers
// re-read &a.st.Tasks[i] after anything that may append a task.

// openTask adds t as an open task, arms its timers and announces it.
func (a *applier) openTask(t Task) int {
	t.ID = a.nextID("t")
	t.State = TaskOpen
	t.CreatedAt = a.c.At
	a.st.Tasks = append(a.st.Tasks, t)
	i := len(a.st.Tasks) - 1
	due := a.armTimers(i)
	a.emit(EventTaskCreated, t.Node, EventData{TaskID: t.ID, Assignee: t.Assignee, Origin: t.Origin, DueAt: due})
	if a.undo != nil {
		a.undo.Spawned = append(a.undo.Spawned, t.ID)
	}
	return i
}

// reopen puts a waiting task back into its assignee's inbox.
func (a *applier) reopen(i int) {
	tk := &a.st.Tasks[i]
	tk.State = TaskOpen
	tk.DecidedAt = time.Time{}
	a.armTimers(i)
	if a.undo != nil {
		a.undo.Reopened = append(a.undo.Reopened, tk.ID)
	}
}

// closeTask moves a task out of the pending states and drops its timers.
func (a *applier) closeTask(i int, state TaskState) {
	tk := &a.st.Tasks[i]
	tk.State = state
	tk.DecidedAt = a.c.At
	a.disarm(tk.ID)
}

// cancelTask closes a pending task that is no longer needed.
func (a *applier) cancelTask(i int, reason string) {
	a.closeTask(i, TaskCancelled)
	tk := &a.st.Tasks[i]
	a.emit(EventTaskCancelled, tk.Node, EventData{TaskID: tk.ID, Assignee: tk.Assignee, Reason: reason})
}

// cancelPending cancels every pending task matching keep, recording the
// prior state for a later take-back when an approval is being recorded.
func (a *applier) cancelPending(reason string, match func(*Task) bool) {
	for i := range a.st.Tasks {
		tk := &a.st.Tasks[i]
		if !tk.State.pending() || !match(tk) {
			continue
		}
		if a.undo != nil {
			a.undo.Cancelled = append(a.undo.Cancelled, CancelRecord{Task: tk.ID, State: tk.State})
		}
		a.cancelTask(i, reason)
	}
}

// armTimers schedules the node's timeout and first reminder for task i and
// returns the timeout's due time (zero without one).
func (a *applier) armTimers(i int) time.Time {
	tk := &a.st.Tasks[i]
	spec := a.spec(tk.Node)
	var due time.Time
	if spec.Timeout != nil && spec.Timeout.After > 0 {
		due = a.at(spec.Timeout.After)
		a.addTimer(Timer{ID: a.nextID("tm"), Kind: TimerTimeout, TaskID: tk.ID, Node: tk.Node, DueAt: due})
	}
	if spec.Reminders != nil && spec.Reminders.Every > 0 && spec.Reminders.Max > 0 {
		a.addTimer(Timer{ID: a.nextID("tm"), Kind: TimerReminder, TaskID: tk.ID, Node: tk.Node, DueAt: a.at(spec.Reminders.Every), Seq: 1})
	}
	return due
}

func (a *applier) addTimer(tm Timer) {
	a.st.Timers = append(a.st.Timers, tm)
	a.timers = append(a.timers, tm)
}

// disarm drops the timers of a task: those created in this call vanish from
// the result, stored ones are listed for deletion.
func (a *applier) disarm(taskID string) {
	a.st.Timers = slices.DeleteFunc(a.st.Timers, func(tm Timer) bool {
		if tm.TaskID != taskID {
			return false
		}
		if j := slices.IndexFunc(a.timers, func(n Timer) bool { return n.ID == tm.ID }); j >= 0 {
			a.timers = slices.Delete(a.timers, j, j+1)
		} else {
			a.cancel = append(a.cancel, tm.ID)
		}
		return true
	})
}

// actorTask finds the open task the actor acts on: the named one, or the
// only open task the actor holds.
func (a *applier) actorTask(taskID string) (int, error) {
	if taskID != "" {
		i := a.st.taskIndex(taskID)
		if i < 0 {
			return -1, refuse(ErrNotFound, "task %s not found on instance %s", taskID, a.st.ID)
		}
		tk := &a.st.Tasks[i]
		if tk.Assignee != a.actor {
			return -1, refuse(ErrForbidden, "task %s is assigned to %s, not %s", taskID, tk.Assignee, a.actor)
		}
		if tk.State != TaskOpen {
			return -1, refuse(ErrConflict, "%s", notOpenReason(tk))
		}
		return i, nil
	}
	found, last := -1, -1
	for i := range a.st.Tasks {
		tk := &a.st.Tasks[i]
		if tk.Assignee != a.actor {
			continue
		}
		last = i
		if tk.State != TaskOpen {
			continue
		}
		if found >= 0 {
			return -1, refuse(ErrInvalid, "%s holds several open tasks (%s, %s...); name one with task_id", a.actor, a.st.Tasks[found].ID, tk.ID)
		}
		found = i
	}
	switch {
	case found >= 0:
		return found, nil
	case last >= 0:
		return -1, refuse(ErrConflict, "%s", notOpenReason(&a.st.Tasks[last]))
	}
	return -1, refuse(ErrForbidden, "%s holds no task on instance %s", a.actor, a.st.ID)
}

// notOpenReason explains why a task cannot be acted on.
func notOpenReason(tk *Task) string {
	switch tk.State {
	case TaskApproved, TaskRejected:
		return "task " + tk.ID + " was already " + string(tk.State) + " by " + tk.DecidedBy
	case TaskCancelled:
		return "task " + tk.ID + " is no longer open: already decided (the node was decided or the flow moved on)"
	case TaskTransferred:
		return "task " + tk.ID + " was transferred to someone else"
	case TaskWaiting:
		return "task " + tk.ID + " waits for the signers added before it"
	case TaskDelegated:
		return "task " + tk.ID + " is with a delegate and returns when they resolve it"
	}
	return "task " + tk.ID + " is " + string(tk.State)
}

// checkNewAssignee vets a person who is to receive a task of run: they must
// exist, differ from the current assignee and not already hold a pending
// task in the same run (that would give them two votes).
func (a *applier) checkNewAssignee(tk *Task, person, field string) error {
	if person == "" {
		return refuse(ErrInvalid, "%s: name the person", field)
	}
	if person == tk.Assignee {
		return refuse(ErrInvalid, "%s: %s already holds task %s", field, person, tk.ID)
	}
	ok, err := a.dir.Exists(person)
	if err != nil {
		return err
	}
	if !ok {
		return refuse(ErrInvalid, "%s: unknown person %q", field, person)
	}
	if a.holdsPending(tk.Run, person) {
		return refuse(ErrInvalid, "%s: %s already holds a task at node %s", field, person, tk.Node)
	}
	if r := a.st.run(tk.Node); r != nil && slices.Contains(r.Queue, person) {
		return refuse(ErrInvalid, "%s: %s is already queued to approve at node %s", field, person, tk.Node)
	}
	return nil
}

func (a *applier) holdsPending(run int, person string) bool {
	for i := range a.st.Tasks {
		if tk := &a.st.Tasks[i]; tk.Run == run && tk.Assignee == person && tk.State.pending() {
			return true
		}
	}
	return false
}
