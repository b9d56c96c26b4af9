package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/flow"
	"github.com/shiftflow/shiftflow/internal/config"
	"github.com/shiftflow/shiftflow/internal/netguard"
	"github.com/shiftflow/shiftflow/workers"
	"github.com/shiftflow/shiftflow/workers/approval"
	"github.com/shiftflow/shiftflow/workers/replan"
	"github.com/shiftflow/shiftflow/workers/replay"
	"github.com/shiftflow/shiftflow/workers/schedule"
	webhooks "github.com/shiftflow/shiftflow/workers/webhook"
)

// e2e is the whole pipeline in one test: HTTP API -> JetStream -> approval
// worker -> Postgres -> outbox relay -> EVENTS, plus the timer scheduler.
type e2e struct {
	*harness
	opts        e2eOptions
	key         string
	stopWorkers func()
	mu          sync.Mutex
	published   []events.Envelope // every event seen on NATS
	// approvalHandler may be wrapped by tests (a simulated handler bug).
	approvalHandler workers.Handler
	// states is the approval state cache the worker shares with the API, as
	// in a process that runs both (the default `all`).
	states *approval.States
}

// e2eOptions tune the worker side.
type e2eOptions struct {
	allowLoopback  bool            // WEBHOOK_ALLOW_CIDRS=127.0.0.1/32 for the API
	senderLoopback bool            // the sender's own guard allows loopback
	schedule       []time.Duration // webhook retry schedule
	disableAfter   time.Duration
	wrap           func(workers.Handler) workers.Handler
	maxDeliver     int
}

func newE2E(t *testing.T) *e2e {
	return newE2EWith(t, e2eOptions{allowLoopback: true, senderLoopback: true})
}

func newE2EWith(t *testing.T, o e2eOptions) *e2e {
	t.Helper()
	h := newHarness(t, func(c *config.Config) {
		c.ReplanTimeLimit = 2 * time.Second // as the re-plan worker's below
		if o.allowLoopback {
			c.WebhookAllowCIDRs = "127.0.0.1/32"
		}
	})
	if o.schedule == nil {
		o.schedule = []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}
	}
	if o.maxDeliver == 0 {
		o.maxDeliver = 5
	}
	e := &e2e{harness: h, opts: o, states: approval.NewStates(1000)}
	h.api.deps.ApprovalStates = e.states
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := h.api.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// Collect every published event as a subscriber would, and hold each
	// to the event schemas of /openapi.json (reported when the test ends).
	var eventErrs []string
	t.Cleanup(func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, msg := range eventErrs {
			t.Error(msg)
		}
	})
	sub, err := h.deps.NC.Subscribe("evt.>", func(m *nats.Msg) {
		var env events.Envelope
		err := eventConformanceError(m.Data)
		e.mu.Lock()
		defer e.mu.Unlock()
		if err != nil && len(eventErrs) < 20 {
			eventErrs = append(eventErrs, fmt.Sprintf("event on %s does not match /openapi.json: %v\n%.600s", m.Subject, err, m.Data))
		}
		if json.Unmarshal(m.Data, &env) == nil {
			e.published = append(e.published, env)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	e.startWorkers()
	e.key, _ = h.createKey("acme", ScopeApproval, ScopeSchedule, ScopeAdmin, ScopeWebhooks, ScopeOps)
	e.seedPeople()
	return e
}

// startWorkers runs the worker side; it shares the approval state cache with
// the API, as one `all` process does.
func (e *e2e) startWorkers() {
	ctx, cancel := context.WithCancel(context.Background())
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var wg sync.WaitGroup
	run := func(f func(context.Context) error) {
		wg.Add(1)
		go func() { defer wg.Done(); _ = f(ctx) }()
	}
	relay := &events.Relay{Pool: e.deps.DB, JS: e.deps.JS, Metrics: e.metrics, Log: quiet, PollInterval: 50 * time.Millisecond}
	var handler workers.Handler = &approval.Handler{Templates: approval.NewTemplates(time.Hour), States: e.states, Metrics: e.metrics}
	if e.opts.wrap != nil {
		handler = e.opts.wrap(handler)
	}
	fast := workers.ExponentialBackoff(50*time.Millisecond, time.Second, 0.1)
	pool := &workers.Pool{Spec: approval.Consumer(e.opts.maxDeliver, 5*time.Second), Concurrency: 8, BatchSize: 8, GroupCommit: true, Handler: handler,
		DB: e.deps.DB, JS: e.deps.JS, Metrics: e.metrics, Log: quiet, ShutdownTimeout: 5 * time.Second,
		Backoff: fast, FetchExpiry: 2 * time.Second, Heartbeat: 500 * time.Millisecond}
	fanout := &workers.Pool{Spec: webhooks.Consumer(5, 5*time.Second), Concurrency: 8, BatchSize: 8, Handler: webhooks.FanOutBatched(e.deps.DB),
		DB: e.deps.DB, JS: e.deps.JS, Metrics: e.metrics, Log: quiet, ShutdownTimeout: 5 * time.Second,
		Backoff: fast, FetchExpiry: 2 * time.Second, Heartbeat: 500 * time.Millisecond,
		Ensured: func(ctx context.Context) error { return webhooks.SyncFilterNow(ctx, e.deps.DB, e.deps.JS) }}
	var guard []netguard.Option
	if e.opts.senderLoopback {
		guard = append(guard, netguard.WithAllowedPrefixes(netip.MustParsePrefix("127.0.0.1/32")))
	}
	sender := &webhooks.Sender{DB: e.deps.DB, Client: webhooks.NewClient(netguard.New(guard...), 2*time.Second, 16),
		Schedule: e.opts.schedule, Concurrency: 16, DisableAfter: e.opts.disableAfter, Metrics: e.metrics, Log: quiet, PollInterval: 50 * time.Millisecond}
	timers := &approval.TimerScheduler{DB: e.deps.DB, Publisher: e.deps.Publisher, Log: quiet}
	replanner := &replan.Handler{DB: e.deps.DB, Publisher: e.deps.Publisher, TimeLimit: 2 * time.Second, ChangeWeight: replan.AutoChangeWeight}
	solver := &workers.Pool{Spec: schedule.Consumer(3, 30*time.Second), Concurrency: 2,
		Handler: &schedule.Handler{DB: e.deps.DB, Metrics: e.metrics, Log: quiet, Threads: 1, CancelPoll: 50 * time.Millisecond, ProgressEvery: 200 * time.Millisecond,
			Rebase: replanner.Rebase},
		DB: e.deps.DB, JS: e.deps.JS, Metrics: e.metrics, Log: quiet, ShutdownTimeout: 10 * time.Second,
		Backoff: fast, FetchExpiry: 2 * time.Second, Heartbeat: 500 * time.Millisecond}
	replans := &workers.Pool{Spec: replan.Consumer(3, 5*time.Second), Concurrency: 2,
		Handler: replanner,
		DB:      e.deps.DB, JS: e.deps.JS, Metrics: e.metrics, Log: quiet, ShutdownTimeout: 5 * time.Second,
		Backoff: fast, FetchExpiry: 2 * time.Second, Heartbeat: 500 * time.Millisecond}
	jobs := &replay.Jobs{Replayer: &replay.Replayer{DB: e.deps.DB, Publisher: e.deps.Publisher}, Log: quiet, Interval: 100 * time.Millisecond, OutcomeWait: 20 * time.Second}
	// As in an `all` process: the pools' events are forwarded at commit,
	// the relay publishes the rest.
	fwd := &events.Forwarder{Pool: e.deps.DB, JS: e.deps.JS, Metrics: e.metrics, Log: quiet, Grace: 5 * time.Second}
	for _, p := range []*workers.Pool{pool, fanout, solver, replans} {
		p.Forwarder = fwd
	}
	run(fwd.Run)
	run(relay.Run)
	run(pool.Run)
	run(fanout.Run)
	run(sender.Run)
	run(timers.Run)
	run(jobs.Run)
	run(solver.Run)
	run(replans.Run)
	e.stopWorkers = func() { cancel(); wg.Wait() }
	e.t.Cleanup(e.stopWorkers)
}

// The org chart (same as the flow package's tests):
//
//	ceo ── cto (head of eng) ── mgr ── alice, bob
//	    │                    └─ carol (hr)
//	    ├─ dave (head of fin, finance) ── erin, frank (finance)
//	    └─ hr1, hr2 (hr); root (approval admin); zed
func (e *e2e) seedPeople() {
	p := func(id, manager, dept string, head bool, roles ...string) map[string]any {
		return map[string]any{"id": id, "name": strings.ToUpper(id[:1]) + id[1:], "manager": manager, "department": dept, "department_head": head, "roles": roles}
	}
	res := e.do("POST", "/api/v1/people:batch", e.key, map[string]any{"people": []any{
		p("alice", "mgr", "eng", false), p("bob", "mgr", "eng", false), p("mgr", "cto", "eng", false),
		p("cto", "ceo", "eng", true), p("ceo", "", "exec", true), p("carol", "cto", "eng", false, "hr"),
		p("dave", "ceo", "fin", true, "finance"), p("erin", "dave", "fin", false, "finance"), p("frank", "dave", "fin", false, "finance"),
		p("hr1", "ceo", "hr", false, "hr"), p("hr2", "ceo", "hr", false, "hr"), p("root", "", "exec", false), p("zed", "", "exec", false),
	}})
	if res.status != 200 {
		e.t.Fatalf("seed people: %d %s", res.status, res.body)
	}
	if res := e.do("PUT", "/api/v1/settings", e.key, map[string]any{"approval_admin": "root"}); res.status != 200 {
		e.t.Fatalf("settings: %d %s", res.status, res.body)
	}
}

func (e *e2e) template(def string) string {
	e.t.Helper()
	res := e.do("POST", "/api/v1/approval-templates", e.key, def)
	if res.status != 201 {
		e.t.Fatalf("create template: %d %s", res.status, res.body)
	}
	return res.json(e.t)["id"].(string)
}

// submit starts an approval and waits for the worker to create it.
func (e *e2e) submit(tmpl, initiator string, form map[string]any) string {
	e.t.Helper()
	res := e.do("POST", "/api/v1/approvals", e.key, map[string]any{"template_id": tmpl, "initiator": initiator, "form": form}, "Prefer", "wait=10")
	if res.status != 201 {
		e.t.Fatalf("submit: %d %s", res.status, res.body)
	}
	return res.json(e.t)["id"].(string)
}

// act sends an action and waits for its outcome.
func (e *e2e) act(id string, body map[string]any) response {
	e.t.Helper()
	return e.do("POST", "/api/v1/approvals/"+id+"/actions", e.key, body, "Prefer", "wait=10")
}

func (e *e2e) mustAct(id string, body map[string]any) map[string]any {
	e.t.Helper()
	res := e.act(id, body)
	if res.status != 200 {
		e.t.Fatalf("%v: %d %s", body, res.status, res.body)
	}
	return res.json(e.t)
}

func (e *e2e) get(id string) map[string]any {
	e.t.Helper()
	res := e.do("GET", "/api/v1/approvals/"+id, e.key, nil)
	if res.status != 200 {
		e.t.Fatalf("get: %d %s", res.status, res.body)
	}
	return res.json(e.t)
}

// openAssignees lists who holds an open task, in task order.
func openAssignees(v map[string]any) []string {
	var out []string
	for _, t := range v["open_tasks"].([]any) {
		out = append(out, t.(map[string]any)["assignee"].(string))
	}
	return out
}

func taskOf(v map[string]any, assignee string) string {
	for _, t := range v["open_tasks"].([]any) {
		if t.(map[string]any)["assignee"] == assignee {
			return t.(map[string]any)["id"].(string)
		}
	}
	return ""
}

// eventsOf waits until the events of an instance published on NATS include
// want (in order of appearance) and returns every type seen.
func (e *e2e) eventsOf(id string, want ...string) []string {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var types []string
		e.mu.Lock()
		for _, env := range e.published {
			if env.Subject == "approvals/"+id {
				types = append(types, env.Type)
			}
		}
		e.mu.Unlock()
		if containsInOrder(types, want) {
			return types
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("events of %s: got %v, want %v in order", id, types, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *e2e) publishedOf(id, typ string) []events.Envelope {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []events.Envelope
	for _, env := range e.published {
		if env.Subject == "approvals/"+id && env.Type == typ {
			out = append(out, env)
		}
	}
	return out
}

func containsInOrder(have, want []string) bool {
	i := 0
	for _, h := range have {
		if i < len(want) && h == want[i] {
			i++
		}
	}
	return i == len(want)
}

func count(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

const leaveForm = `"form": [
	{"name": "person", "type": "person", "required": true},
	{"name": "from_date", "type": "date", "required": true},
	{"name": "to_date", "type": "date", "required": true},
	{"name": "days", "type": "number", "required": true},
	{"name": "reason", "type": "string"}]`

func TestE2ELeaveManagerChainWithCondition(t *testing.T) {
	e := newE2E(t)
	tmpl := e.template(`{"id": "leave", "name": "Leave", "kind": "leave", ` + leaveForm + `,
	  "nodes": [
		{"id": "start", "type": "start", "next": "long"},
		{"id": "long", "type": "condition", "branches": [
			{"name": "more than 3 days", "when": {"field": "days", "op": "gt", "value": 3}, "next": "chain"},
			{"default": true, "next": "direct"}]},
		{"id": "chain", "type": "approval", "next": "end", "approval": {"mode": "sequential", "approvers": [{"type": "manager_chain", "level": 3}]}},
		{"id": "direct", "type": "approval", "next": "end", "approval": {"mode": "single", "approvers": [{"type": "manager", "level": 1}]}},
		{"id": "end", "type": "end"}]}`)

	long := e.submit(tmpl, "alice", map[string]any{"person": "alice", "from_date": "2026-12-01", "to_date": "2026-12-05", "days": 5})
	for _, who := range []string{"mgr", "cto", "ceo"} {
		v := e.get(long)
		if got := openAssignees(v); len(got) != 1 || got[0] != who {
			t.Fatalf("long leave: open tasks %v, want %s next", got, who)
		}
		e.mustAct(long, map[string]any{"action": "approve", "actor": who, "comment": "ok"})
	}
	if v := e.get(long); v["status"] != "approved" || v["template_version"].(float64) != 1 {
		t.Fatalf("long leave = %v", v["status"])
	}
	types := e.eventsOf(long, "approval.instance.submitted", "approval.task.created", "approval.task.approved", "approval.instance.approved")
	if count(types, "approval.task.approved") != 3 || count(types, "approval.instance.approved") != 1 {
		t.Fatalf("long leave events: %v", types)
	}
	// Every event carries org, template and version, node, actor and the form.
	ev := e.publishedOf(long, "approval.instance.approved")[0]
	var d map[string]any
	_ = json.Unmarshal(ev.Data, &d)
	if d["org"] != "acme" || d["template_id"] != "leave" || d["template_version"].(float64) != 1 || d["form"].(map[string]any)["days"].(float64) != 5 || ev.OrgID != "acme" {
		t.Fatalf("event data = %s", ev.Data)
	}

	short := e.submit(tmpl, "bob", map[string]any{"person": "bob", "from_date": "2026-12-01", "to_date": "2026-12-02", "days": 2})
	if got := openAssignees(e.get(short)); len(got) != 1 || got[0] != "mgr" {
		t.Fatalf("short leave: open tasks %v, want mgr", got)
	}
	e.mustAct(short, map[string]any{"action": "approve", "actor": "mgr"})
	if v := e.get(short); v["status"] != "approved" {
		t.Fatalf("short leave = %v", v["status"])
	}
	// The inbox projection follows.
	res := e.do("GET", "/api/v1/tasks?assignee=mgr&state=approved", e.key, nil)
	if n := len(res.json(t)["items"].([]any)); n != 2 {
		t.Fatalf("mgr has %d approved tasks, want 2: %s", n, res.body)
	}
	// Each command's audit row commits with its effect, naming the request.
	audit := e.do("POST", "/api/v1/approvals/"+short+"/actions", e.key, map[string]any{"action": "comment", "actor": "bob", "comment": "thanks"}, "X-Request-ID", "audit-e2e-1", "Prefer", "wait=10")
	if audit.status != 200 {
		t.Fatalf("comment: %d %s", audit.status, audit.body)
	}
	var auditRows int
	if err := e.deps.DB.QueryRow(context.Background(), `SELECT count(*) FROM audit_logs WHERE action = 'approvals.comment' AND request_id = 'audit-e2e-1' AND resource_id = $1 AND actor LIKE 'key:%'`, short).Scan(&auditRows); err != nil || auditRows != 1 {
		t.Fatalf("audit rows for the comment = %d (%v), want 1", auditRows, err)
	}
	// History lists every action with actor and time.
	hist := e.do("GET", "/api/v1/approvals/"+long+"/history", e.key, nil).json(t)["items"].([]any)
	var approvals int
	for _, h := range hist {
		if h.(map[string]any)["action"] == "approve" {
			approvals++
		}
	}
	if approvals != 3 {
		t.Fatalf("history: %v", hist)
	}
}

func TestE2ECountersignWithOneReject(t *testing.T) {
	e := newE2E(t)
	tmpl := e.template(`{"id": "purchase", "name": "Purchase", "form": [{"name": "amount", "type": "number", "required": true}],
	  "nodes": [{"id": "start", "type": "start", "next": "board"},
		{"id": "board", "type": "approval", "next": "end", "approval": {"mode": "all", "comment_required_on_reject": true,
			"approvers": [{"type": "people", "people": ["erin", "frank", "dave"]}]}},
		{"id": "end", "type": "end"}]}`)
	id := e.submit(tmpl, "alice", map[string]any{"amount": 900})
	if got := openAssignees(e.get(id)); len(got) != 3 {
		t.Fatalf("countersign opens %v, want 3 tasks at once", got)
	}
	e.mustAct(id, map[string]any{"action": "approve", "actor": "erin"})
	// A reject without the required comment is refused before anything happens.
	p := assertProblem(t, e.act(id, map[string]any{"action": "reject", "actor": "frank"}), 422)
	if !strings.Contains(p["detail"].(string), "comment") {
		t.Fatalf("detail = %v", p["detail"])
	}
	v := e.mustAct(id, map[string]any{"action": "reject", "actor": "frank", "comment": "over budget"})
	if v["status"] != "rejected" || len(v["open_tasks"].([]any)) != 0 {
		t.Fatalf("after one reject: %v open %v", v["status"], v["open_tasks"])
	}
	e.eventsOf(id, "approval.task.approved", "approval.task.rejected", "approval.instance.rejected")
	// dave's task is gone from his inbox.
	if items := e.do("GET", "/api/v1/tasks?assignee=dave", e.key, nil).json(t)["items"].([]any); len(items) != 0 {
		t.Fatalf("dave's inbox: %v", items)
	}
}

func TestE2EOrSignRace(t *testing.T) {
	e := newE2E(t)
	tmpl := e.template(`{"id": "or", "name": "Or-sign", "form": [],
	  "nodes": [{"id": "start", "type": "start", "next": "fin"},
		{"id": "fin", "type": "approval", "next": "end", "approval": {"mode": "any", "approvers": [{"type": "role", "role": "finance"}]}},
		{"id": "end", "type": "end"}]}`)
	id := e.submit(tmpl, "alice", map[string]any{})
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i, who := range []string{"erin", "frank"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.act(id, map[string]any{"action": "approve", "actor": who}).status
		}()
	}
	wg.Wait()
	if !((statuses[0] == 200 && statuses[1] == 409) || (statuses[0] == 409 && statuses[1] == 200)) {
		t.Fatalf("race outcomes %v, want one 200 and one 409", statuses)
	}
	types := e.eventsOf(id, "approval.instance.approved")
	if count(types, "approval.task.approved") != 1 || count(types, "approval.instance.approved") != 1 {
		t.Fatalf("race produced %v", types)
	}
	if v := e.get(id); v["status"] != "approved" {
		t.Fatalf("status = %v", v["status"])
	}
}

func TestE2EVoteAt60Percent(t *testing.T) {
	e := newE2E(t)
	tmpl := e.template(`{"id": "vote", "name": "Vote", "form": [],
	  "nodes": [{"id": "start", "type": "start", "next": "committee"},
		{"id": "committee", "type": "approval", "next": "end", "approval": {"mode": "vote", "pass_ratio": 0.6,
			"approvers": [{"type": "people", "people": ["hr1", "hr2", "carol", "erin", "frank"]}]}},
		{"id": "end", "type": "end"}]}`)
	pass := e.submit(tmpl, "alice", map[string]any{})
	e.mustAct(pass, map[string]any{"action": "approve", "actor": "hr1"})
	e.mustAct(pass, map[string]any{"action": "approve", "actor": "hr2"})
	e.mustAct(pass, map[string]any{"action": "reject", "actor": "carol", "comment": "no"})
	if v := e.get(pass); v["status"] != "running" {
		t.Fatalf("2 of 5 approvals already decided: %v", v["status"])
	}
	if v := e.mustAct(pass, map[string]any{"action": "approve", "actor": "erin"}); v["status"] != "approved" {
		t.Fatalf("3 of 5 (60%%) approvals: %v", v["status"])
	}
	fail := e.submit(tmpl, "bob", map[string]any{})
	e.mustAct(fail, map[string]any{"action": "reject", "actor": "hr1", "comment": "no"})
	if v := e.mustAct(fail, map[string]any{"action": "reject", "actor": "hr2", "comment": "no"}); v["status"] != "running" {
		t.Fatalf("60%% still reachable after 2 rejects: %v", v["status"])
	}
	if v := e.mustAct(fail, map[string]any{"action": "reject", "actor": "carol", "comment": "no"}); v["status"] != "rejected" {
		t.Fatalf("after 3 of 5 rejects 60%% is unreachable: %v", v["status"])
	}
}

func TestE2EParallelBranchesJoin(t *testing.T) {
	e := newE2E(t)
	tmpl := e.template(`{"id": "par", "name": "Parallel", "form": [],
	  "nodes": [{"id": "start", "type": "start", "next": "split"},
		{"id": "split", "type": "parallel", "join": "join", "branches": [{"next": "finance"}, {"next": "hr"}]},
		{"id": "finance", "type": "approval", "next": "join", "approval": {"mode": "single", "approvers": [{"type": "people", "people": ["dave"]}]}},
		{"id": "hr", "type": "approval", "next": "join", "approval": {"mode": "single", "approvers": [{"type": "people", "people": ["hr1"]}]}},
		{"id": "join", "type": "join", "next": "final"},
		{"id": "final", "type": "approval", "next": "end", "approval": {"mode": "single", "approvers": [{"type": "people", "people": ["ceo"]}]}},
		{"id": "end", "type": "end"}]}`)
	id := e.submit(tmpl, "alice", map[string]any{})
	if got := openAssignees(e.get(id)); len(got) != 2 {
		t.Fatalf("both branches should be open: %v", got)
	}
	v := e.mustAct(id, map[string]any{"action": "approve", "actor": "dave"})
	if got := openAssignees(v); len(got) != 1 || got[0] != "hr1" {
		t.Fatalf("join must wait for hr: %v", got)
	}
	v = e.mustAct(id, map[string]any{"action": "approve", "actor": "hr1"})
	if got := openAssignees(v); len(got) != 1 || got[0] != "ceo" {
		t.Fatalf("after the join: %v", got)
	}
	if v := e.mustAct(id, map[string]any{"action": "approve", "actor": "ceo"}); v["status"] != "approved" {
		t.Fatalf("status = %v", v["status"])
	}
}

const opsTemplate = `{"id": "ops", "name": "Operations", "form": [{"name": "days", "type": "number", "required": true}],
  "nodes": [{"id": "start", "type": "start", "next": "n1"},
	{"id": "n1", "type": "approval", "next": "n2", "approval": {"mode": "single", "approvers": [{"type": "manager", "level": 1}],
		"allow": ["transfer", "delegate", "add_signer"], "on_reject": "to_initiator"}},
	{"id": "n2", "type": "approval", "next": "end", "approval": {"mode": "single", "approvers": [{"type": "people", "people": ["cto"]}],
		"allow": ["transfer", "delegate", "add_signer"], "on_reject": "terminate", "reject_options": ["to_previous"]}},
	{"id": "end", "type": "end"}]}`

func TestE2ETransferAndDelegate(t *testing.T) {
	e := newE2E(t)
	tmpl := e.template(opsTemplate)
	id := e.submit(tmpl, "alice", map[string]any{"days": 1})
	v := e.mustAct(id, map[string]any{"action": "transfer", "actor": "mgr", "to": "carol", "comment": "carol covers"})
	if got := openAssignees(v); len(got) != 1 || got[0] != "carol" {
		t.Fatalf("after transfer: %v", got)
	}
	// mgr no longer holds it (409: the task went to someone else); zed never did (403).
	assertProblem(t, e.act(id, map[string]any{"action": "approve", "actor": "mgr"}), 409)
	assertProblem(t, e.act(id, map[string]any{"action": "approve", "actor": "zed"}), 403)
	e.mustAct(id, map[string]any{"action": "approve", "actor": "carol"})
	// Delegate: zed gives an opinion, the task returns to cto, who decides.
	v = e.mustAct(id, map[string]any{"action": "delegate", "actor": "cto", "to": "zed"})
	if got := openAssignees(v); len(got) != 1 || got[0] != "zed" {
		t.Fatalf("after delegate: %v", got)
	}
	v = e.mustAct(id, map[string]any{"action": "approve", "actor": "zed", "comment": "looks fine"})
	if got := openAssignees(v); v["status"] != "running" || len(got) != 1 || got[0] != "cto" {
		t.Fatalf("delegate's approval must return the task to cto: %v %v", v["status"], got)
	}
	if v := e.mustAct(id, map[string]any{"action": "approve", "actor": "cto"}); v["status"] != "approved" {
		t.Fatalf("status = %v", v["status"])
	}
	e.eventsOf(id, "approval.task.transferred", "approval.task.delegated", "approval.instance.approved")
}

func TestE2EAddSignerBeforeAndAfter(t *testing.T) {
	e := newE2E(t)
	tmpl := e.template(opsTemplate)
	id := e.submit(tmpl, "alice", map[string]any{"days": 1})
	v := e.mustAct(id, map[string]any{"action": "add_signer", "actor": "mgr", "signers": []string{"erin"}, "position": "before"})
	if got := openAssignees(v); len(got) != 1 || got[0] != "erin" {
		t.Fatalf("before-signer first: %v", got)
	}
	v = e.mustAct(id, map[string]any{"action": "approve", "actor": "erin"})
	if got := openAssignees(v); len(got) != 1 || got[0] != "mgr" {
		t.Fatalf("task returns to mgr after the before-signer: %v", got)
	}
	// After-signing approves mgr's part now and hands the slot to frank next.
	v = e.mustAct(id, map[string]any{"action": "add_signer", "actor": "mgr", "signers": []string{"frank"}, "position": "after"})
	if got := openAssignees(v); len(got) != 1 || got[0] != "frank" {
		t.Fatalf("after-signer follows mgr: %v", got)
	}
	v = e.mustAct(id, map[string]any{"action": "approve", "actor": "frank"})
	if got := openAssignees(v); len(got) != 1 || got[0] != "cto" {
		t.Fatalf("n2 after the signers: %v", got)
	}
}

func TestE2EWithdrawAndRejectToPreviousThenResubmit(t *testing.T) {
	e := newE2E(t)
	tmpl := e.template(opsTemplate)
	// The initiator withdraws a running approval.
	w := e.submit(tmpl, "alice", map[string]any{"days": 1})
	if v := e.mustAct(w, map[string]any{"action": "withdraw", "actor": "alice"}); v["status"] != "withdrawn" {
		t.Fatalf("withdraw: %v", v["status"])
	}
	e.eventsOf(w, "approval.instance.withdrawn")
	// An approver takes back their decision while the next node has not acted.
	tb := e.submit(tmpl, "alice", map[string]any{"days": 1})
	e.mustAct(tb, map[string]any{"action": "approve", "actor": "mgr"})
	v := e.mustAct(tb, map[string]any{"action": "withdraw", "actor": "mgr"})
	if got := openAssignees(v); len(got) != 1 || got[0] != "mgr" {
		t.Fatalf("take back: %v", got)
	}

	id := e.submit(tmpl, "alice", map[string]any{"days": 1})
	e.mustAct(id, map[string]any{"action": "approve", "actor": "mgr"})
	v = e.mustAct(id, map[string]any{"action": "reject", "actor": "cto", "reject_to": "to_previous", "comment": "ask the manager again"})
	if got := openAssignees(v); v["status"] != "running" || len(got) != 1 || got[0] != "mgr" {
		t.Fatalf("reject to previous: %v %v", v["status"], got)
	}
	v = e.mustAct(id, map[string]any{"action": "reject", "actor": "mgr", "comment": "fix the days"})
	if v["status"] != "returned" {
		t.Fatalf("reject to initiator: %v", v["status"])
	}
	v = e.mustAct(id, map[string]any{"action": "resubmit", "actor": "alice", "form": map[string]any{"days": 2}})
	if v["status"] != "running" || v["form"].(map[string]any)["days"].(float64) != 2 || v["round"].(float64) != 2 {
		t.Fatalf("resubmit: %v form %v round %v", v["status"], v["form"], v["round"])
	}
	e.mustAct(id, map[string]any{"action": "approve", "actor": "mgr"})
	if v := e.mustAct(id, map[string]any{"action": "approve", "actor": "cto"}); v["status"] != "approved" {
		t.Fatalf("status = %v", v["status"])
	}
}

func TestE2ETimeoutAutoApprove(t *testing.T) {
	e := newE2E(t)
	tmpl := e.template(`{"id": "auto", "name": "Auto", "form": [],
	  "nodes": [{"id": "start", "type": "start", "next": "n1"},
		{"id": "n1", "type": "approval", "next": "end", "approval": {"mode": "single", "approvers": [{"type": "people", "people": ["mgr"]}],
			"timeout": {"after": "1s", "action": "auto_approve"}}},
		{"id": "end", "type": "end"}]}`)
	id := e.submit(tmpl, "alice", map[string]any{})
	created := e.publishedOf(id, "approval.task.created")
	if len(created) == 0 {
		e.eventsOf(id, "approval.task.created")
		created = e.publishedOf(id, "approval.task.created")
	}
	var d struct {
		Data struct {
			DueAt time.Time `json:"due_at"`
		} `json:"data"`
	}
	_ = json.Unmarshal(created[0].Data, &d)
	due := d.Data.DueAt
	if due.IsZero() {
		t.Fatalf("task.created carries no due_at: %s", created[0].Data)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.get(id)["status"] != "approved" {
		if time.Now().After(deadline) {
			t.Fatal("the timeout never fired")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if late := time.Since(due); late > time.Second {
		t.Errorf("timeout fired %s after its due time, want within 1 s", late)
	}
	e.eventsOf(id, "approval.task.timed_out", "approval.instance.approved")
}

func TestE2EEscalationAfterRestart(t *testing.T) {
	e := newE2E(t)
	tmpl := e.template(`{"id": "esc", "name": "Escalate", "form": [],
	  "nodes": [{"id": "start", "type": "start", "next": "n1"},
		{"id": "n1", "type": "approval", "next": "end", "approval": {"mode": "single", "approvers": [{"type": "manager", "level": 1}],
			"timeout": {"after": "2s", "action": "escalate"}}},
		{"id": "end", "type": "end"}]}`)
	id := e.submit(tmpl, "alice", map[string]any{})
	// Every worker-side process goes away before the timer is due...
	e.stopWorkers()
	time.Sleep(2500 * time.Millisecond)
	if got := openAssignees(e.get(id)); len(got) != 1 || got[0] != "mgr" {
		t.Fatalf("nothing may fire while no process runs: %v", got)
	}
	// ...and a new one picks the timer up from Postgres.
	e.startWorkers()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := openAssignees(e.get(id))
		if len(got) == 1 && got[0] == "cto" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("escalation to mgr's manager did not happen: %v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	types := e.eventsOf(id, "approval.task.timed_out")
	if count(types, "approval.task.timed_out") != 1 {
		t.Fatalf("the timer fired %d times: %v", count(types, "approval.task.timed_out"), types)
	}
}

func TestE2EUrgeAndCC(t *testing.T) {
	e := newE2E(t)
	tmpl := e.template(`{"id": "cc", "name": "CC", "form": [],
	  "nodes": [{"id": "start", "type": "start", "next": "notify"},
		{"id": "notify", "type": "cc", "next": "n1", "cc": {"recipients": [{"type": "role", "role": "hr"}]}},
		{"id": "n1", "type": "approval", "next": "end", "approval": {"mode": "single", "approvers": [{"type": "people", "people": ["mgr"]}]}},
		{"id": "end", "type": "end"}]}`)
	id := e.submit(tmpl, "alice", map[string]any{})
	// The three events of one transaction may reach a subscriber a moment apart.
	types := e.eventsOf(id, "approval.cc.sent", "approval.cc.sent", "approval.cc.sent")
	if count(types, "approval.cc.sent") != 3 {
		t.Fatalf("cc to the three hr people: %v", types)
	}
	items := e.do("GET", "/api/v1/cc?person=hr1", e.key, nil).json(t)["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["instance_id"] != id {
		t.Fatalf("hr1's copies: %v", items)
	}
	before := e.cachedState(id, 1)
	e.mustAct(id, map[string]any{"action": "urge", "actor": "alice"})
	e.eventsOf(id, "approval.task.urged")
	res := e.act(id, map[string]any{"action": "urge", "actor": "alice"})
	assertProblem(t, res, 429)
	if res.header.Get("Retry-After") == "" {
		t.Fatal("429 urge without Retry-After")
	}
	// The same refusal decided by the worker (the API's cached state is from
	// before the first urge, as when another replica applied it) also says
	// when to try again.
	e.states.Forget(uuid.MustParse(id))
	e.states.Put("acme", uuid.MustParse(id), before)
	res = e.act(id, map[string]any{"action": "urge", "actor": "alice"})
	assertProblem(t, res, 429)
	if res.header.Get("Retry-After") == "" {
		t.Fatal("429 urge refused by the worker without Retry-After")
	}
}

func TestE2EBadInput(t *testing.T) {
	e := newE2E(t)
	tmpl := e.template(opsTemplate)
	id := e.submit(tmpl, "alice", map[string]any{"days": 1})

	p := assertProblem(t, e.act(id, map[string]any{"action": "approve-all", "actor": "mgr"}), 422)
	if p["errors"].([]any)[0].(map[string]any)["field"] != "action" {
		t.Fatalf("unknown action: %v", p)
	}
	assertProblem(t, e.act(id, map[string]any{"action": "approve", "actor": "bob"}), 403)
	e.mustAct(id, map[string]any{"action": "cancel", "actor": "root", "comment": "duplicate request"})
	assertProblem(t, e.act(id, map[string]any{"action": "approve", "actor": "mgr"}), 409)
	assertProblem(t, e.do("POST", "/api/v1/approvals/00000000-0000-0000-0000-000000000001/actions", e.key, map[string]any{"action": "approve", "actor": "mgr"}), 404)

	// Form failing the schema: every bad field named.
	p = assertProblem(t, e.do("POST", "/api/v1/approvals", e.key, map[string]any{"template_id": tmpl, "initiator": "alice",
		"form": map[string]any{"days": "three", "colour": "red"}}), 422)
	fields := map[string]bool{}
	for _, fe := range p["errors"].([]any) {
		fields[fe.(map[string]any)["field"].(string)] = true
	}
	if !fields["form.days"] || !fields["form.colour"] {
		t.Fatalf("form errors: %v", p["errors"])
	}
	assertProblem(t, e.do("POST", "/api/v1/approvals", e.key, map[string]any{"template_id": "nope", "initiator": "alice", "form": map[string]any{}}), 422)

	// An invalid graph: every problem with its node id.
	p = assertProblem(t, e.do("POST", "/api/v1/approval-templates", e.key, `{"name": "broken", "form": [{"name": "days", "type": "number"}],
	  "nodes": [{"id": "start", "type": "start", "next": "c"},
		{"id": "c", "type": "condition", "branches": [{"when": {"field": "missing", "op": "gt", "value": 1}, "next": "end"}]},
		{"id": "lost", "type": "approval", "next": "end", "approval": {"mode": "single", "approvers": []}},
		{"id": "end", "type": "end"}]}`), 422)
	var text []string
	for _, fe := range p["errors"].([]any) {
		text = append(text, fe.(map[string]any)["field"].(string)+": "+fe.(map[string]any)["reason"].(string))
	}
	joined := strings.Join(text, "\n")
	for _, want := range []string{"nodes[c]", "nodes[lost]"} {
		if !strings.Contains(joined, want) {
			t.Fatalf("graph problems do not name %s:\n%s", want, joined)
		}
	}
	// The directory refuses to delete someone holding an open task.
	other := e.submit(tmpl, "alice", map[string]any{"days": 1})
	_ = other
	assertProblem(t, e.do("DELETE", "/api/v1/people/mgr", e.key, nil), 409)
}

func TestE2ETemplateVersions(t *testing.T) {
	e := newE2E(t)
	tmpl := e.template(opsTemplate)
	id := e.submit(tmpl, "alice", map[string]any{"days": 1})
	v2 := strings.Replace(opsTemplate, `"name": "Operations"`, `"name": "Operations v2"`, 1)
	res := e.do("PUT", "/api/v1/approval-templates/ops", e.key, v2)
	if res.status != 200 || res.json(t)["version"].(float64) != 2 {
		t.Fatalf("update: %d %s", res.status, res.body)
	}
	if v := e.get(id); v["template_version"].(float64) != 1 {
		t.Fatalf("running instance moved to version %v", v["template_version"])
	}
	newer := e.submit(tmpl, "bob", map[string]any{"days": 1})
	if v := e.get(newer); v["template_version"].(float64) != 2 {
		t.Fatalf("new instance on version %v, want 2", v["template_version"])
	}
	if got := e.do("GET", "/api/v1/approval-templates/ops?version=1", e.key, nil).json(t)["name"]; got != "Operations" {
		t.Fatalf("version 1 name = %v", got)
	}
	vs := e.do("GET", "/api/v1/approval-templates/ops/versions", e.key, nil).json(t)["items"].([]any)
	if len(vs) != 2 {
		t.Fatalf("versions: %v", vs)
	}
	assertProblem(t, e.do("DELETE", "/api/v1/approval-templates/ops", e.key, nil), 409)
	for _, inst := range []string{id, newer} {
		e.mustAct(inst, map[string]any{"action": "cancel", "actor": "root"})
	}
	if r := e.do("DELETE", "/api/v1/approval-templates/ops", e.key, nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	assertProblem(t, e.do("GET", "/api/v1/approval-templates/ops", e.key, nil), 404)
	list := e.do("GET", "/api/v1/approvals?template_id=ops&status=cancelled", e.key, nil).json(t)["items"].([]any)
	if len(list) != 2 {
		t.Fatalf("list filter: %v", list)
	}
}

// Concurrent decisions on one instance: every one is applied (optimistic
// lock retried), none lost, and the instance ends approved exactly once.
func TestE2EConcurrentDecisionsLoseNothing(t *testing.T) {
	e := newE2E(t)
	tmpl := e.template(`{"id": "all5", "name": "Countersign of five", "form": [],
	  "nodes": [{"id": "start", "type": "start", "next": "board"},
		{"id": "board", "type": "approval", "next": "end", "approval": {"mode": "all",
			"approvers": [{"type": "people", "people": ["hr1", "hr2", "carol", "erin", "frank"]}]}},
		{"id": "end", "type": "end"}]}`)
	for round := 0; round < 3; round++ {
		id := e.submit(tmpl, "alice", map[string]any{})
		var wg sync.WaitGroup
		statuses := make([]int, 5)
		for i, who := range []string{"hr1", "hr2", "carol", "erin", "frank"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = e.act(id, map[string]any{"action": "approve", "actor": who, "comment": "yes"}).status
			}()
		}
		wg.Wait()
		for i, st := range statuses {
			if st != 200 {
				t.Fatalf("round %d: approval %d answered %d", round, i, st)
			}
		}
		v := e.get(id)
		if v["status"] != "approved" {
			t.Fatalf("round %d: status %v after five concurrent approvals", round, v["status"])
		}
		approved := 0
		for _, tk := range v["tasks"].([]any) {
			if tk.(map[string]any)["state"] == "approved" {
				approved++
			}
		}
		if approved != 5 {
			t.Fatalf("round %d: %d tasks approved, want 5 (lost update)", round, approved)
		}
		types := e.eventsOf(id, "approval.instance.approved")
		if count(types, "approval.task.approved") != 5 || count(types, "approval.instance.approved") != 1 {
			t.Fatalf("round %d: events %v", round, types)
		}
	}
}

// Reminders fire every interval, at most the configured number of times.
func TestE2EReminders(t *testing.T) {
	e := newE2E(t)
	tmpl := e.template(`{"id": "remind", "name": "Remind", "form": [],
	  "nodes": [{"id": "start", "type": "start", "next": "n1"},
		{"id": "n1", "type": "approval", "next": "end", "approval": {"mode": "single", "approvers": [{"type": "people", "people": ["mgr"]}],
			"reminders": {"every": "500ms", "max": 2}}},
		{"id": "end", "type": "end"}]}`)
	id := e.submit(tmpl, "alice", map[string]any{})
	types := e.eventsOf(id, "approval.task.reminded", "approval.task.reminded")
	time.Sleep(1200 * time.Millisecond)
	types = e.eventsOf(id)
	if n := count(types, "approval.task.reminded"); n != 2 {
		t.Fatalf("%d reminders, want 2: %v", n, types)
	}
	hist := e.do("GET", "/api/v1/approvals/"+id+"/history", e.key, nil).json(t)["items"].([]any)
	reminded := 0
	for _, h := range hist {
		if h.(map[string]any)["action"] == "remind" {
			reminded++
		}
	}
	if reminded != 2 {
		t.Fatalf("history reminders = %d: %v", reminded, hist)
	}
}

// Commands that queued up while no worker ran are applied in batches (one
// set-based transaction each); the outcome is the same as one by one.
func TestE2EBatchedCommands(t *testing.T) {
	e := newE2E(t)
	tmpl := e.template(`{"id": "b", "name": "Batch", "form": [{"name": "n", "type": "number"}],
	  "nodes": [{"id": "start", "type": "start", "next": "notify"},
		{"id": "notify", "type": "cc", "next": "n1", "cc": {"recipients": [{"type": "people", "people": ["hr1"]}]}},
		{"id": "n1", "type": "approval", "next": "end", "approval": {"mode": "single", "approvers": [{"type": "people", "people": ["mgr"]}],
			"timeout": {"after": "1h", "action": "auto_approve"}}},
		{"id": "end", "type": "end"}]}`)
	const n = 40
	e.stopWorkers()
	ids := make([]string, n)
	for i := range ids {
		res := e.do("POST", "/api/v1/approvals", e.key, map[string]any{"template_id": tmpl, "initiator": "alice", "form": map[string]any{"n": i}})
		if res.status != 202 {
			t.Fatalf("submit: %d %s", res.status, res.body)
		}
		ids[i] = res.json(t)["id"].(string)
	}
	e.startWorkers()
	waitCount := func(sql string, want int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		var got int
		for time.Now().Before(deadline) {
			_ = e.deps.DB.QueryRow(context.Background(), sql).Scan(&got)
			if got == want {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%s = %d, want %d", sql, got, want)
	}
	waitCount(`SELECT count(*) FROM approval_instances WHERE status = 'running'`, n)
	waitCount(`SELECT count(*) FROM approval_timers WHERE fired_at IS NULL`, n)
	waitCount(`SELECT count(*) FROM approval_ccs WHERE person = 'hr1'`, n)
	e.stopWorkers()
	for _, id := range ids {
		if res := e.do("POST", "/api/v1/approvals/"+id+"/actions", e.key, map[string]any{"action": "approve", "actor": "mgr"}); res.status != 202 {
			t.Fatalf("approve: %d %s", res.status, res.body)
		}
	}
	// One approval twice: the second copy is refused (already decided), in the same batch.
	if res := e.do("POST", "/api/v1/approvals/"+ids[0]+"/actions", e.key, map[string]any{"action": "approve", "actor": "mgr"}); res.status != 202 {
		t.Fatalf("approve again: %d %s", res.status, res.body)
	}
	e.startWorkers()
	waitCount(`SELECT count(*) FROM approval_instances WHERE status = 'approved'`, n)
	waitCount(`SELECT count(*) FROM approval_tasks WHERE state = 'approved'`, n)
	waitCount(`SELECT count(*) FROM approval_timers`, 0) // decided tasks cancel their timeouts
	waitCount(`SELECT count(*) FROM audit_logs WHERE action = 'approvals.approve'`, n+1)
	waitCount(`SELECT count(*) FROM events WHERE type = 'approval.command.rejected'`, 1)
	waitCount(`SELECT count(*) FROM events WHERE type = 'approval.instance.approved'`, n)
	waitCount(`SELECT count(*) FROM events WHERE type = 'approval.task.approved'`, n)
	for _, id := range ids[:3] {
		if got := openAssignees(e.get(id)); len(got) != 0 {
			t.Fatalf("%s still has open tasks: %v", id, got)
		}
	}
}

// cachedState waits until the shared cache holds a state of instance id at
// least as new as version (it is written right after the commit, so it can
// trail the outcome a caller sees by a moment).
func (e *e2e) cachedState(id string, version int) *flow.Instance {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if st, ok := e.states.Get(approval.ReaderAPI, "acme", uuid.MustParse(id)); ok && st.Version >= version {
			return st
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the state cache has no state of %s at version %d or later", id, version)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An approve whose state is not in memory (another replica's instance, or
// an API process without the approval worker) is checked against the task
// projection alone; every other outcome still comes from the whole state.
func TestE2EApproveCheckWithoutCachedState(t *testing.T) {
	e := newE2E(t)
	tmpl := e.template(opsTemplate)
	id := e.submit(tmpl, "alice", map[string]any{"days": 1})
	uid := uuid.MustParse(id)
	e.cachedState(id, 1)
	approve := func(body map[string]any, want int) {
		t.Helper()
		e.states.Forget(uid)
		if res := e.do("POST", "/api/v1/approvals/"+id+"/actions", e.key, body); res.status != want {
			t.Fatalf("%v: %d %s, want %d", body, res.status, res.body, want)
		}
	}
	read := func() bool {
		_, ok := e.states.Get(approval.ReaderAPI, "acme", uid)
		return ok
	}
	e.stopWorkers()
	approve(map[string]any{"action": "approve", "actor": "bob"}, 403) // holds no task
	if !read() {
		t.Fatal("a refusal was not decided on the state read from the database")
	}
	approve(map[string]any{"action": "approve", "actor": "mgr"}, 202)
	if read() {
		t.Fatal("an approve by the task's holder read the whole state")
	}
	approve(map[string]any{"action": "approve", "actor": "mgr", "task_id": "nope"}, 404)
	e.startWorkers()
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Equal(openAssignees(e.get(id)), []string{"cto"}) {
		if time.Now().After(deadline) {
			t.Fatalf("open tasks %v, want cto's", openAssignees(e.get(id)))
		}
		time.Sleep(10 * time.Millisecond)
	}
	cto := taskOf(e.get(id), "cto")
	e.stopWorkers()
	approve(map[string]any{"action": "approve", "actor": "cto", "task_id": cto}, 202)
	if read() {
		t.Fatal("an approve naming the holder's task read the whole state")
	}
	approve(map[string]any{"action": "approve", "actor": "mgr"}, 409) // decided already
	e.startWorkers()
	for e.get(id)["status"] != "approved" {
		if time.Now().After(deadline.Add(10 * time.Second)) {
			t.Fatalf("status %v, want approved", e.get(id)["status"])
		}
		time.Sleep(10 * time.Millisecond)
	}
	approve(map[string]any{"action": "approve", "actor": "cto"}, 409) // finished
}

// TestE2EStaleStateCache: the state cache may be older than the database
// (another process applied a command). The API and the worker must still
// decide on the current state: a command the old state allows is refused,
// one only the current state allows is applied.
func TestE2EStaleStateCache(t *testing.T) {
	e := newE2E(t)
	tmpl := e.template(opsTemplate)
	id := e.submit(tmpl, "alice", map[string]any{"days": 1})
	old := e.cachedState(id, 1)
	if got := e.get(id)["version"]; got != float64(old.Version) {
		t.Fatalf("cached version %d, stored %v", old.Version, got)
	}
	e.mustAct(id, map[string]any{"action": "approve", "actor": "mgr"}) // n2: cto's turn
	e.cachedState(id, old.Version+1)
	rollBack := func() {
		e.states.Forget(uuid.MustParse(id))
		e.states.Put("acme", uuid.MustParse(id), old)
	}
	accepted := func(actor string) {
		t.Helper()
		if res := e.do("POST", "/api/v1/approvals/"+id+"/actions", e.key, map[string]any{"action": "approve", "actor": actor}); res.status != 202 {
			t.Fatalf("approve by %s: %d %s", actor, res.status, res.body)
		}
	}

	// The old state still has mgr's task open: the API lets a second
	// approval through without a read, the worker applies it to the old
	// state, its optimistic lock fails and the command is refused on the
	// current state.
	e.stopWorkers()
	rollBack()
	accepted("mgr")
	e.startWorkers()
	e.eventsOf(id, "approval.command.rejected")
	if got := openAssignees(e.get(id)); len(got) != 1 || got[0] != "cto" {
		t.Fatalf("open tasks %v, want cto's", got)
	}

	// The old state has no task for cto: a refusal decided on it would be
	// wrong and no lock would catch it, so the worker re-reads and applies.
	e.stopWorkers()
	accepted("cto")
	rollBack()
	e.startWorkers()
	deadline := time.Now().Add(5 * time.Second)
	for e.get(id)["status"] != "approved" {
		if time.Now().After(deadline) {
			t.Fatalf("status = %v, want approved", e.get(id)["status"])
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A finished instance is not kept whole: later reads go to the database.
	if st, ok := e.states.Get(approval.ReaderAPI, "acme", uuid.MustParse(id)); ok {
		t.Fatalf("the cache holds the finished instance (version %d, %s)", st.Version, st.Status)
	}
	if e.states.Len() == 0 {
		t.Fatal("the cache lost even the finished instance's version")
	}
	if n := len(e.publishedOf(id, "approval.command.rejected")); n != 1 {
		t.Fatalf("%d refusals, want only mgr's", n)
	}
	// A late action is refused at once.
	assertProblem(t, e.act(id, map[string]any{"action": "approve", "actor": "cto"}), 409)
}

// The batch task endpoints: each item is checked and answered on its own,
// the accepted ones are applied once each, and a retried batch (same
// Idempotency-Key) is answered again without acting twice.
func TestE2EBatchApproveAndTransfer(t *testing.T) {
	e := newE2E(t)
	tmpl := e.template(opsTemplate)
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, e.submit(tmpl, "alice", map[string]any{"days": i + 1}))
	}
	foreign := e.submit(tmpl, "erin", map[string]any{"days": 1}) // erin's manager is dave, not mgr
	waitAssignees := func(id string, want ...string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got := openAssignees(e.get(id))
			if slices.Equal(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: open tasks %v, want %v", id, got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	statuses := func(res response) []int {
		t.Helper()
		if res.status != 200 {
			t.Fatalf("batch: %d %s", res.status, res.body)
		}
		var out []int
		for _, r := range res.json(t)["results"].([]any) {
			out = append(out, int(r.(map[string]any)["status"].(float64)))
		}
		return out
	}

	items := []any{}
	for _, id := range ids {
		items = append(items, map[string]any{"instance_id": id})
	}
	items = append(items, map[string]any{"instance_id": foreign}, map[string]any{"instance_id": "not-an-id"})
	body := map[string]any{"actor": "mgr", "comment": "all fine", "items": items}
	first := e.do("POST", "/api/v1/tasks:batch-approve", e.key, body, "Idempotency-Key", "batch-1")
	if got, want := statuses(first), []int{202, 202, 202, 202, 202, 403, 404}; !slices.Equal(got, want) {
		t.Fatalf("batch-approve statuses %v, want %v: %s", got, want, first.body)
	}
	for _, id := range ids {
		waitAssignees(id, "cto")
	}
	waitAssignees(foreign, "dave")
	again := e.do("POST", "/api/v1/tasks:batch-approve", e.key, body, "Idempotency-Key", "batch-1")
	if again.status != 200 || string(again.body) != string(first.body) {
		t.Fatalf("retried batch: %d %s, want the first answer %s", again.status, again.body, first.body)
	}
	for _, id := range ids {
		e.eventsOf(id, "approval.task.approved")
		if n := len(e.publishedOf(id, "approval.task.approved")); n != 1 {
			t.Fatalf("%s: %d task.approved events, want 1", id, n)
		}
	}

	// Transfer three of cto's tasks to carol; the fourth item names an
	// instance cto holds nothing on.
	tr := map[string]any{"actor": "cto", "to": "carol", "items": []any{
		map[string]any{"instance_id": ids[0]}, map[string]any{"instance_id": ids[1]}, map[string]any{"instance_id": ids[2]},
		map[string]any{"instance_id": foreign},
	}}
	if got, want := statuses(e.do("POST", "/api/v1/tasks:batch-transfer", e.key, tr)), []int{202, 202, 202, 403}; !slices.Equal(got, want) {
		t.Fatalf("batch-transfer statuses %v, want %v", got, want)
	}
	for _, id := range ids[:3] {
		waitAssignees(id, "carol")
		e.eventsOf(id, "approval.task.transferred")
	}
	for _, id := range ids[3:] {
		waitAssignees(id, "cto")
	}

	// Bad batches are refused whole, as problems naming the field.
	p := assertProblem(t, e.do("POST", "/api/v1/tasks:batch-transfer", e.key, map[string]any{"actor": "cto", "items": items[:1]}), 422)
	if !strings.Contains(string(mustJSON(p["errors"])), `"to"`) {
		t.Fatalf("missing to: %v", p)
	}
	assertProblem(t, e.do("POST", "/api/v1/tasks:batch-approve", e.key, map[string]any{"actor": "mgr", "items": []any{}}), 422)
	tooMany := make([]any, MaxBatchTasks+1)
	for i := range tooMany {
		tooMany[i] = map[string]any{"instance_id": ids[0]}
	}
	assertProblem(t, e.do("POST", "/api/v1/tasks:batch-approve", e.key, map[string]any{"actor": "mgr", "items": tooMany}), 422)
}

// The API subscribes to every event only while requests wait on outcomes:
// the subscription ends after the linger and comes back for the next wait.
func TestE2EOutcomeSubscriptionFollowsWaiters(t *testing.T) {
	e := newE2E(t)
	e.api.waiters.mu.Lock()
	e.api.waiters.linger = 200 * time.Millisecond
	e.api.waiters.mu.Unlock()
	tmpl := e.template(opsTemplate)
	for round := 0; round < 2; round++ {
		id := e.submit(tmpl, "alice", map[string]any{"days": 1}) // waits: 201 with the state
		deadline := time.Now().Add(5 * time.Second)
		for e.api.waiters.subscribed() {
			if time.Now().After(deadline) {
				t.Fatal("the outcome subscription outlived its linger")
			}
			time.Sleep(20 * time.Millisecond)
		}
		// Without waiters an action is answered 202 at once and still applied.
		if res := e.do("POST", "/api/v1/approvals/"+id+"/actions", e.key, map[string]any{"action": "approve", "actor": "mgr"}); res.status != 202 {
			t.Fatalf("approve: %d %s", res.status, res.body)
		}
		e.eventsOf(id, "approval.task.approved")
	}
}
