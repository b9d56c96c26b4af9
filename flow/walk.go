package flow

import (
	"fmt"
	"slices"
)

// maxWalkSteps bounds one call's graph walk. Valid templates are acyclic, so
// a walk visits each node a handful of times at most; hitting the bound
// means the template was never validated.
func (a *applier) maxWalkSteps() int { return 64 + 16*len(a.t.Nodes) }

func (a *applier) badTemplate(format string, args ...any) error {
	return &Error{Kind: ErrInvalid, Reason: fmt.Sprintf("template %s v%d: ", a.t.ID, a.t.Version) + fmt.Sprintf(format, args...) + "; validate it"}
}

// enter moves a token into node id, coming from approval node (or split)
// prev, and walks on until every token rests at an approval node, at a join
// still waiting for branches, or at the end.
func (a *applier) enter(id, prev string) error {
	for {
		if a.st.Status != StatusRunning {
			return nil
		}
		if a.steps++; a.steps > a.maxWalkSteps() {
			return a.badTemplate("the walk does not settle")
		}
		n := a.t.node(id)
		if n == nil {
			return a.badTemplate("no node %q", id)
		}
		switch n.Type {
		case NodeStart:
			id = n.Next
		case NodeEnd:
			if len(a.st.Active) > 0 {
				return a.badTemplate("end %s reached while %v are active", n.ID, a.st.Active)
			}
			return a.finish(StatusApproved, n.ID, "")
		case NodeApproval:
			return a.activate(n, prev)
		case NodeCC:
			if err := a.sendCC(n); err != nil {
				return err
			}
			id = n.Next
		case NodeCondition:
			next := pickBranch(n, a.st.Form)
			if next == "" {
				return a.badTemplate("condition %s has no default branch", n.ID)
			}
			id = next
		case NodeParallel:
			a.setRun(NodeRun{Node: n.ID, Run: a.nextRun(), Status: RunPassed, Prev: prev, StartedAt: a.c.At, EndedAt: a.c.At})
			a.setJoin(n.Join, 0)
			for _, b := range n.Branches {
				if err := a.enter(b.Next, prev); err != nil {
					return err
				}
				if a.st.Status != StatusRunning {
					return nil
				}
			}
			return nil
		case NodeJoin:
			split := a.t.splitOf(n.ID)
			if split == nil {
				return a.badTemplate("join %s has no split", n.ID)
			}
			arrived := a.st.Joins[n.ID] + 1
			if arrived < len(split.Branches) {
				a.setJoin(n.ID, arrived)
				return nil
			}
			a.setJoin(n.ID, 0)
			id, prev = n.Next, split.ID
		default:
			return a.badTemplate("node %s has unknown type %q", n.ID, n.Type)
		}
	}
}

// pickBranch returns the first matching branch's target, else the default's.
func pickBranch(n *Node, form map[string]any) string {
	def := ""
	for i := range n.Branches {
		b := &n.Branches[i]
		if b.Default {
			def = b.Next
			continue
		}
		if b.When != nil && b.When.eval(form) {
			return b.Next
		}
	}
	return def
}

// setRun stores r as the node's latest run.
func (a *applier) setRun(r NodeRun) {
	for i := range a.st.Runs {
		if a.st.Runs[i].Node == r.Node {
			a.st.Runs[i] = r
			return
		}
	}
	a.st.Runs = append(a.st.Runs, r)
}

// setJoin sets a join counter (0 deletes it), remembering the old value when
// an approval is being recorded.
func (a *applier) setJoin(join string, v int) {
	old := a.st.Joins[join]
	if a.undo != nil {
		if k := slices.IndexFunc(a.undo.Joins, func(m JoinMark) bool { return m.Join == join }); k >= 0 {
			a.undo.Joins[k].After = v
		} else {
			a.undo.Joins = append(a.undo.Joins, JoinMark{Join: join, Before: old, After: v})
		}
	}
	if v == 0 {
		delete(a.st.Joins, join)
		return
	}
	if a.st.Joins == nil {
		a.st.Joins = map[string]int{}
	}
	a.st.Joins[join] = v
}

func (a *applier) removeActive(node string) {
	a.st.Active = slices.DeleteFunc(a.st.Active, func(id string) bool { return id == node })
}

// activate starts a run of an approval node: resolve the approvers, apply
// on_empty when nobody resolves, and open the first tasks.
func (a *applier) activate(n *Node, prev string) error {
	spec := n.Approval
	if spec == nil {
		return a.badTemplate("approval node %s has no settings", n.ID)
	}
	people, err := resolve(a.dir, a.st, n.ID, spec.Approvers)
	if err != nil {
		return err
	}
	run := NodeRun{Node: n.ID, Run: a.nextRun(), Status: RunActive, Prev: prev, StartedAt: a.c.At}
	origin := OriginApprover
	if len(people) == 0 {
		switch spec.OnEmpty {
		case EmptyAutoApprove:
			run.Status, run.EndedAt = RunPassed, a.c.At
			a.setRun(run)
			a.record(Entry{Actor: SystemActor, Action: "auto_approve", Node: n.ID, Comment: "no approver resolved"})
			// A node nobody approved is no step to go back to: keep prev.
			return a.enter(n.Next, prev)
		case EmptyReject:
			return a.rejectEmpty(n, run, "no approver resolved")
		default:
			admin, err := a.emptyAdmin(spec)
			if err != nil {
				return err
			}
			if admin == "" {
				return a.rejectEmpty(n, run, "no approver resolved and no admin to route to")
			}
			people, origin = []string{admin}, OriginAdmin
		}
	}
	if spec.Mode == ModeSingle {
		people = people[:1]
	}
	first := people
	if spec.Mode == ModeSequential {
		first, run.Queue = people[:1], slices.Clip(people[1:])
	}
	run.Slots = len(people)
	a.setRun(run)
	a.st.Active = append(a.st.Active, n.ID)
	if a.undo != nil {
		a.undo.Entered = append(a.undo.Entered, RunRef{Node: n.ID, Run: run.Run})
	}
	for i, p := range first {
		a.openTask(Task{Node: n.ID, Run: run.Run, Order: i, Assignee: p, Origin: origin})
	}
	return nil
}

func (a *applier) rejectEmpty(n *Node, run NodeRun, reason string) error {
	run.Status, run.EndedAt = RunRejected, a.c.At
	a.setRun(run)
	a.record(Entry{Actor: SystemActor, Action: "auto_reject", Node: n.ID, Comment: reason})
	return a.finish(StatusRejected, n.ID, reason)
}

// emptyAdmin returns the existing person on_empty admin routes to, or "".
func (a *applier) emptyAdmin(spec *ApprovalSpec) (string, error) {
	candidates := []string{spec.EmptyAdmin}
	if admin, err := a.dir.Admin(); err != nil {
		return "", err
	} else {
		candidates = append(candidates, admin)
	}
	for _, p := range candidates {
		if p == "" {
			continue
		}
		ok, err := a.dir.Exists(p)
		if err != nil {
			return "", err
		}
		if ok {
			return p, nil
		}
	}
	return "", nil
}

// sendCC copies the instance to everyone a cc node resolves to, once per
// node and round.
func (a *applier) sendCC(n *Node) error {
	if n.CC == nil {
		return a.badTemplate("cc node %s has no settings", n.ID)
	}
	people, err := resolve(a.dir, a.st, n.ID, n.CC.Recipients)
	if err != nil {
		return err
	}
	var sent []string
	for _, p := range people {
		if slices.ContainsFunc(a.st.CCs, func(c CC) bool { return c.Person == p && c.Node == n.ID && c.Round == a.st.Round }) {
			continue
		}
		a.st.CCs = append(a.st.CCs, CC{Person: p, Node: n.ID, Round: a.st.Round, At: a.c.At})
		a.emit(EventCCSent, n.ID, EventData{Assignee: p})
		sent = append(sent, p)
	}
	if len(sent) > 0 {
		a.record(Entry{Actor: SystemActor, Action: "cc", Node: n.ID, People: sent})
	}
	return nil
}

// finish ends the instance: every pending task is cancelled, every run
// closed, every timer dropped.
func (a *applier) finish(status Status, node, reason string) error {
	a.closeAll("instance " + string(status))
	a.st.Status = status
	a.st.FinishedAt = a.c.At
	var typ string
	switch status {
	case StatusApproved:
		typ = EventInstanceApproved
	case StatusRejected:
		typ = EventInstanceRejected
	case StatusWithdrawn:
		typ = EventInstanceWithdrawn
	default:
		typ = EventInstanceCancelled
	}
	data := EventData{Status: status, Reason: reason, Round: a.st.Round}
	a.emit(typ, node, data)
	if kindTyp := KindApprovedEvent(a.t.Kind); status == StatusApproved && kindTyp != "" {
		a.emit(kindTyp, node, data)
	}
	return nil
}

// returnToInitiator hands the instance back for an edited resubmit.
func (a *applier) returnToInitiator(node string) error {
	a.closeAll("returned to the initiator")
	a.st.Status = StatusReturned
	a.record(Entry{Actor: a.actor, Action: "return", Node: node, Target: a.st.Initiator})
	a.emit(EventInstanceReturned, node, EventData{Status: StatusReturned, To: a.st.Initiator, Round: a.st.Round})
	return nil
}

func (a *applier) closeAll(reason string) {
	a.cancelPending(reason, func(*Task) bool { return true })
	for i := range a.st.Runs {
		if r := &a.st.Runs[i]; r.Status == RunActive {
			r.Status, r.EndedAt = RunCancelled, a.c.At
		}
	}
	a.st.Active = nil
	a.st.Joins = nil
	for _, tm := range slices.Clone(a.st.Timers) {
		a.disarm(tm.TaskID)
	}
}

// rewind moves the token of node from back to node to (an upstream
// approval node or parallel split), abandoning every parallel region that
// encloses from but not to.
func (a *applier) rewind(from, to string) error {
	regions := a.regionStacks()
	sc, sx := regions[from], regions[to]
	if !isPrefix(sx, sc) {
		return a.badTemplate("reject target %s is not upstream of %s", to, from)
	}
	if len(sc) > len(sx) {
		a.abandonRegion(sc[len(sx)].Split, regions)
	}
	prev := ""
	if r := a.st.run(to); r != nil {
		prev = r.Prev
	}
	a.record(Entry{Action: "rewind", Node: from, Target: to})
	return a.enter(to, prev)
}

// abandonRegion cancels every active run inside parallel split and resets
// the joins of that split and of the splits nested in it.
func (a *applier) abandonRegion(split string, regions map[string][]region) {
	inside := func(id string) bool {
		return slices.ContainsFunc(regions[id], func(r region) bool { return r.Split == split })
	}
	for _, id := range slices.Clone(a.st.Active) {
		if inside(id) {
			a.abandonRun(id, "a reject went back past this node")
		}
	}
	for i := range a.t.Nodes {
		if n := &a.t.Nodes[i]; n.Type == NodeParallel && (n.ID == split || inside(n.ID)) {
			a.setJoin(n.Join, 0)
		}
	}
}

func (a *applier) abandonRun(node, reason string) {
	r := a.st.run(node)
	if r == nil {
		return
	}
	r.Status, r.EndedAt = RunCancelled, a.c.At
	run := r.Run
	a.removeActive(node)
	a.cancelPending(reason, func(tk *Task) bool { return tk.Run == run })
}

func (a *applier) regionStacks() map[string][]region {
	if a.regions == nil {
		byID := make(map[string]*Node, len(a.t.Nodes))
		for i := range a.t.Nodes {
			if _, dup := byID[a.t.Nodes[i].ID]; !dup {
				byID[a.t.Nodes[i].ID] = &a.t.Nodes[i]
			}
		}
		start := ""
		if s := a.t.start(); s != nil {
			start = s.ID
		}
		a.regions, _ = walkRegions(a.t, byID, start)
	}
	return a.regions
}
