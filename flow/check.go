package flow

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Check verifies the invariants every state Apply produces must hold, and
// returns all violations joined. Tests run it after every step; an adapter
// may run it on states it loads from storage.
func (in *Instance) Check(t *Template) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if in.ID == "" || in.Initiator == "" {
		bad("instance id and initiator are required")
	}
	if in.TemplateID != t.ID || in.TemplateVersion != t.Version {
		bad("instance runs %s v%d, checked against %s v%d", in.TemplateID, in.TemplateVersion, t.ID, t.Version)
	}
	switch in.Status {
	case StatusRunning, StatusReturned, StatusApproved, StatusRejected, StatusWithdrawn, StatusCancelled:
	default:
		bad("unknown status %q", in.Status)
	}
	if in.Round < 1 {
		bad("round %d < 1", in.Round)
	}
	if in.Status.Terminal() != !in.FinishedAt.IsZero() {
		bad("status %s but finished_at %v", in.Status, in.FinishedAt)
	}

	// ids are unique and come from the counter
	ids := map[string]bool{}
	checkID := func(id, prefix string) {
		if ids[id] {
			bad("duplicate id %s", id)
		}
		ids[id] = true
		n, err := strconv.Atoi(strings.TrimPrefix(id, in.ID+":"+prefix))
		if err != nil || !strings.HasPrefix(id, in.ID+":"+prefix) || n < 1 || n > in.Seq {
			bad("id %s is not %s:%s<1..%d>", id, in.ID, prefix, in.Seq)
		}
	}
	for i := range in.Tasks {
		checkID(in.Tasks[i].ID, "t")
	}
	for _, tm := range in.Timers {
		checkID(tm.ID, "tm")
	}

	// runs
	runs := map[int]*NodeRun{}
	for i := range in.Runs {
		r := &in.Runs[i]
		if runs[r.Run] != nil {
			bad("run number %d used twice", r.Run)
		}
		runs[r.Run] = r
		n := t.node(r.Node)
		if n == nil {
			bad("run of unknown node %s", r.Node)
			continue
		}
		if slices.IndexFunc(in.Runs, func(o NodeRun) bool { return o.Node == r.Node }) != i {
			bad("node %s has two runs", r.Node)
		}
		active := slices.Contains(in.Active, r.Node)
		if (r.Status == RunActive) != active {
			bad("run of %s is %s but active list says %v", r.Node, r.Status, active)
		}
		if n.Type != NodeApproval {
			if r.Status != RunPassed {
				bad("%s node %s has run status %s", n.Type, r.Node, r.Status)
			}
			continue
		}
		// A run nobody resolved for (on_empty) has no slots; others have some.
		if r.Status == RunActive || r.Slots > 0 {
			if r.Slots < 1 || r.Approved < 0 || r.Rejected < 0 || r.Approved+r.Rejected > r.Slots {
				bad("run of %s has tally %d+%d of %d slots", r.Node, r.Approved, r.Rejected, r.Slots)
			}
		}
	}
	for _, id := range in.Active {
		if n := t.node(id); n == nil || n.Type != NodeApproval {
			bad("active node %s is not an approval node", id)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(in.Active)))) != len(in.Active) {
		bad("active list %v repeats a node", in.Active)
	}
	for join, k := range in.Joins {
		split := t.splitOf(join)
		if split == nil || k < 1 || k >= len(split.Branches) {
			bad("join %s counter %d out of range", join, k)
		}
	}

	// tasks
	pendingPerRun := map[int]int{}
	for i := range in.Tasks {
		tk := &in.Tasks[i]
		switch tk.State {
		case TaskOpen, TaskWaiting, TaskDelegated, TaskApproved, TaskRejected, TaskTransferred, TaskCancelled:
		default:
			bad("task %s has unknown state %q", tk.ID, tk.State)
		}
		if tk.Assignee == "" {
			bad("task %s has no assignee", tk.ID)
		}
		if !tk.State.pending() {
			if tk.DecidedAt.IsZero() {
				bad("closed task %s has no decided_at", tk.ID)
			}
			continue
		}
		pendingPerRun[tk.Run]++
		r := runs[tk.Run]
		if in.Status != StatusRunning {
			bad("task %s is %s on a %s instance", tk.ID, tk.State, in.Status)
		}
		if r == nil || r.Node != tk.Node || r.Status != RunActive {
			bad("pending task %s (node %s, run %d) is not in an active run", tk.ID, tk.Node, tk.Run)
			continue
		}
		if tk.DelegatedFrom == "" {
			for j := range in.Tasks {
				o := &in.Tasks[j]
				if j != i && o.Run == tk.Run && o.Assignee == tk.Assignee && o.State.pending() && o.DelegatedFrom == "" {
					bad("%s holds two pending tasks (%s, %s) in run %d", tk.Assignee, tk.ID, o.ID, tk.Run)
				}
			}
		}
		switch tk.State {
		case TaskWaiting:
			if !slices.ContainsFunc(in.Tasks, func(o Task) bool { return o.Resume == tk.ID && o.State.pending() }) {
				bad("waiting task %s has no pending signer before it", tk.ID)
			}
		case TaskDelegated:
			n := 0
			for _, o := range in.Tasks {
				if o.DelegatedFrom == tk.ID && o.State.pending() {
					n++
				}
			}
			if n != 1 {
				bad("delegated task %s has %d pending delegates", tk.ID, n)
			}
		}
		if tk.DelegatedFrom != "" {
			p, ok := in.Task(tk.DelegatedFrom)
			if !ok || p.State != TaskDelegated {
				bad("delegate task %s returns to %s, which is not delegated", tk.ID, tk.DelegatedFrom)
			}
		}
		if tk.Resume != "" {
			p, ok := in.Task(tk.Resume)
			if !ok || p.State != TaskWaiting {
				bad("signer task %s gates %s, which is not waiting", tk.ID, tk.Resume)
			}
		}
	}
	if in.Status == StatusRunning {
		if len(in.Active) == 0 {
			bad("running instance has no active node")
		}
		for _, id := range in.Active {
			if r := in.run(id); r != nil && pendingPerRun[r.Run] == 0 {
				bad("active node %s has no pending task: the instance would be stuck", id)
			}
		}
		if len(in.OpenTasks()) == 0 {
			bad("running instance has no open task: nobody can act")
		}
	} else if len(in.Active) > 0 || len(in.Joins) > 0 {
		bad("%s instance still has active nodes %v or joins", in.Status, in.Active)
	}

	// timers belong to open tasks: at most one timeout and one reminder each
	seen := map[string]bool{}
	for _, tm := range in.Timers {
		tk, ok := in.Task(tm.TaskID)
		if !ok || tk.State != TaskOpen {
			bad("timer %s points at task %s, which is not open", tm.ID, tm.TaskID)
			continue
		}
		key := tm.TaskID + "/" + string(tm.Kind)
		if seen[key] {
			bad("task %s has two %s timers", tm.TaskID, tm.Kind)
		}
		seen[key] = true
		spec := t.node(tm.Node)
		switch {
		case tm.Node != tk.Node || spec == nil || spec.Approval == nil:
			bad("timer %s names node %s, task is at %s", tm.ID, tm.Node, tk.Node)
		case tm.Kind == TimerTimeout && spec.Approval.Timeout == nil,
			tm.Kind == TimerReminder && (spec.Approval.Reminders == nil || tm.Seq < 1 || tm.Seq > spec.Approval.Reminders.Max):
			bad("timer %s (%s #%d) does not match node %s settings", tm.ID, tm.Kind, tm.Seq, tm.Node)
		}
	}

	for i := range in.Runs {
		if r := &in.Runs[i]; r.Status == RunActive {
			if n := t.node(r.Node); n != nil && n.Approval != nil {
				checkTally(in, r, n.Approval.Mode, bad)
			}
		}
	}

	for i, e := range in.History {
		if e.Seq != i+1 {
			bad("history entry %d has seq %d", i+1, e.Seq)
		}
	}
	return errors.Join(errs...)
}

// checkTally recomputes an active run's slot outcomes from its tasks and
// compares them with the stored tally and slot count.
func checkTally(in *Instance, r *NodeRun, mode Mode, bad func(string, ...any)) {
	type slot struct{ approved, rejected, pending, live bool }
	slots := map[int]*slot{}
	for i := range in.Tasks {
		tk := &in.Tasks[i]
		if tk.Run != r.Run || tk.DelegatedFrom != "" {
			continue
		}
		s := slots[tk.Order]
		if s == nil {
			s = &slot{}
			slots[tk.Order] = s
		}
		switch {
		case tk.State == TaskApproved:
			s.approved, s.live = true, true
		case tk.State == TaskRejected:
			s.rejected, s.live = true, true
		case tk.State.pending():
			s.pending, s.live = true, true
		}
	}
	approved, rejected, live := 0, 0, 0
	for _, s := range slots {
		switch {
		case s.rejected:
			rejected++
		case s.approved && !s.pending:
			approved++
		}
		if s.live {
			live++
		}
	}
	if approved != r.Approved || rejected != r.Rejected {
		bad("run of %s stores tally %d/%d but its tasks say %d/%d", r.Node, r.Approved, r.Rejected, approved, rejected)
	}
	switch mode {
	case ModeSequential:
		if live+len(r.Queue) != r.Slots {
			bad("sequential run of %s: %d started + %d queued != %d slots", r.Node, live, len(r.Queue), r.Slots)
		}
	default:
		if len(slots) != r.Slots {
			bad("run of %s has %d slots but tasks in %d", r.Node, r.Slots, len(slots))
		}
	}
}
