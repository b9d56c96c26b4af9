package flow

import (
	"fmt"
	"slices"
	"strings"
)

// Problem is one defect of a template: the node it concerns ("" for the
// template or its form), the offending field inside it, and why.
type Problem struct {
	Node   string `json:"node,omitempty"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Node != "" {
		b.WriteString("node " + p.Node + ": ")
	}
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Reason)
	return b.String()
}

// Limits that keep a template humane and its validation cheap.
const (
	maxManagerLevel = 20
	maxReminders    = 100
)

// ValidateTemplate returns every problem of t, each with its node id and
// field, in a deterministic order; nil means Apply can run it. It checks the
// kind's required fields, the form schema, each node's settings (modes,
// approver rules, timeouts, reminders, reject behaviours, allowed
// operations, conditions against the form's field types) and the graph:
// one start, reachable nodes, a path to an end from every node, no cycles,
// parallel splits whose branches all meet at their own join, and reject
// targets that lie upstream in a compatible region.
func ValidateTemplate(t *Template) []Problem {
	v := &validator{t: t, byID: make(map[string]*Node, len(t.Nodes))}
	v.checkKind()
	v.checkForm()
	for i := range t.Nodes {
		n := &t.Nodes[i]
		if n.ID == "" {
			v.add("", fmt.Sprintf("nodes[%d].id", i), "node id is required")
			continue
		}
		if _, dup := v.byID[n.ID]; dup {
			v.add(n.ID, "id", "duplicate node id")
			continue
		}
		v.byID[n.ID] = n
	}
	for i := range t.Nodes {
		if n := &t.Nodes[i]; n.ID != "" && v.byID[n.ID] == n {
			v.checkNode(n)
		}
	}
	v.checkGraph()
	return v.problems
}

type validator struct {
	t        *Template
	byID     map[string]*Node
	problems []Problem
}

func (v *validator) add(node, field, reason string) {
	v.problems = append(v.problems, Problem{Node: node, Field: field, Reason: reason})
}

func (v *validator) checkKind() {
	switch v.t.Kind {
	case KindGeneric, KindLeave, KindShiftSwap:
	default:
		v.add("", "kind", fmt.Sprintf("unknown kind %q (use \"\", %q or %q)", v.t.Kind, KindLeave, KindShiftSwap))
		return
	}
	for _, want := range KindFields(v.t.Kind) {
		f := v.t.field(want.Name)
		switch {
		case f == nil:
			v.add("", "form."+want.Name, fmt.Sprintf("kind %s needs a required %s field %q", v.t.Kind, want.Type, want.Name))
		case f.Type != want.Type:
			v.add("", "form."+want.Name, fmt.Sprintf("kind %s needs %q to be a %s field, not %s", v.t.Kind, want.Name, want.Type, f.Type))
		case !f.Required:
			v.add("", "form."+want.Name, fmt.Sprintf("kind %s needs %q to be required", v.t.Kind, want.Name))
		}
	}
	if v.t.UrgeInterval < 0 {
		v.add("", "urge_interval", "must not be negative")
	}
}

func (v *validator) checkForm() {
	seen := make(map[string]bool, len(v.t.Form))
	for i := range v.t.Form {
		f := &v.t.Form[i]
		where := "form." + f.Name
		switch {
		case f.Name == "":
			v.add("", fmt.Sprintf("form[%d].name", i), "field name is required")
			continue
		case !validFieldName(f.Name):
			v.add("", where, "field names use letters, digits, '_' and '-' only")
		case seen[f.Name]:
			v.add("", where, "duplicate field name")
		}
		seen[f.Name] = true
		if !f.Type.valid() {
			v.add("", where+".type", fmt.Sprintf("unknown field type %q", f.Type))
		}
		if f.Type == TypeEnum {
			if len(f.Enum) == 0 {
				v.add("", where+".enum", "an enum field needs at least one value")
			}
			vals := make(map[string]bool, len(f.Enum))
			for _, e := range f.Enum {
				if e == "" {
					v.add("", where+".enum", "enum values must not be empty")
				} else if vals[e] {
					v.add("", where+".enum", fmt.Sprintf("duplicate enum value %q", e))
				}
				vals[e] = true
			}
		} else if len(f.Enum) > 0 {
			v.add("", where+".enum", "enum values only apply to enum fields")
		}
	}
}

func validFieldName(s string) bool {
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func (v *validator) checkNode(n *Node) {
	if n.Approval != nil && n.Type != NodeApproval {
		v.add(n.ID, "approval", "approval settings only apply to approval nodes")
	}
	if n.CC != nil && n.Type != NodeCC {
		v.add(n.ID, "cc", "cc settings only apply to cc nodes")
	}
	if n.Join != "" && n.Type != NodeParallel {
		v.add(n.ID, "join", "join only applies to parallel nodes")
	}
	if len(n.Branches) > 0 && n.Type != NodeCondition && n.Type != NodeParallel {
		v.add(n.ID, "branches", "branches only apply to condition and parallel nodes")
	}
	switch n.Type {
	case NodeStart:
		v.checkNext(n)
	case NodeEnd:
		if n.Next != "" {
			v.add(n.ID, "next", "an end node has no next node")
		}
	case NodeApproval:
		v.checkNext(n)
		v.checkApproval(n)
	case NodeCC:
		v.checkNext(n)
		if n.CC == nil || len(n.CC.Recipients) == 0 {
			v.add(n.ID, "cc.recipients", "a cc node needs at least one recipient rule")
		} else {
			for i := range n.CC.Recipients {
				v.checkRule(n.ID, fmt.Sprintf("cc.recipients[%d]", i), &n.CC.Recipients[i])
			}
		}
	case NodeJoin:
		v.checkNext(n)
		var splits []string
		for i := range v.t.Nodes {
			if p := &v.t.Nodes[i]; p.Type == NodeParallel && p.Join == n.ID {
				splits = append(splits, p.ID)
			}
		}
		switch len(splits) {
		case 0:
			v.add(n.ID, "", "join without a parallel split naming it")
		case 1:
		default:
			v.add(n.ID, "", "join shared by parallel splits "+strings.Join(splits, ", "))
		}
	case NodeCondition:
		if n.Next != "" {
			v.add(n.ID, "next", "a condition node leaves through its branches, not next")
		}
		v.checkCondition(n)
	case NodeParallel:
		if n.Next != "" {
			v.add(n.ID, "next", "a parallel node leaves through its branches, not next")
		}
		v.checkParallel(n)
	default:
		v.add(n.ID, "type", fmt.Sprintf("unknown node type %q", n.Type))
	}
}

func (v *validator) checkNext(n *Node) {
	v.checkTarget(n.ID, "next", n.Next)
}

func (v *validator) checkTarget(node, field, target string) {
	switch t := v.byID[target]; {
	case target == "":
		v.add(node, field, "a next node is required")
	case t == nil:
		v.add(node, field, fmt.Sprintf("%q is not a node", target))
	case t.Type == NodeStart:
		v.add(node, field, "the start node cannot be a target")
	}
}

func (v *validator) checkCondition(n *Node) {
	defaults, conditional := 0, 0
	for i := range n.Branches {
		b := &n.Branches[i]
		where := fmt.Sprintf("branches[%d]", i)
		v.checkTarget(n.ID, where+".next", b.Next)
		if b.Default {
			defaults++
			if b.When != nil {
				v.add(n.ID, where+".when", "the default branch has no condition")
			}
			continue
		}
		conditional++
		if b.When == nil {
			v.add(n.ID, where+".when", "a branch needs a when condition (or default: true)")
			continue
		}
		checkCondition(v.t, b.When, where+".when", 0, func(field, reason string) { v.add(n.ID, field, reason) })
	}
	if conditional == 0 {
		v.add(n.ID, "branches", "a condition node needs at least one conditional branch")
	}
	switch {
	case defaults == 0:
		v.add(n.ID, "branches", "missing default branch (exactly one branch needs default: true)")
	case defaults > 1:
		v.add(n.ID, "branches", "more than one default branch")
	}
}

func (v *validator) checkParallel(n *Node) {
	if len(n.Branches) < 2 {
		v.add(n.ID, "branches", "a parallel split needs at least two branches")
	}
	for i := range n.Branches {
		b := &n.Branches[i]
		where := fmt.Sprintf("branches[%d]", i)
		v.checkTarget(n.ID, where+".next", b.Next)
		if b.When != nil || b.Default {
			v.add(n.ID, where, "parallel branches take no condition; use a condition node inside the branch")
		}
	}
	switch j := v.byID[n.Join]; {
	case n.Join == "":
		v.add(n.ID, "join", "split without matching join: name its join node")
	case j == nil:
		v.add(n.ID, "join", fmt.Sprintf("split without matching join: %q is not a node", n.Join))
	case j.Type != NodeJoin:
		v.add(n.ID, "join", fmt.Sprintf("split without matching join: %q is a %s node", n.Join, j.Type))
	}
}

func (v *validator) checkApproval(n *Node) {
	s := n.Approval
	if s == nil {
		v.add(n.ID, "approval", "approval settings are required")
		return
	}
	if !s.Mode.valid() {
		v.add(n.ID, "approval.mode", fmt.Sprintf("unknown mode %q (use single, sequential, all, any or vote)", s.Mode))
	}
	if s.Mode == ModeVote {
		if !(s.PassRatio > 0 && s.PassRatio <= 1) {
			v.add(n.ID, "approval.pass_ratio", "a vote needs a pass ratio in (0, 1]")
		}
	} else if s.PassRatio != 0 {
		v.add(n.ID, "approval.pass_ratio", "pass_ratio only applies to vote mode")
	}
	if len(s.Approvers) == 0 {
		v.add(n.ID, "approval.approvers", "empty approver rules: the node needs at least one rule")
	}
	for i := range s.Approvers {
		v.checkRule(n.ID, fmt.Sprintf("approval.approvers[%d]", i), &s.Approvers[i])
	}
	switch s.OnEmpty {
	case "", EmptyToAdmin:
	case EmptyAutoApprove, EmptyReject:
		if s.EmptyAdmin != "" {
			v.add(n.ID, "approval.empty_admin", "empty_admin only applies with on_empty admin")
		}
	default:
		v.add(n.ID, "approval.on_empty", fmt.Sprintf("unknown on_empty %q (use admin, auto_approve or reject)", s.OnEmpty))
	}
	if s.Timeout != nil {
		if s.Timeout.After <= 0 {
			v.add(n.ID, "approval.timeout.after", "a timeout must be positive")
		}
		switch s.Timeout.Action {
		case TimeoutAutoApprove, TimeoutAutoReject, TimeoutEscalate:
		default:
			v.add(n.ID, "approval.timeout.action", fmt.Sprintf("unknown timeout action %q (use auto_approve, auto_reject or escalate)", s.Timeout.Action))
		}
	}
	if s.Reminders != nil {
		if s.Reminders.Every <= 0 {
			v.add(n.ID, "approval.reminders.every", "a reminder interval must be positive")
		}
		if s.Reminders.Max < 1 || s.Reminders.Max > maxReminders {
			v.add(n.ID, "approval.reminders.max", fmt.Sprintf("reminders max must be between 1 and %d", maxReminders))
		}
	}
	if _, _, ok := parseReject(s.OnReject); !ok {
		v.add(n.ID, "approval.on_reject", fmt.Sprintf("unknown reject behaviour %q (use terminate, to_previous, to_initiator or to_node:<id>)", s.OnReject))
	}
	seen := map[string]bool{s.OnReject: true}
	for i, o := range s.RejectOptions {
		where := fmt.Sprintf("approval.reject_options[%d]", i)
		if _, _, ok := parseReject(o); !ok || o == "" {
			v.add(n.ID, where, fmt.Sprintf("unknown reject behaviour %q", o))
		} else if seen[o] {
			v.add(n.ID, where, fmt.Sprintf("reject behaviour %q listed twice", o))
		}
		seen[o] = true
	}
	ops := map[Operation]bool{}
	for i, op := range s.Allow {
		where := fmt.Sprintf("approval.allow[%d]", i)
		switch op {
		case OpTransfer, OpDelegate, OpAddSigner:
		default:
			v.add(n.ID, where, fmt.Sprintf("unknown operation %q (use transfer, delegate or add_signer)", op))
		}
		if ops[op] {
			v.add(n.ID, where, fmt.Sprintf("operation %q listed twice", op))
		}
		ops[op] = true
	}
}

func (v *validator) checkRule(node, where string, r *ApproverRule) {
	switch r.Type {
	case RulePeople:
		if len(r.People) == 0 {
			v.add(node, where+".people", "empty approver rule: list at least one person")
		}
		for i, p := range r.People {
			if p == "" {
				v.add(node, fmt.Sprintf("%s.people[%d]", where, i), "person id must not be empty")
			} else if slices.Index(r.People, p) < i {
				v.add(node, fmt.Sprintf("%s.people[%d]", where, i), fmt.Sprintf("person %q listed twice", p))
			}
		}
	case RuleRole:
		if r.Role == "" {
			v.add(node, where+".role", "empty approver rule: name a role")
		}
	case RuleManager, RuleManagerChain:
		if r.Level < 1 || r.Level > maxManagerLevel {
			v.add(node, where+".level", fmt.Sprintf("level must be between 1 and %d", maxManagerLevel))
		}
	case RuleDepartmentHead, RuleChosen:
	case RuleFormField:
		f := v.t.field(r.Field)
		switch {
		case r.Field == "":
			v.add(node, where+".field", "empty approver rule: name a person field")
		case f == nil:
			v.add(node, where+".field", fmt.Sprintf("unknown form field %q", r.Field))
		case f.Type != TypePerson:
			v.add(node, where+".field", fmt.Sprintf("field %q is a %s, not a person", r.Field, f.Type))
		}
	default:
		v.add(node, where+".type", fmt.Sprintf("unknown approver rule %q (use people, role, manager, manager_chain, department_head, chosen or form_field)", r.Type))
	}
}

// successors lists the ids n leads to that exist in byID.
func successors(n *Node, byID map[string]*Node) []string {
	var out []string
	switch n.Type {
	case NodeCondition, NodeParallel:
		for _, b := range n.Branches {
			if byID[b.Next] != nil {
				out = append(out, b.Next)
			}
		}
	case NodeEnd:
	default:
		if byID[n.Next] != nil {
			out = append(out, n.Next)
		}
	}
	return out
}

func (v *validator) checkGraph() {
	var start *Node
	ends := 0
	for i := range v.t.Nodes {
		n := &v.t.Nodes[i]
		if v.byID[n.ID] != n {
			continue
		}
		switch n.Type {
		case NodeStart:
			if start == nil {
				start = n
			} else {
				v.add(n.ID, "type", "more than one start node (first is "+start.ID+")")
			}
		case NodeEnd:
			ends++
		}
	}
	if start == nil {
		v.add("", "nodes", "no start node")
		return
	}
	if ends == 0 {
		v.add("", "nodes", "no end node")
	}
	reach := map[string]bool{start.ID: true}
	queue := []string{start.ID}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, s := range successors(v.byID[id], v.byID) {
			if !reach[s] {
				reach[s] = true
				queue = append(queue, s)
			}
		}
	}
	toEnd := v.reachesEnd()
	for i := range v.t.Nodes {
		n := &v.t.Nodes[i]
		if v.byID[n.ID] != n {
			continue
		}
		if !reach[n.ID] {
			v.add(n.ID, "", "unreachable from the start node")
		} else if !toEnd[n.ID] && ends > 0 {
			v.add(n.ID, "", "no path from this node to an end node")
		}
	}
	if v.checkCycles() {
		return
	}
	regions, problems := walkRegions(v.t, v.byID, start.ID)
	v.problems = append(v.problems, problems...)
	for i := range v.t.Nodes {
		n := &v.t.Nodes[i]
		if n.Type == NodeApproval && n.Approval != nil && v.byID[n.ID] == n {
			v.checkRejectTargets(n, regions)
		}
	}
}

// reachesEnd returns the nodes from which some end node is reachable.
func (v *validator) reachesEnd() map[string]bool {
	preds := map[string][]string{}
	var queue []string
	ok := map[string]bool{}
	for id, n := range v.byID {
		for _, s := range successors(n, v.byID) {
			preds[s] = append(preds[s], id)
		}
		if n.Type == NodeEnd {
			ok[id] = true
			queue = append(queue, id)
		}
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, p := range preds[id] {
			if !ok[p] {
				ok[p] = true
				queue = append(queue, p)
			}
		}
	}
	return ok
}

// checkCycles reports every cycle once (at the node that closes it) and
// returns whether there was any. Every cycle is fatal: conditions read the
// same form on each pass, so a loop taken once is taken forever.
func (v *validator) checkCycles() bool {
	const (
		white = iota
		grey
		black
	)
	color := make(map[string]int, len(v.byID))
	var path []string
	found := false
	var visit func(id string)
	visit = func(id string) {
		color[id] = grey
		path = append(path, id)
		for _, s := range successors(v.byID[id], v.byID) {
			switch color[s] {
			case white:
				visit(s)
			case grey:
				i := slices.Index(path, s)
				cycle := append(slices.Clone(path[i:]), s)
				v.add(id, "", "cycle "+strings.Join(cycle, " -> ")+" can never terminate: conditions see the same form on every pass; go back with a reject behaviour instead")
				found = true
			}
		}
		path = path[:len(path)-1]
		color[id] = black
	}
	for i := range v.t.Nodes {
		if id := v.t.Nodes[i].ID; v.byID[id] == &v.t.Nodes[i] && color[id] == white {
			visit(id)
		}
	}
	return found
}

// region is one level of parallel nesting: the split and the branch index.
type region struct {
	Split  string
	Branch int
}

// walkRegions assigns every node reachable from start its stack of enclosing
// parallel branches, outermost first, and reports structure violations:
// a node reached from two branches (or from inside and outside a split), a
// join reached from outside its split, an end inside a branch, and branches
// that never reach their join. The graph must be acyclic.
func walkRegions(t *Template, byID map[string]*Node, start string) (map[string][]region, []Problem) {
	stacks := make(map[string][]region, len(byID))
	arrived := map[string][]bool{}
	var problems []Problem
	add := func(node, reason string) { problems = append(problems, Problem{Node: node, Reason: reason}) }
	var visit func(id string, in []region)
	visit = func(id string, in []region) {
		n := byID[id]
		if n == nil {
			return
		}
		own := in
		if n.Type == NodeJoin {
			if len(in) == 0 {
				add(id, "join reached outside any parallel branch")
				return
			}
			top := in[len(in)-1]
			if split := byID[top.Split]; split.Join != id {
				add(id, fmt.Sprintf("join reached from a branch of parallel %s, whose join is %q: split without matching join", top.Split, split.Join))
				return
			}
			arrived[top.Split][top.Branch] = true
			own = in[:len(in)-1]
		}
		if n.Type == NodeEnd && len(own) > 0 {
			top := own[len(own)-1]
			add(id, fmt.Sprintf("end reached inside branch %d of parallel %s before its join", top.Branch, top.Split))
			return
		}
		if prev, seen := stacks[id]; seen {
			if !slices.Equal(prev, own) {
				add(id, fmt.Sprintf("reached from %s and from %s: parallel branches must stay apart until their join", describeRegions(prev), describeRegions(own)))
			}
			return
		}
		stacks[id] = own
		switch n.Type {
		case NodeParallel:
			arrived[id] = make([]bool, len(n.Branches))
			for i, b := range n.Branches {
				inner := append(slices.Clip(own), region{Split: id, Branch: i})
				visit(b.Next, inner)
			}
		default:
			for _, s := range successors(n, byID) {
				visit(s, own)
			}
		}
	}
	visit(start, nil)
	for i := range t.Nodes {
		n := &t.Nodes[i]
		got, ok := arrived[n.ID]
		if n.Type != NodeParallel || !ok || byID[n.ID] != n {
			continue
		}
		for b, hit := range got {
			if !hit {
				problems = append(problems, Problem{Node: n.ID, Field: fmt.Sprintf("branches[%d]", b), Reason: fmt.Sprintf("branch never reaches join %s: split without matching join", n.Join)})
			}
		}
	}
	return stacks, problems
}

func describeRegions(rs []region) string {
	if len(rs) == 0 {
		return "outside any parallel"
	}
	top := rs[len(rs)-1]
	return fmt.Sprintf("branch %d of parallel %s", top.Branch, top.Split)
}

// checkRejectTargets checks to_node targets: an approval node upstream of n
// (or n itself) whose parallel nesting encloses n's.
func (v *validator) checkRejectTargets(n *Node, regions map[string][]region) {
	check := func(field, behaviour string) {
		kind, target, ok := parseReject(behaviour)
		if !ok || kind != RejectToNode {
			return
		}
		tn := v.byID[target]
		switch {
		case tn == nil:
			v.add(n.ID, field, fmt.Sprintf("reject target %q is not a node", target))
		case tn.Type != NodeApproval:
			v.add(n.ID, field, fmt.Sprintf("reject target %q is a %s node, not an approval node", target, tn.Type))
		case !v.leadsTo(target, n.ID):
			v.add(n.ID, field, fmt.Sprintf("reject target %q is not upstream of this node", target))
		case !isPrefix(regions[target], regions[n.ID]):
			v.add(n.ID, field, fmt.Sprintf("reject target %q lies in another parallel branch", target))
		}
	}
	check("approval.on_reject", n.Approval.OnReject)
	for i, o := range n.Approval.RejectOptions {
		check(fmt.Sprintf("approval.reject_options[%d]", i), o)
	}
}

// leadsTo reports whether to is reachable from from (a node reaches itself).
func (v *validator) leadsTo(from, to string) bool {
	seen := map[string]bool{from: true}
	queue := []string{from}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if id == to {
			return true
		}
		for _, s := range successors(v.byID[id], v.byID) {
			if !seen[s] {
				seen[s] = true
				queue = append(queue, s)
			}
		}
	}
	return false
}

func isPrefix(prefix, full []region) bool {
	return len(prefix) <= len(full) && slices.Equal(prefix, full[:len(prefix)])
}
