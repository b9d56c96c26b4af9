package flow

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

// pool is everyone random commands may name; ghost does not exist.
var pool = []string{"alice", "bob", "carol", "mgr", "cto", "ceo", "dave", "erin", "frank", "hr1", "hr2", "root", "zed", "ghost"}

// genTemplate builds a random valid template: a chain of blocks (approval,
// condition, parallel split, cc) nested up to a small depth, with random
// modes, approver rules, on_empty, timeouts, reminders, reject behaviours
// and operations.
func genTemplate(r *rand.Rand) *Template {
	g := &templateGen{r: r, t: &Template{ID: "gen", Name: "generated", Version: 1, Form: testForm()}}
	g.t.Nodes = append(g.t.Nodes, Node{ID: "start", Type: NodeStart}, endNode())
	g.t.Nodes[0].Next = g.seq("end", 0)
	g.pickRejectTargets()
	return g.t
}

type templateGen struct {
	r *rand.Rand
	t *Template
	n int
}

func (g *templateGen) id(prefix string) string {
	g.n++
	return prefix + strconv.Itoa(g.n)
}

func (g *templateGen) add(n Node) string {
	g.t.Nodes = append(g.t.Nodes, n)
	return n.ID
}

// seq builds 1..3 blocks leading to next and returns the first node's id.
func (g *templateGen) seq(next string, depth int) string {
	blocks := 1 + g.r.IntN(3)
	for range blocks {
		next = g.block(next, depth)
	}
	return next
}

func (g *templateGen) block(next string, depth int) string {
	k := g.r.IntN(10)
	switch {
	case k < 5 || depth >= 2:
		return g.add(Node{ID: g.id("a"), Type: NodeApproval, Next: next, Approval: g.approval()})
	case k < 7:
		id := g.id("c")
		n := Node{ID: id, Type: NodeCondition}
		for range 1 + g.r.IntN(2) {
			n.Branches = append(n.Branches, Branch{When: g.condition(0), Next: g.seq(next, depth+1)})
		}
		n.Branches = append(n.Branches, Branch{Default: true, Next: g.maybeSeq(next, depth+1)})
		return g.add(n)
	case k < 9:
		split, join := g.id("p"), g.id("j")
		g.add(Node{ID: join, Type: NodeJoin, Next: next})
		n := Node{ID: split, Type: NodeParallel, Join: join}
		for range 2 + g.r.IntN(2) {
			n.Branches = append(n.Branches, Branch{Next: g.maybeSeq(join, depth+1)})
		}
		return g.add(n)
	default:
		return g.add(Node{ID: g.id("cc"), Type: NodeCC, Next: next, CC: &CCSpec{Recipients: []ApproverRule{g.rule()}}})
	}
}

// maybeSeq sometimes leaves a branch empty (straight to next).
func (g *templateGen) maybeSeq(next string, depth int) string {
	if g.r.IntN(4) == 0 {
		return next
	}
	return g.seq(next, depth)
}

func (g *templateGen) condition(depth int) *Condition {
	if depth < 2 && g.r.IntN(4) == 0 {
		c := &Condition{}
		for range 2 {
			sub := *g.condition(depth + 1)
			if g.r.IntN(2) == 0 {
				c.And = append(c.And, sub)
			} else {
				c.Or = append(c.Or, sub)
			}
		}
		if len(c.And) > 0 && len(c.Or) > 0 {
			c.And = append(c.And, Condition{Or: c.Or})
			c.Or = nil
		}
		return c
	}
	switch g.r.IntN(5) {
	case 0:
		return &Condition{Field: "days", Op: []CompareOp{OpGt, OpLe, OpEq, OpNe}[g.r.IntN(4)], Value: float64(g.r.IntN(8))}
	case 1:
		return &Condition{Field: "type", Op: OpIn, Value: []any{"annual", "sick"}[:1+g.r.IntN(2)]}
	case 2:
		return &Condition{Field: "start", Op: OpLt, Value: "2026-03-15"}
	case 3:
		return &Condition{Field: "urgent", Op: OpEq, Value: g.r.IntN(2) == 0}
	}
	return &Condition{Field: "reason", Op: OpContains, Value: "x"}
}

func (g *templateGen) rule() ApproverRule {
	switch g.r.IntN(7) {
	case 0:
		var ps []string
		for _, i := range g.r.Perm(len(pool))[:1+g.r.IntN(3)] {
			ps = append(ps, pool[i])
		}
		return people(ps...)
	case 1:
		return ApproverRule{Type: RuleRole, Role: []string{"hr", "finance", "nobody"}[g.r.IntN(3)]}
	case 2:
		return ApproverRule{Type: RuleManager, Level: 1 + g.r.IntN(4)}
	case 3:
		return ApproverRule{Type: RuleManagerChain, Level: 1 + g.r.IntN(3)}
	case 4:
		return ApproverRule{Type: RuleDepartmentHead}
	case 5:
		return ApproverRule{Type: RuleChosen}
	}
	return ApproverRule{Type: RuleFormField, Field: "backup"}
}

func (g *templateGen) approval() *ApprovalSpec {
	s := &ApprovalSpec{Mode: []Mode{ModeSingle, ModeSequential, ModeAll, ModeAny, ModeVote}[g.r.IntN(5)]}
	if s.Mode == ModeVote {
		s.PassRatio = []float64{0.3, 0.5, 0.6, 1}[g.r.IntN(4)]
	}
	for range 1 + g.r.IntN(2) {
		s.Approvers = append(s.Approvers, g.rule())
	}
	s.OnEmpty = []EmptyAction{"", EmptyToAdmin, EmptyAutoApprove, EmptyReject}[g.r.IntN(4)]
	if s.OnEmpty == EmptyToAdmin && g.r.IntN(2) == 0 {
		s.EmptyAdmin = "dave"
	}
	if g.r.IntN(2) == 0 {
		s.Timeout = &TimeoutSpec{After: Duration(time.Duration(1+g.r.IntN(48)) * time.Hour), Action: []TimeoutAction{TimeoutAutoApprove, TimeoutAutoReject, TimeoutEscalate}[g.r.IntN(3)]}
	}
	if g.r.IntN(2) == 0 {
		s.Reminders = &ReminderSpec{Every: Duration(time.Duration(1+g.r.IntN(6)) * time.Hour), Max: 1 + g.r.IntN(3)}
	}
	s.OnReject = []string{"", RejectTerminate, RejectToPrevious, RejectToInitiator, "to_node:?"}[g.r.IntN(5)]
	if g.r.IntN(3) == 0 {
		s.RejectOptions = []string{RejectToInitiator}
		if s.OnReject == RejectToInitiator {
			s.RejectOptions = []string{RejectTerminate}
		}
	}
	s.CommentRequiredOnReject = g.r.IntN(3) == 0
	for _, op := range allOps {
		if g.r.IntN(2) == 0 {
			s.Allow = append(s.Allow, op)
		}
	}
	return s
}

// pickRejectTargets replaces "to_node:?" by a random valid upstream target,
// or to_previous when there is none.
func (g *templateGen) pickRejectTargets() {
	v := &validator{t: g.t, byID: map[string]*Node{}}
	for i := range g.t.Nodes {
		v.byID[g.t.Nodes[i].ID] = &g.t.Nodes[i]
	}
	regions, _ := walkRegions(g.t, v.byID, "start")
	for i := range g.t.Nodes {
		n := &g.t.Nodes[i]
		if n.Type != NodeApproval || n.Approval.OnReject != "to_node:?" {
			continue
		}
		var targets []string
		for j := range g.t.Nodes {
			x := &g.t.Nodes[j]
			if x.Type == NodeApproval && v.leadsTo(x.ID, n.ID) && isPrefix(regions[x.ID], regions[n.ID]) {
				targets = append(targets, x.ID)
			}
		}
		n.Approval.OnReject = RejectToNode + targets[g.r.IntN(len(targets))]
	}
}

func genForm(r *rand.Rand) map[string]any {
	f := form("days", float64(r.IntN(10)), "type", []string{"annual", "sick", "unpaid"}[r.IntN(3)], "urgent", r.IntN(2) == 0)
	if r.IntN(2) == 0 {
		f["start"] = []string{"2026-03-01", "2026-04-01"}[r.IntN(2)]
	}
	if r.IntN(3) > 0 {
		f["backup"] = pool[r.IntN(len(pool)-1)] // never ghost: the form must be valid
	}
	if r.IntN(2) == 0 {
		f["reason"] = []string{"xmas", "flu"}[r.IntN(2)]
	}
	return f
}

func genChosen(r *rand.Rand, t *Template) map[string][]string {
	out := map[string][]string{}
	for _, n := range t.Nodes {
		if n.Type == NodeApproval && slices.ContainsFunc(n.Approval.Approvers, func(a ApproverRule) bool { return a.Type == RuleChosen }) && r.IntN(3) > 0 {
			for _, i := range r.Perm(len(pool) - 1)[:1+r.IntN(2)] {
				out[n.ID] = append(out[n.ID], pool[i])
			}
		}
	}
	return out
}

// try applies c: a refusal must be a typed *Error (and leaves the state as
// it was); a success must pass the harness checks.
func (h *harness) try(c Command) error {
	h.t.Helper()
	res, err := h.apply(c)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || !(errors.Is(err, ErrInvalid) || errors.Is(err, ErrForbidden) || errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrRateLimited)) {
			h.t.Fatalf("%+v: untyped error %v", c, err)
		}
		return err
	}
	h.accept(res)
	return nil
}

// randomCommand picks a plausible (sometimes deliberately wrong) command.
func randomCommand(r *rand.Rand, h *harness) Command {
	st := h.st
	person := func() string { return pool[r.IntN(len(pool))] }
	var open []Task
	for _, tk := range st.Tasks {
		if tk.State == TaskOpen {
			open = append(open, tk)
		}
	}
	k := r.IntN(100)
	if len(open) > 0 && k < 70 {
		tk := open[r.IntN(len(open))]
		c := Command{Actor: tk.Assignee, TaskID: tk.ID, Comment: "c"}
		switch j := r.IntN(14); {
		case j < 6:
			c.Action = ActApprove
		case j < 9:
			c.Action = ActReject
			if r.IntN(4) == 0 {
				c.RejectTo = []string{RejectToInitiator, RejectTerminate, RejectToPrevious}[r.IntN(3)]
			}
		case j == 9:
			c.Action, c.To = ActTransfer, person()
		case j == 10:
			c.Action, c.To = ActDelegate, person()
		case j == 11:
			c.Action, c.Position = ActAddSigner, []string{PositionBefore, PositionAfter, PositionParallel}[r.IntN(3)]
			c.Signers = []string{person()}
			if r.IntN(3) == 0 {
				c.Signers = append(c.Signers, person())
			}
		case j == 12:
			c.Action, c.Signers = ActRemoveSigner, []string{person()}
			var added []Signer // pending signers, as (person, added by)
			for _, o := range st.Tasks {
				if o.State.pending() && o.AddedBy != "" {
					added = append(added, Signer{Person: o.Assignee, AddedBy: o.AddedBy})
				}
				if o.State.pending() {
					added = append(added, o.Then...)
				}
			}
			if len(added) > 0 {
				s := added[r.IntN(len(added))]
				c.Actor, c.Signers = s.AddedBy, []string{s.Person}
			}
		default:
			c.Action, c.TaskID = ActWithdraw, ""
			var deciders []string
			for _, o := range st.Tasks {
				if o.State == TaskApproved && o.DecidedBy != SystemActor {
					deciders = append(deciders, o.DecidedBy)
				}
			}
			if len(deciders) > 0 {
				c.Actor = deciders[r.IntN(len(deciders))]
			}
		}
		if r.IntN(20) == 0 {
			c.Actor = person() // someone else tries
		}
		return c
	}
	switch {
	case k < 80 && len(st.Timers) > 0:
		tm := st.Timers[r.IntN(len(st.Timers))]
		act := ActTimeout
		if tm.Kind == TimerReminder {
			act = ActRemind
		}
		return Command{Action: act, TimerID: tm.ID, At: tm.DueAt}
	case k < 82:
		return Command{Action: ActTimeout, TimerID: st.ID + ":tm" + strconv.Itoa(1+r.IntN(st.Seq+1))}
	case k < 88:
		return Command{Action: ActResubmit, Actor: st.Initiator, Form: genForm(r)}
	case k < 91:
		return Command{Action: ActUrge, Actor: st.Initiator}
	case k < 94:
		return Command{Action: ActComment, Actor: person(), Comment: "hi"}
	case k < 96:
		return Command{Action: ActWithdraw, Actor: person()}
	case k < 97:
		return Command{Action: ActWithdraw, Actor: st.Initiator}
	case k < 98:
		return Command{Action: ActCancel, Actor: person(), Admin: r.IntN(2) == 0}
	}
	return Command{Action: Action([]string{"approve", "reject", "transfer", "sign"}[r.IntN(4)]), Actor: person()}
}

// drive approves every open task (resubmitting after a return) and
// reports the number of steps until the instance is terminal.
func drive(h *harness, limit int) int {
	h.t.Helper()
	for step := 0; step < limit; step++ {
		switch h.st.Status {
		case StatusReturned:
			h.do(Command{Action: ActResubmit, Actor: h.st.Initiator})
		case StatusRunning:
			tk := h.st.OpenTasks()[0]
			h.do(Command{Action: ActApprove, Actor: tk.Assignee, TaskID: tk.ID})
		default:
			return step
		}
	}
	h.t.Fatalf("not terminal after %d approvals: %s, open %v\n%v", limit, h.st.Status, h.open(), history(h.st))
	return limit
}

// TestPropertyRandomFlows: random valid templates and random command
// sequences never produce a state that fails Instance.Check (nor a JSON
// round trip, nor a modified input, nor an untyped error), and from any
// state reached, approving everything ends the instance in a bounded
// number of steps.
func TestPropertyRandomFlows(t *testing.T) {
	seeds := 400
	if testing.Short() {
		seeds = 80
	}
	for seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(seed), 7))
			tpl := genTemplate(r)
			if probs := ValidateTemplate(tpl); len(probs) > 0 {
				t.Fatalf("generated template invalid: %v\n%s", probs, dump(tpl))
			}
			h := &harness{t: t, tpl: tpl, dir: testDir(), now: t0}
			initiator := []string{"alice", "bob", "carol", "erin", "hr1", "ceo"}[r.IntN(6)]
			if err := h.try(Command{Action: ActSubmit, Actor: initiator, InstanceID: "i1", Form: genForm(r), Chosen: genChosen(r, tpl)}); err != nil {
				t.Fatalf("submit: %v", err)
			}
			for range r.IntN(60) {
				h.try(randomCommand(r, h))
				checkMayApprove(t, h)
			}
			drive(h, 300)
			if !h.st.Status.Terminal() {
				t.Fatalf("status %s", h.st.Status)
			}
		})
	}
}

// TestPropertyAllApproveTerminates: on fresh random instances, approving
// everything ends approved unless a node rejects for lack of approvers.
func TestPropertyAllApproveTerminates(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 60
	}
	for seed := range seeds {
		r := rand.New(rand.NewPCG(uint64(seed), 11))
		tpl := genTemplate(r)
		h := &harness{t: t, tpl: tpl, dir: testDir(), now: t0}
		h.do(Command{Action: ActSubmit, Actor: "alice", InstanceID: "i1", Form: genForm(r), Chosen: genChosen(r, tpl)})
		drive(h, 300)
		if h.st.Status == StatusRejected {
			if last := h.st.History[len(h.st.History)-1]; last.Action != "auto_reject" {
				t.Fatalf("seed %d: rejected without anyone rejecting: %v", seed, history(h.st))
			}
		} else if h.st.Status != StatusApproved {
			t.Fatalf("seed %d: %s", seed, h.st.Status)
		}
	}
}

// checkMayApprove: Instance.MayApprove agrees with Check on an approve, for
// every person, naming no task, each task, or one that does not exist.
func checkMayApprove(t *testing.T, h *harness) {
	t.Helper()
	people := []string{"alice", "bob", "carol", "dave", "erin", "mgr", "cto", "ceo", "hr1", "hr2", "fin1"}
	taskIDs := []string{"", "nope"}
	for _, tk := range h.st.Tasks {
		people = append(people, tk.Assignee)
		taskIDs = append(taskIDs, tk.ID)
	}
	for _, actor := range people {
		for _, id := range taskIDs {
			err := Check(h.tpl, h.st, Command{Action: ActApprove, Actor: actor, TaskID: id, At: h.now.Add(time.Second)}, h.dir)
			var fe *Error
			if err != nil && !errors.As(err, &fe) {
				t.Fatalf("approve by %s (task %q): not a refusal: %v", actor, id, err)
			}
			if got := h.st.MayApprove(actor, id); got != (err == nil) {
				t.Fatalf("MayApprove(%s, %q) = %v, but Check says %v\nstate: %s", actor, id, got, err, dump(h.st))
			}
		}
	}
}
