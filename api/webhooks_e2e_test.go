package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/webhook"
	"github.com/shiftflow/shiftflow/workers"
	webhooks "github.com/shiftflow/shiftflow/workers/webhook"
)

// receiver is an integrator's endpoint: it records every request and
// answers with respond.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []received
	respond  func(n int, w http.ResponseWriter)
}

type received struct {
	at     time.Time
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter)) *receiver {
	rc := &receiver{respond: respond}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.requests = append(rc.requests, received{at: time.Now(), header: r.Header.Clone(), body: b})
		n := len(rc.requests)
		rc.mu.Unlock()
		if rc.respond != nil {
			rc.respond(n, w)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.requests...)
}

func (rc *receiver) waitFor(t *testing.T, n int, limit time.Duration) []received {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if got := rc.got(); len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("receiver got %d requests, want %d", len(rc.got()), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// createWebhook registers url for patterns and returns its id and secret.
func (e *e2e) createWebhook(url string, patterns ...string) (string, string) {
	e.t.Helper()
	res := e.do("POST", "/api/v1/webhooks", e.key, map[string]any{"url": url, "event_types": patterns, "description": "test"})
	if res.status != 201 {
		e.t.Fatalf("create webhook: %d %s", res.status, res.body)
	}
	m := res.json(e.t)
	return m["id"].(string), m["secret"].(string)
}

// oneEvent makes one approval.instance.submitted event happen.
func (e *e2e) oneEvent() string {
	e.t.Helper()
	if _, err := e.deps.DB.Exec(context.Background(), "SELECT 1 FROM approval_templates WHERE id = 'wh'"); err != nil {
		e.t.Fatal(err)
	}
	res := e.do("GET", "/api/v1/approval-templates/wh", e.key, nil)
	if res.status == 404 {
		e.template(`{"id": "wh", "name": "Webhook test", "form": [],
		  "nodes": [{"id": "start", "type": "start", "next": "n1"},
			{"id": "n1", "type": "approval", "next": "end", "approval": {"mode": "single", "approvers": [{"type": "people", "people": ["mgr"]}]}},
			{"id": "end", "type": "end"}]}`)
	}
	return e.submit("wh", "alice", map[string]any{})
}

func TestWebhookSignedDeliveryRetriedAfter500(t *testing.T) {
	e := newE2E(t)
	rc := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(204)
	})
	id, secret := e.createWebhook(rc.URL+"/hooks", "approval.instance.*")
	inst := e.oneEvent()
	got := rc.waitFor(t, 2, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if n := len(rc.got()); n != 2 {
		t.Fatalf("%d requests, want 2 (500 then success, nothing after)", n)
	}
	if got[0].header.Get("webhook-id") != got[1].header.Get("webhook-id") || got[0].header.Get("webhook-id") == "" {
		t.Fatalf("webhook-id not stable across retries: %q %q", got[0].header.Get("webhook-id"), got[1].header.Get("webhook-id"))
	}
	for i, r := range got {
		if err := webhook.Verify(secret, r.header, r.body); err != nil {
			t.Fatalf("request %d does not verify with the helper: %v", i, err)
		}
	}
	var env events.Envelope
	if err := json.Unmarshal(got[1].body, &env); err != nil || env.Type != "approval.instance.submitted" || env.SpecVersion != "1.0" ||
		env.ID != got[1].header.Get("webhook-id") || env.Subject != "approvals/"+inst || env.OrgID != "acme" {
		t.Fatalf("body is not the CloudEvents envelope: %s (%v)", got[1].body, err)
	}
	if gap := got[1].at.Sub(got[0].at); gap < 80*time.Millisecond {
		t.Fatalf("retry after %s, want the schedule's 100 ms", gap)
	}
	// The delivery log lists both attempts with their outcome.
	log := e.do("GET", "/api/v1/webhooks/"+id+"/deliveries", e.key, nil).json(t)["items"].([]any)
	if len(log) != 2 {
		t.Fatalf("delivery log: %v", log)
	}
	newest, oldest := log[0].(map[string]any), log[1].(map[string]any)
	if newest["status_code"].(float64) != 204 || oldest["status_code"].(float64) != 500 || oldest["error"] == nil || newest["delivery_status"] != "succeeded" {
		t.Fatalf("delivery log entries: %v / %v", newest, oldest)
	}
}

func TestWebhookRetryAfterHonoured(t *testing.T) {
	e := newE2E(t)
	rc := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(503)
			return
		}
		w.WriteHeader(200)
	})
	e.createWebhook(rc.URL, "approval.instance.submitted")
	e.oneEvent()
	got := rc.waitFor(t, 2, 10*time.Second)
	if got[0].header.Get("webhook-id") != got[1].header.Get("webhook-id") {
		t.Fatal("the second request is not the retry of the first")
	}
	if gap := got[1].at.Sub(got[0].at); gap < 950*time.Millisecond {
		t.Fatalf("retried %s after a 503 with Retry-After: 1, want >= 1 s (the schedule alone says 100 ms)", gap)
	}
}

func TestWebhookGoneDisablesEndpoint(t *testing.T) {
	e := newE2E(t)
	rc := newReceiver(t, func(n int, w http.ResponseWriter) { w.WriteHeader(410) })
	id, _ := e.createWebhook(rc.URL, "approval.instance.submitted")
	e.oneEvent()
	rc.waitFor(t, 1, 10*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	var v map[string]any
	for {
		v = e.do("GET", "/api/v1/webhooks/"+id, e.key, nil).json(t)
		if v["enabled"] == false || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v["enabled"] != false || !strings.Contains(v["disabled_reason"].(string), "410") {
		t.Fatalf("after 410: %v", v)
	}
	// The disabling is itself an event.
	var n int
	for time.Now().Before(deadline) {
		_ = e.deps.DB.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE type = 'webhook.endpoint.disabled'`).Scan(&n)
		if n == 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n != 1 {
		t.Fatalf("webhook.endpoint.disabled events = %d", n)
	}
	e.oneEvent()
	time.Sleep(500 * time.Millisecond)
	if got := len(rc.got()); got != 1 {
		t.Fatalf("a disabled endpoint received %d requests", got)
	}
	if e.metrics != nil {
		if c := testCounter(e.metrics.WebhookDeliveries.WithLabelValues("gone")); c != 1 {
			t.Fatalf("webhook_deliveries_total{status=gone} = %v", c)
		}
	}
}

func TestWebhookRedirectNotFollowed(t *testing.T) {
	e := newE2E(t)
	target := newReceiver(t, nil)
	rc := newReceiver(t, func(n int, w http.ResponseWriter) {
		w.Header().Set("Location", target.URL+"/elsewhere")
		w.WriteHeader(307)
	})
	id, _ := e.createWebhook(rc.URL, "approval.instance.submitted")
	e.oneEvent()
	rc.waitFor(t, 2, 10*time.Second) // retried like any failure
	if n := len(target.got()); n != 0 {
		t.Fatalf("the redirect target received %d requests", n)
	}
	log := e.do("GET", "/api/v1/webhooks/"+id+"/deliveries", e.key, nil).json(t)["items"].([]any)
	last := log[len(log)-1].(map[string]any)
	if last["status_code"].(float64) != 307 || !strings.Contains(last["error"].(string), "redirect") {
		t.Fatalf("attempt: %v", last)
	}
}

func TestWebhookSecretRotationSignsWithBoth(t *testing.T) {
	e := newE2E(t)
	rc := newReceiver(t, func(n int, w http.ResponseWriter) { w.WriteHeader(200) })
	id, oldSecret := e.createWebhook(rc.URL, "approval.instance.submitted")
	res := e.do("POST", "/api/v1/webhooks/"+id+"/rotate-secret", e.key, nil)
	if res.status != 200 {
		t.Fatalf("rotate: %d %s", res.status, res.body)
	}
	newSecret := res.json(t)["secret"].(string)
	if newSecret == oldSecret || res.json(t)["secret_rotating"] != true {
		t.Fatalf("rotation answer: %s", res.body)
	}
	e.oneEvent()
	r := rc.waitFor(t, 1, 10*time.Second)[0]
	if n := len(strings.Fields(r.header.Get("webhook-signature"))); n != 2 {
		t.Fatalf("signature header has %d entries, want 2 during rotation: %q", n, r.header.Get("webhook-signature"))
	}
	for _, s := range []string{oldSecret, newSecret} {
		if err := webhook.Verify(s, r.header, r.body); err != nil {
			t.Fatalf("does not verify with %s…: %v", s[:10], err)
		}
	}
}

func TestWebhookPrivateAddressRefused(t *testing.T) {
	strict := newE2EWith(t, e2eOptions{})
	rc := newReceiver(t, nil)
	for _, url := range []string{rc.URL, "http://10.1.2.3/hook", "http://169.254.169.254/latest", "http://[::1]:8080/x", "http://2130706433/"} {
		p := assertProblem(t, strict.do("POST", "/api/v1/webhooks", strict.key, map[string]any{"url": url, "event_types": []string{"*"}}), 422)
		if p["errors"].([]any)[0].(map[string]any)["field"] != "url" {
			t.Fatalf("%s: %v", url, p)
		}
	}
	// Checked again at delivery: an address allowed at creation but not by
	// the sender's guard is never contacted.
	e := newE2EWith(t, e2eOptions{allowLoopback: true, senderLoopback: false, schedule: []time.Duration{0}})
	id, _ := e.createWebhook(rc.URL, "*")
	e.oneEvent()
	deadline := time.Now().Add(10 * time.Second)
	for {
		log := e.do("GET", "/api/v1/webhooks/"+id+"/deliveries", e.key, nil).json(t)["items"].([]any)
		if len(log) > 0 {
			if msg := log[0].(map[string]any)["error"]; msg == nil || !strings.Contains(msg.(string), "SSRF") {
				t.Fatalf("attempt error = %v", msg)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no attempt recorded")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(rc.got()); n != 0 {
		t.Fatalf("the private receiver got %d requests", n)
	}
}

func TestWebhookRecoverResendsOnlyFailed(t *testing.T) {
	e := newE2EWith(t, e2eOptions{allowLoopback: true, senderLoopback: true, schedule: []time.Duration{0}})
	var failing atomic.Bool
	failing.Store(true)
	rc := newReceiver(t, func(n int, w http.ResponseWriter) {
		if failing.Load() {
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(200)
	})
	id, _ := e.createWebhook(rc.URL, "approval.instance.submitted")
	since := time.Now().Add(-time.Second).UTC()
	e.oneEvent()
	e.oneEvent()
	first := rc.waitFor(t, 2, 10*time.Second)
	failedIDs := map[string]bool{first[0].header.Get("webhook-id"): true, first[1].header.Get("webhook-id"): true}
	// Both exhausted the one-attempt schedule: dead letters.
	deadline := time.Now().Add(5 * time.Second)
	for {
		items := e.do("GET", "/api/v1/ops/failed-events?consumer=webhook", e.key, nil).json(t)["items"].([]any)
		if len(items) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dead letters: %v", items)
		}
		time.Sleep(20 * time.Millisecond)
	}
	failing.Store(false)
	e.oneEvent() // succeeds at once
	rc.waitFor(t, 3, 10*time.Second)
	res := e.do("POST", "/api/v1/webhooks/"+id+"/recover?since="+since.Format(time.RFC3339), e.key, nil)
	if res.status != 202 || res.json(t)["requeued"].(float64) != 2 {
		t.Fatalf("recover: %d %s", res.status, res.body)
	}
	got := rc.waitFor(t, 5, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	got = rc.got()
	if len(got) != 5 {
		t.Fatalf("%d requests after recover, want 5 (2 failed + 1 ok + 2 resent)", len(got))
	}
	for _, r := range got[3:] {
		if !failedIDs[r.header.Get("webhook-id")] {
			t.Fatalf("recover resent %s, which had succeeded", r.header.Get("webhook-id"))
		}
	}
}

// A delivery can fail for good before the relay has recorded its event's
// stream sequence (the fan-out read the event from the stream first). Both
// dead letters must still be recorded, each with the event's sequence; with
// the unknown sequence as 0 the second collided with the first and was lost.
func TestWebhookDeadLettersWaitForTheStreamSequence(t *testing.T) {
	e := newE2EWith(t, e2eOptions{allowLoopback: true, senderLoopback: true, schedule: []time.Duration{0}})
	rc := newReceiver(t, func(n int, w http.ResponseWriter) { w.WriteHeader(500) })
	id, _ := e.createWebhook(rc.URL, "test.*")
	ctx := context.Background()
	var evIDs []string
	for i := 0; i < 2; i++ {
		// An event as the fan-out sees it before the relay's mark: no
		// stream_seq yet (and not in the outbox, so no relay touches it).
		var evID string
		err := e.deps.DB.QueryRow(ctx, `INSERT INTO events (id, org_id, type, source, subject, time, data)
			VALUES (gen_random_uuid(), 'acme', 'test.thing.happened', 'test', 'things/1', now(), '{}') RETURNING id::text`).Scan(&evID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.deps.DB.Exec(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_id, org_id, event_type, status, next_attempt_at)
			VALUES ($1, $2, 'acme', 'test.thing.happened', 'pending', now())`, id, evID); err != nil {
			t.Fatal(err)
		}
		evIDs = append(evIDs, evID)
	}
	rc.waitFor(t, 2, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // the sender is now waiting for the sequences
	for i, evID := range evIDs {
		if _, err := e.deps.DB.Exec(ctx, `UPDATE events SET status = 'published', stream_seq = $2, published_at = now() WHERE id = $1`, evID, 1000+i); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := e.deps.DB.QueryRow(ctx, `SELECT count(*) FROM failed_events WHERE consumer = $1 AND stream_seq IN (1000, 1001)
			AND message_id = ANY($2)`, "webhook:"+id, evIDs).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			items := e.do("GET", "/api/v1/ops/failed-events?consumer=webhook", e.key, nil).json(t)["items"]
			t.Fatalf("%d of 2 dead letters recorded with their stream sequence: %v", n, items)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sseClient reads an event stream: id, event and data of each message.
type sseEvent struct{ id, typ, data string }

func (e *e2e) openStream(t *testing.T, types, lastID string) (<-chan sseEvent, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/v1/events/stream?types="+types, nil)
	req.Header.Set("Authorization", "Bearer "+e.key)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 100)
	go func() {
		defer close(out)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.data != "" {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id:"):
				ev.id = strings.TrimSpace(line[3:])
			case strings.HasPrefix(line, "event:"):
				ev.typ = strings.TrimSpace(line[6:])
			case strings.HasPrefix(line, "data:"):
				ev.data += strings.TrimSpace(line[5:])
			}
		}
	}()
	return out, cancel
}

func nextEvent(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("stream closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return sseEvent{}
}

func TestEventStreamResumesWithLastEventID(t *testing.T) {
	e := newE2E(t)
	stream, stop := e.openStream(t, "approval.instance.*", "")
	first := e.oneEvent()
	ev := nextEvent(t, stream)
	if ev.typ != "approval.instance.submitted" || !strings.Contains(ev.data, first) || ev.id == "" {
		t.Fatalf("first event: %+v", ev)
	}
	stop() // the client goes away
	var missed []string
	for i := 0; i < 3; i++ {
		missed = append(missed, e.oneEvent())
	}
	// Let the missed events reach the stream before reconnecting.
	e.eventsOf(missed[2], "approval.instance.submitted")
	stream, stop = e.openStream(t, "approval.instance.*", ev.id)
	defer stop()
	for i, want := range missed {
		got := nextEvent(t, stream)
		if !strings.Contains(got.data, want) {
			t.Fatalf("resumed event %d = %s, want the submit of %s (in order)", i, got.data, want)
		}
	}
	// Exactly the missed ones: the next event is a new one, not a repeat.
	latest := e.oneEvent()
	if got := nextEvent(t, stream); !strings.Contains(got.data, latest) {
		t.Fatalf("after the missed events: %s", got.data)
	}
	// Another org's events never appear.
	other, _ := e.createKey("globex", ScopeApproval)
	res := e.do("GET", "/api/v1/events?type=approval.instance.*", other, nil)
	if n := len(res.json(t)["items"].([]any)); n != 0 {
		t.Fatalf("globex sees %d acme events", n)
	}
}

func TestEventLog(t *testing.T) {
	e := newE2E(t)
	id := e.oneEvent()
	e.eventsOf(id, "approval.task.created")
	items := e.do("GET", "/api/v1/events?type=approval.instance.*&subject=approvals/"+id, e.key, nil).json(t)["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["type"] != "approval.instance.submitted" {
		t.Fatalf("event log: %v", items)
	}
	evID := items[0].(map[string]any)["id"].(string)
	// A subscriber can see the event a moment before the relay's commit
	// records it as published.
	deadline := time.Now().Add(5 * time.Second)
	for {
		one := e.do("GET", "/api/v1/events/"+evID, e.key, nil).json(t)
		if one["id"] == evID && one["status"] == "published" && one["stream_seq"] != nil {
			break
		}
		if one["id"] != evID || time.Now().After(deadline) {
			t.Fatalf("event: %v", one)
		}
		time.Sleep(10 * time.Millisecond)
	}
	assertProblem(t, e.do("GET", "/api/v1/events?type=Bad..Pattern", e.key, nil), 422)
	// Cursor pagination walks the whole log once.
	seen := map[string]bool{}
	cursor := ""
	for page := 0; page < 20; page++ {
		res := e.do("GET", "/api/v1/events?limit=2&cursor="+cursor, e.key, nil).json(t)
		for _, it := range res["items"].([]any) {
			id := it.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("event %s on two pages", id)
			}
			seen[id] = true
		}
		c, _ := res["next_cursor"].(string)
		if c == "" {
			break
		}
		cursor = c
	}
	var total int
	_ = e.deps.DB.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE org_id = 'acme'`).Scan(&total)
	if len(seen) != total {
		t.Fatalf("paged through %d events, the log has %d", len(seen), total)
	}
}

// bugged simulates a handler bug: approvals fail while on.
type bugged struct {
	inner workers.Handler
	on    *atomic.Bool
}

func (b bugged) Handle(ctx context.Context, m *workers.Message) (workers.Commit, error) {
	if b.on.Load() && m.Subject[:len("cmd.approval.instance.act")] == "cmd.approval.instance.act" {
		return nil, errors.New("simulated bug: nil map in the approval handler")
	}
	return b.inner.Handle(ctx, m)
}

func TestReplayAfterHandlerBugAppliesOnce(t *testing.T) {
	var bug atomic.Bool
	e := newE2EWith(t, e2eOptions{allowLoopback: true, senderLoopback: true, maxDeliver: 3,
		wrap: func(h workers.Handler) workers.Handler { return bugged{inner: h, on: &bug} }})
	start := time.Now().Add(-time.Second).UTC()
	bug.Store(true)
	a := e.oneEvent()
	if res := e.do("POST", "/api/v1/approvals/"+a+"/actions", e.key, map[string]any{"action": "approve", "actor": "mgr"}); res.status != 202 {
		t.Fatalf("approve: %d %s", res.status, res.body)
	}
	var fe map[string]any
	deadline := time.Now().Add(15 * time.Second)
	for {
		items := e.do("GET", "/api/v1/ops/failed-events?consumer=approval&error=simulated", e.key, nil).json(t)["items"].([]any)
		if len(items) == 1 {
			fe = items[0].(map[string]any)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no dead letter: %v", items)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if fe["reason"] != "max_deliver" || fe["attempts"].(float64) != 3 || fe["type"] != "approval.instance.act" {
		t.Fatalf("dead letter: %v", fe)
	}
	full := e.do("GET", "/api/v1/ops/failed-events/"+fe["id"].(string), e.key, nil).json(t)
	if errs := full["errors"].([]any); len(errs) != 3 || full["payload"].(map[string]any)["type"] != "approval.instance.act" {
		t.Fatalf("dead letter detail: errors %v payload %v", full["errors"], full["payload"])
	}
	if v := e.get(a); v["status"] != "running" {
		t.Fatalf("status before the fix: %v", v["status"])
	}

	bug.Store(false) // the fix is deployed
	outcome := e.replayOutcome
	if res := e.do("POST", "/api/v1/ops/failed-events/"+fe["id"].(string)+"/replay", e.key, nil); res.status != 202 {
		t.Fatalf("replay: %d %s", res.status, res.body)
	}
	if o := outcome(fe["id"].(string)); o != "applied" {
		t.Fatalf("first replay outcome = %s", o)
	}
	if v := e.get(a); v["status"] != "approved" {
		t.Fatalf("status after the replay: %v", v["status"])
	}
	// Replaying again changes nothing.
	if res := e.do("POST", "/api/v1/ops/failed-events/"+fe["id"].(string)+"/replay", e.key, nil); res.status != 202 {
		t.Fatalf("second replay: %d %s", res.status, res.body)
	}
	if o := outcome(fe["id"].(string)); o != "already_applied" {
		t.Fatalf("second replay outcome = %s", o)
	}
	if n := count(e.eventsOf(a, "approval.instance.approved"), "approval.task.approved"); n != 1 {
		t.Fatalf("task.approved published %d times", n)
	}

	// By filter, as a job.
	bug.Store(true)
	b, c := e.oneEvent(), e.oneEvent()
	for _, id := range []string{b, c} {
		e.do("POST", "/api/v1/approvals/"+id+"/actions", e.key, map[string]any{"action": "approve", "actor": "mgr"})
	}
	deadline = time.Now().Add(20 * time.Second)
	for {
		items := e.do("GET", "/api/v1/ops/failed-events?consumer=approval&status=open", e.key, nil).json(t)["items"].([]any)
		if len(items) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("open dead letters: %v", items)
		}
		time.Sleep(50 * time.Millisecond)
	}
	bug.Store(false)
	res := e.do("POST", "/api/v1/ops/failed-events/replay", e.key, map[string]any{"consumer": "approval", "since": start})
	if res.status != 202 {
		t.Fatalf("bulk replay: %d %s", res.status, res.body)
	}
	jobURL := res.header.Get("Location")
	var job map[string]any
	deadline = time.Now().Add(20 * time.Second)
	for {
		job = e.do("GET", jobURL, e.key, nil).json(t)
		if job["status"] == "done" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if job["status"] != "done" || job["total"].(float64) != 2 || job["replayed"].(float64) != 2 || job["failed_again"].(float64) != 0 {
		t.Fatalf("job: %v", job)
	}
	for _, id := range []string{b, c} {
		if v := e.get(id); v["status"] != "approved" {
			t.Fatalf("%s after the bulk replay: %v", id, v["status"])
		}
	}
	assertProblem(t, e.do("POST", "/api/v1/ops/failed-events/replay", e.key, map[string]any{}), 422)
}

// An endpoint that fails every attempt for WEBHOOK_DISABLE_AFTER is
// disabled, and the disabling is announced as an event.
func TestWebhookFailingForTooLongIsDisabled(t *testing.T) {
	e := newE2EWith(t, e2eOptions{allowLoopback: true, senderLoopback: true, disableAfter: 300 * time.Millisecond,
		schedule: []time.Duration{0, 200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond}})
	rc := newReceiver(t, func(n int, w http.ResponseWriter) { w.WriteHeader(502) })
	id, _ := e.createWebhook(rc.URL, "approval.instance.submitted")
	e.oneEvent()
	deadline := time.Now().Add(10 * time.Second)
	var v map[string]any
	for {
		v = e.do("GET", "/api/v1/webhooks/"+id, e.key, nil).json(t)
		if v["enabled"] == false || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v["enabled"] != false || !strings.Contains(v["disabled_reason"].(string), "every delivery failed") {
		t.Fatalf("endpoint after failing: %v", v)
	}
	if n := len(rc.got()); n < 2 {
		t.Fatalf("disabled after %d attempts; it must have failed for the whole period first", n)
	}
	var events int
	for time.Now().Before(deadline) {
		_ = e.deps.DB.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE type = 'webhook.endpoint.disabled'`).Scan(&events)
		if events == 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if events != 1 {
		t.Fatalf("webhook.endpoint.disabled events = %d", events)
	}
	// Re-enabling clears the failure state.
	res := e.do("PATCH", "/api/v1/webhooks/"+id, e.key, map[string]any{"enabled": true})
	if res.status != 200 || res.json(t)["failing_since"] != nil || res.json(t)["disabled_reason"] != nil {
		t.Fatalf("re-enable: %d %s", res.status, res.body)
	}
}

// replayOutcome waits for the outcome of a dead letter's last replay.
func (e *e2e) replayOutcome(id string) string {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		v := e.do("GET", "/api/v1/ops/failed-events/"+id, e.key, nil).json(e.t)
		if o, _ := v["replay_outcome"].(string); o != "" && o != "pending" {
			return o
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("replay of %s never settled: %v", id, v)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fanoutConsumer is the webhook consumer's filter and how many messages it
// has been handed.
func (e *e2e) fanoutConsumer() ([]string, uint64) {
	e.t.Helper()
	c, err := e.deps.JS.Consumer(context.Background(), events.EventsStream, webhooks.ConsumerName)
	if err != nil {
		e.t.Fatal(err)
	}
	cfg := c.CachedInfo().Config
	if cfg.FilterSubject != "" {
		return []string{cfg.FilterSubject}, c.CachedInfo().Delivered.Consumer
	}
	return cfg.FilterSubjects, c.CachedInfo().Delivered.Consumer
}

// waitFanoutIdle waits until the fan-out has settled everything it was handed.
func (e *e2e) waitFanoutIdle() {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := e.deps.JS.Consumer(context.Background(), events.EventsStream, webhooks.ConsumerName)
		if err != nil {
			e.t.Fatal(err)
		}
		if ci := c.CachedInfo(); ci.NumPending == 0 && ci.NumAckPending == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatal("the fan-out did not settle its messages")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *e2e) waitFilter(want ...string) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := e.fanoutConsumer()
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("webhook consumer filter %v, want %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The webhook consumer is handed only the events some enabled endpoint
// wants: none while there is no endpoint, an endpoint's types from the
// moment it is created (so its first event is delivered), wider or
// narrower as endpoints change, none again once the last one goes.
func TestWebhookConsumerFollowsEndpoints(t *testing.T) {
	e := newE2E(t)
	e.waitFilter(webhooks.NoEvents) // the pool narrowed its new consumer
	e.oneEvent()
	// The submitted and task-created events are in the stream, and the
	// consumer was handed neither.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := e.deps.DB.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE published_at IS NOT NULL`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events published, want 2", n)
		}
	}
	e.waitFanoutIdle()
	if _, delivered := e.fanoutConsumer(); delivered != 0 {
		t.Fatalf("the fan-out was handed %d events with no endpoint", delivered)
	}

	rc := newReceiver(t, func(n int, w http.ResponseWriter) { w.WriteHeader(204) })
	id, _ := e.createWebhook(rc.URL+"/hooks", "approval.instance.*")
	// Widened before the 201: no wait.
	if got, _ := e.fanoutConsumer(); !slices.Equal(got, []string{"evt.approval.instance.*.acme"}) {
		t.Fatalf("filter right after the endpoint was created: %v", got)
	}
	inst := e.oneEvent()
	// Its submitted event is delivered. The fan-out is handed instance
	// events only, never the task events: each one it is handed matches the
	// endpoint. (It may also be handed the first instance's event: the
	// consumer's position moves past events it does not take only when it
	// renews its pull, so an endpoint can get events from up to one pull
	// expiry before it was created, as it could from a backlog before.)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := e.deps.DB.QueryRow(context.Background(), `SELECT count(*) FROM webhook_deliveries d JOIN events v ON v.id = d.event_id WHERE v.subject = $1`, "approvals/"+inst).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries of the new instance's event, want 1", n)
		}
	}
	e.waitFanoutIdle()
	var rows, others int
	if err := e.deps.DB.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE event_type <> 'approval.instance.submitted') FROM webhook_deliveries`).Scan(&rows, &others); err != nil {
		t.Fatal(err)
	}
	if _, handed := e.fanoutConsumer(); others != 0 || handed != uint64(rows) || rows < 1 || rows > 2 {
		t.Fatalf("the fan-out was handed %d events and recorded %d deliveries (%d not instance events)", handed, rows, others)
	}

	// A second endpoint of all types: the org's events; a pattern covered by
	// another one adds nothing.
	all, _ := e.createWebhook(rc.URL+"/all", "*")
	e.createWebhook(rc.URL+"/tasks", "approval.task.created")
	e.waitFilter("evt.*.*.*.acme")
	if res := e.do("DELETE", "/api/v1/webhooks/"+all, e.key, nil); res.status != 204 {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	e.waitFilter("evt.approval.instance.*.acme", "evt.approval.task.created.acme")
	// Disabling narrows too; enabling widens again.
	if res := e.do("PATCH", "/api/v1/webhooks/"+id, e.key, map[string]any{"enabled": false}); res.status != 200 {
		t.Fatalf("disable: %d %s", res.status, res.body)
	}
	e.waitFilter("evt.approval.task.created.acme")
	if res := e.do("PATCH", "/api/v1/webhooks/"+id, e.key, map[string]any{"enabled": true, "event_types": []string{"approval.*"}}); res.status != 200 {
		t.Fatalf("enable: %d %s", res.status, res.body)
	}
	if got, _ := e.fanoutConsumer(); !slices.Equal(got, []string{"evt.approval.*.*.acme"}) {
		t.Fatalf("filter right after the endpoint was enabled: %v", got)
	}
}

// A fan-out dead letter is replayed through the fan-out when an endpoint
// wants its event (the consumer's filter lets it through), and settled at
// once when none does (the filter would keep it from the fan-out).
func TestReplayOfAFanOutDeadLetter(t *testing.T) {
	e := newE2E(t)
	ctx := context.Background()
	seq := 1_000_000
	deadLetter := func(inst string) string {
		e.eventsOf(inst, "approval.instance.submitted")
		env := e.publishedOf(inst, "approval.instance.submitted")[0]
		payload, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		headers, _ := json.Marshal(map[string][]string{events.HeaderOrg: {"acme"}, events.HeaderType: {env.Type}})
		id := uuid.NewString()
		seq++
		if _, err := e.deps.DB.Exec(ctx, `INSERT INTO failed_events (id, consumer, stream, stream_seq, message_id, subject, org_id, type, headers, payload,
			reason, last_error, attempts, first_failed_at, last_failed_at)
			VALUES ($1, $2, 'EVENTS', $3, $4, $5, 'acme', $6, $7, $8, 'max_deliver', 'simulated', 5, now(), now())`,
			id, webhooks.ConsumerName, seq, env.ID, events.EventSubject(env.Type, "acme"), env.Type, headers, payload); err != nil {
			t.Fatal(err)
		}
		return id
	}
	replay := func(id string) string {
		if res := e.do("POST", "/api/v1/ops/failed-events/"+id+"/replay", e.key, nil); res.status != 202 {
			t.Fatalf("replay: %d %s", res.status, res.body)
		}
		return e.replayOutcome(id)
	}
	deliveries := func() int {
		var n int
		if err := e.deps.DB.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	a := e.oneEvent()
	if o := replay(deadLetter(a)); o != "applied" || deliveries() != 0 {
		t.Fatalf("replay with no endpoint: outcome %s, %d deliveries", o, deliveries())
	}

	rc := newReceiver(t, func(n int, w http.ResponseWriter) { w.WriteHeader(204) })
	e.createWebhook(rc.URL+"/hooks", "approval.instance.*")
	// The widened consumer may hand the fan-out the original event first
	// (see TestWebhookConsumerFollowsEndpoints): then the replay finds it
	// applied. Either way the endpoint gets it once.
	if o := replay(deadLetter(a)); o != "applied" && o != "already_applied" {
		t.Fatalf("replay with an endpoint: outcome %s", o)
	}
	got := rc.waitFor(t, 1, 10*time.Second)
	var env events.Envelope
	if err := json.Unmarshal(got[0].body, &env); err != nil || env.Subject != "approvals/"+a {
		t.Fatalf("delivered %s (%v), want the replayed event of %s", got[0].body, err, a)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(rc.got()); n != 1 || deliveries() != 1 {
		t.Fatalf("%d requests and %d deliveries, want the event once", n, deliveries())
	}
}

// A fan-out pool that (re)starts sets the consumer from its spec (every
// event) over a narrowed filter, and narrows it again.
func TestWebhookConsumerRecreatedOverNarrowFilter(t *testing.T) {
	e := newE2E(t)
	e.waitFilter(webhooks.NoEvents)
	ctx := context.Background()
	if _, err := events.EnsureConsumer(ctx, e.deps.JS, webhooks.Consumer(5, 5*time.Second)); err != nil {
		t.Fatalf("the spec's filter over a narrowed one: %v", err)
	}
	e.waitFilter("evt.>")
	if err := webhooks.SyncFilterNow(ctx, e.deps.DB, e.deps.JS); err != nil {
		t.Fatal(err)
	}
	e.waitFilter(webhooks.NoEvents)
}
