package flow

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The org every test uses:
//
//	ceo
//	├── cto (head of eng)
//	│   ├── mgr (manager of alice and bob)
//	│   │   ├── alice, bob
//	│   └── carol (role hr)
//	├── dave (head of fin, role finance), erin, frank (role finance)
//	└── hr1, hr2 (role hr)
//
// root is the admin; zed exists and takes part in nothing.
func testDir() *StaticDirectory {
	return NewStaticDirectory([]Person{
		{ID: "ceo", Department: "exec"},
		{ID: "cto", Manager: "ceo", Department: "eng"},
		{ID: "mgr", Manager: "cto", Department: "eng"},
		{ID: "alice", Manager: "mgr", Department: "eng"},
		{ID: "bob", Manager: "mgr", Department: "eng"},
		{ID: "carol", Manager: "cto", Department: "eng", Roles: []string{"hr"}},
		{ID: "dave", Manager: "ceo", Department: "fin", Roles: []string{"finance"}},
		{ID: "erin", Manager: "dave", Department: "fin", Roles: []string{"finance"}},
		{ID: "frank", Manager: "dave", Department: "fin", Roles: []string{"finance"}},
		{ID: "hr1", Manager: "ceo", Department: "hr", Roles: []string{"hr"}},
		{ID: "hr2", Manager: "ceo", Department: "hr", Roles: []string{"hr"}},
		{ID: "root", Department: "exec"},
		{ID: "zed", Department: "exec"},
	}, map[string]string{"eng": "cto", "exec": "ceo", "fin": "dave"}, "root")
}

// testForm is the schema of the generic test templates.
func testForm() []Field {
	return []Field{
		{Name: "days", Type: TypeNumber, Required: true},
		{Name: "reason", Type: TypeString},
		{Name: "type", Type: TypeEnum, Enum: []string{"annual", "sick", "unpaid"}},
		{Name: "start", Type: TypeDate},
		{Name: "urgent", Type: TypeBoolean},
		{Name: "backup", Type: TypePerson},
		{Name: "count", Type: TypeInteger},
		{Name: "files", Type: TypeAttachments},
	}
}

func people(ids ...string) ApproverRule { return ApproverRule{Type: RulePeople, People: ids} }

func startNode(next string) Node { return Node{ID: "start", Type: NodeStart, Next: next} }
func endNode() Node              { return Node{ID: "end", Type: NodeEnd} }

func approvalNode(id, next string, spec ApprovalSpec) Node {
	return Node{ID: id, Type: NodeApproval, Next: next, Approval: &spec}
}

// chain builds start -> specs[0] -> ... -> end with nodes n1, n2, ...
func chain(specs ...ApprovalSpec) *Template {
	nodes := []Node{startNode("n1")}
	for i, s := range specs {
		next := "end"
		if i+1 < len(specs) {
			next = "n" + itoa(i+2)
		}
		nodes = append(nodes, approvalNode("n"+itoa(i+1), next, s))
	}
	nodes = append(nodes, endNode())
	return &Template{ID: "tpl", Name: "test", Version: 1, Form: testForm(), Nodes: nodes}
}

func itoa(i int) string { return strconv.Itoa(i) }

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// harness drives one instance and checks after every step that the state
// holds its invariants, survives a JSON round trip and that Apply left its
// input untouched.
type harness struct {
	t      *testing.T
	tpl    *Template
	dir    Directory
	st     *Instance
	now    time.Time
	events []Event // of the last successful step
	timers []Timer // every timer scheduled and not cancelled or fired
}

func newHarness(t *testing.T, tpl *Template) *harness {
	t.Helper()
	if probs := ValidateTemplate(tpl); len(probs) > 0 {
		t.Fatalf("test template invalid: %v", probs)
	}
	return &harness{t: t, tpl: tpl, dir: testDir(), now: t0}
}

// submit starts the instance as initiator with form.
func (h *harness) submit(initiator string, form map[string]any) Result {
	h.t.Helper()
	return h.do(Command{Action: ActSubmit, Actor: initiator, InstanceID: "i1", Org: "o1", Form: form})
}

func (h *harness) apply(c Command) (Result, error) {
	h.t.Helper()
	h.now = h.now.Add(time.Minute)
	if c.At.IsZero() {
		c.At = h.now
	}
	var before []byte
	if h.st != nil {
		before, _ = json.Marshal(h.st)
	}
	res, err := Apply(h.tpl, h.st, c, h.dir)
	if err == nil && c.TimerID != "" {
		// The adapter retires a fired timer row itself.
		h.timers = slices.DeleteFunc(h.timers, func(tm Timer) bool { return tm.ID == c.TimerID })
	}
	if h.st != nil {
		after, _ := json.Marshal(h.st)
		if string(before) != string(after) {
			h.t.Fatalf("Apply(%s) modified its input state", c.Action)
		}
	}
	return res, err
}

// do applies c and fails the test on error.
func (h *harness) do(c Command) Result {
	h.t.Helper()
	res, err := h.apply(c)
	if err != nil {
		h.t.Fatalf("%s by %s: %v", c.Action, c.Actor, err)
	}
	h.accept(res)
	return res
}

func (h *harness) accept(res Result) {
	h.t.Helper()
	if err := res.Instance.Check(h.tpl); err != nil {
		h.t.Fatalf("invariants broken: %v\nstate: %s", err, dump(res.Instance))
	}
	b, err := json.Marshal(res.Instance)
	if err != nil {
		h.t.Fatalf("marshal: %v", err)
	}
	var back Instance
	if err := json.Unmarshal(b, &back); err != nil {
		h.t.Fatalf("unmarshal: %v", err)
	}
	if err := back.Check(h.tpl); err != nil {
		h.t.Fatalf("invariants broken after JSON round trip: %v", err)
	}
	for _, id := range res.CancelTimers {
		h.timers = slices.DeleteFunc(h.timers, func(tm Timer) bool { return tm.ID == id })
	}
	h.timers = append(h.timers, res.Timers...)
	// The adapter's timer table must match the state's pending timers.
	got := slices.Clone(h.timers)
	if !res.Noop {
		want := back.Timers
		if len(got) != len(want) {
			ids := func(ts []Timer) (out []string) {
				for _, t := range ts {
					out = append(out, t.ID)
				}
				return
			}
			h.t.Fatalf("timer table %v != state timers %v", ids(got), ids(want))
		}
	}
	h.st = &back
	h.events = res.Events
}

// fail applies c and checks it is refused with kind.
func (h *harness) fail(c Command, kind error) *Error {
	h.t.Helper()
	res, err := h.apply(c)
	if err == nil {
		h.t.Fatalf("%s by %s succeeded (events %v), want %v", c.Action, c.Actor, eventTypes(res.Events), kind)
	}
	if !errors.Is(err, kind) {
		h.t.Fatalf("%s by %s: got %v, want %v", c.Action, c.Actor, err, kind)
	}
	var e *Error
	if !errors.As(err, &e) {
		h.t.Fatalf("%s: error %T is not *Error", c.Action, err)
	}
	return e
}

func (h *harness) approve(actor string) Result {
	h.t.Helper()
	return h.do(Command{Action: ActApprove, Actor: actor})
}

func (h *harness) reject(actor string) Result {
	h.t.Helper()
	return h.do(Command{Action: ActReject, Actor: actor, Comment: "no"})
}

// fire fires the pending timer of kind for the assignee's open task.
func (h *harness) fire(kind TimerKind, assignee string) Result {
	h.t.Helper()
	tm := h.timer(kind, assignee)
	act := ActTimeout
	if kind == TimerReminder {
		act = ActRemind
	}
	return h.do(Command{Action: act, TimerID: tm.ID, At: tm.DueAt})
}

func (h *harness) timer(kind TimerKind, assignee string) Timer {
	h.t.Helper()
	for _, tm := range h.st.Timers {
		tk, _ := h.st.Task(tm.TaskID)
		if tm.Kind == kind && tk.Assignee == assignee {
			return tm
		}
	}
	h.t.Fatalf("no %s timer for %s in %v", kind, assignee, h.st.Timers)
	return Timer{}
}

// open returns the sorted assignees of open tasks.
func (h *harness) open() []string {
	out := h.st.Assignees()
	slices.Sort(out)
	return out
}

func (h *harness) wantOpen(want ...string) {
	h.t.Helper()
	slices.Sort(want)
	if got := h.open(); !slices.Equal(got, want) {
		h.t.Fatalf("open assignees %v, want %v", got, want)
	}
}

func (h *harness) wantStatus(want Status) {
	h.t.Helper()
	if h.st.Status != want {
		h.t.Fatalf("status %s, want %s; history %v", h.st.Status, want, history(h.st))
	}
}

func (h *harness) wantEvents(want ...string) {
	h.t.Helper()
	if got := eventTypes(h.events); !reflect.DeepEqual(got, want) {
		h.t.Fatalf("events\n got %v\nwant %v", got, want)
	}
}

// hasEvent reports whether the last step emitted an event of typ.
func (h *harness) event(typ string) (Event, bool) {
	for _, e := range h.events {
		if e.Type == typ {
			return e, true
		}
	}
	return Event{}, false
}

func (h *harness) taskOf(assignee string) Task {
	h.t.Helper()
	for i := len(h.st.Tasks) - 1; i >= 0; i-- {
		if h.st.Tasks[i].Assignee == assignee {
			return h.st.Tasks[i]
		}
	}
	h.t.Fatalf("%s has no task", assignee)
	return Task{}
}

func eventTypes(es []Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, strings.TrimPrefix(e.Type, "approval."))
	}
	return out
}

func history(st *Instance) []string {
	var out []string
	for _, e := range st.History {
		out = append(out, e.Actor+":"+e.Action+"@"+e.Node)
	}
	return out
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func form(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}
