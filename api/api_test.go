package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"
	dto "github.com/prometheus/client_model/go"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/internal/config"
	"github.com/shiftflow/shiftflow/internal/logging"
	"github.com/shiftflow/shiftflow/internal/metrics"
	"github.com/shiftflow/shiftflow/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const adminToken = "test-admin-token-0123456789"

type harness struct {
	t       *testing.T
	srv     *httptest.Server
	api     *Server
	deps    Deps
	nats    *testenv.NATSServer
	metrics *metrics.Metrics
}

// testConfig is the defaults every variable has, with test values on top.
func testConfig() *config.Config {
	cfg, err := config.Load()
	if err != nil {
		panic(err)
	}
	cfg.AppEnv, cfg.RateLimitRPS, cfg.RateLimitBurst, cfg.AdminToken = "test", 1000, 1000, adminToken
	return cfg
}

func newHarness(t *testing.T, mutate ...func(*config.Config)) *harness {
	t.Helper()
	cfg := testConfig()
	for _, m := range mutate {
		m(cfg)
	}
	pool := testenv.Postgres(t)
	ns := testenv.NATS(t)
	nc, js := ns.Connect(t)
	if err := events.EnsureStreams(context.Background(), js, events.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	d := Deps{Config: cfg, DB: pool, NC: nc, JS: js, Publisher: events.NewPublisher(js, m), Metrics: m,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	a := New(d)
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return &harness{t: t, srv: srv, api: a, deps: d, nats: ns, metrics: m}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, r.body)
	}
	return m
}

func (h *harness) do(method, path, token string, body any, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	var sent []byte
	switch b := body.(type) {
	case nil:
	case string:
		sent = []byte(b)
	case []byte:
		sent = b
	default:
		sent, _ = json.Marshal(b)
	}
	if body != nil {
		rd = bytes.NewReader(sent)
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	checkConformance(h.t, req, sent, res.StatusCode, res.Header, b)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// createKey makes a key through the admin API and returns its secret and id.
func (h *harness) createKey(org string, scopes ...string) (secret, id string) {
	h.t.Helper()
	res := h.do("POST", "/api/v1/admin/keys", adminToken, map[string]any{"name": "k-" + org, "org": org, "scopes": scopes})
	if res.status != http.StatusCreated {
		h.t.Fatalf("create key: %d %s", res.status, res.body)
	}
	m := res.json(h.t)
	return m["key"].(string), m["id"].(string)
}

func assertProblem(t *testing.T, r response, status int) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json", ct)
	}
	p := r.json(t)
	if p["status"].(float64) != float64(status) || p["type"] == "" || p["title"] == "" {
		t.Fatalf("not a problem document: %s", r.body)
	}
	if p["request_id"] == "" || p["request_id"] != r.header.Get("X-Request-ID") {
		t.Fatalf("problem request_id %v != X-Request-ID %q", p["request_id"], r.header.Get("X-Request-ID"))
	}
	return p
}

func TestAuthentication(t *testing.T) {
	h := newHarness(t)
	approvalKey, _ := h.createKey("acme", ScopeApproval)

	assertProblem(t, h.do("GET", "/api/v1/admin/keys", "", nil), 401)
	assertProblem(t, h.do("GET", "/api/v1/admin/keys", "sfk_nothing_real", nil), 401)
	assertProblem(t, h.do("GET", "/api/v1/admin/keys", "wrong-admin-token", nil), 401)
	if r := h.do("GET", "/api/v1/admin/keys", "", nil); r.header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
	// A key without the admin scope.
	p := assertProblem(t, h.do("GET", "/api/v1/admin/keys", approvalKey, nil), 403)
	if !strings.Contains(p["detail"].(string), "admin") {
		t.Fatalf("403 detail does not name the scope: %v", p["detail"])
	}
	// Revoked keys stop working at once.
	adminKey, adminID := h.createKey("acme", ScopeAdmin)
	if r := h.do("GET", "/api/v1/admin/keys", adminKey, nil); r.status != 200 {
		t.Fatalf("admin key list = %d", r.status)
	}
	if r := h.do("DELETE", "/api/v1/admin/keys/"+adminID, adminToken, nil); r.status != 204 {
		t.Fatalf("revoke = %d %s", r.status, r.body)
	}
	assertProblem(t, h.do("GET", "/api/v1/admin/keys", adminKey, nil), 401)
}

func TestOtherOrgIsInvisible(t *testing.T) {
	h := newHarness(t)
	acmeAdmin, _ := h.createKey("acme", ScopeAdmin)
	_, globexKeyID := h.createKey("globex", ScopeSchedule)
	_, acmeKeyID := h.createKey("acme", ScopeSchedule)

	// Listing with an org admin key shows only its org, whatever the filter.
	r := h.do("GET", "/api/v1/admin/keys?org=globex", acmeAdmin, nil)
	if r.status != 200 {
		t.Fatalf("list = %d", r.status)
	}
	for _, k := range r.json(t)["items"].([]any) {
		if k.(map[string]any)["org"] != "acme" {
			t.Fatalf("acme admin key sees %v", k)
		}
		if _, leaked := k.(map[string]any)["key"]; leaked {
			t.Fatal("list leaks secrets")
		}
	}
	// Another org's key is 404, not 403: its existence is not revealed.
	assertProblem(t, h.do("DELETE", "/api/v1/admin/keys/"+globexKeyID, acmeAdmin, nil), 404)
	if r := h.do("DELETE", "/api/v1/admin/keys/"+acmeKeyID, acmeAdmin, nil); r.status != 204 {
		t.Fatalf("own-org revoke = %d", r.status)
	}
	// ... and it cannot mint keys for another org.
	assertProblem(t, h.do("POST", "/api/v1/admin/keys", acmeAdmin, map[string]any{"name": "x", "org": "globex", "scopes": []string{"ops"}}), 403)
	// The operator token sees everything.
	all := h.do("GET", "/api/v1/admin/keys", adminToken, nil).json(t)["items"].([]any)
	if len(all) != 3 {
		t.Fatalf("admin token lists %d keys, want 3", len(all))
	}
}

func TestValidationAndMalformedInput(t *testing.T) {
	h := newHarness(t)
	p := assertProblem(t, h.do("POST", "/api/v1/admin/keys", adminToken, `{"name": "x", "org": `), 400)
	if !strings.Contains(p["detail"].(string), "malformed JSON") {
		t.Fatalf("detail = %v", p["detail"])
	}
	assertProblem(t, h.do("POST", "/api/v1/admin/keys", adminToken, `{"name": "x"} {"again": 1}`), 400)
	assertProblem(t, h.do("POST", "/api/v1/admin/keys", adminToken, ``), 400)
	p = assertProblem(t, h.do("POST", "/api/v1/admin/keys", adminToken, map[string]any{"name": "", "org": "Bad Org", "scopes": []string{"admin", "nope"}}), 422)
	fields := map[string]bool{}
	for _, e := range p["errors"].([]any) {
		fields[e.(map[string]any)["field"].(string)] = true
	}
	for _, f := range []string{"name", "org", "scopes[1]"} {
		if !fields[f] {
			t.Fatalf("422 does not name field %s: %s", f, p["errors"])
		}
	}
	p = assertProblem(t, h.do("POST", "/api/v1/admin/keys", adminToken, map[string]any{"name": "x", "org": "acme", "scopes": []string{"ops"}, "colour": "red"}), 422)
	if p["errors"].([]any)[0].(map[string]any)["field"] != "colour" {
		t.Fatalf("unknown field not named: %s", p["errors"])
	}
	p = assertProblem(t, h.do("POST", "/api/v1/admin/keys", adminToken, map[string]any{"name": 5, "org": "acme", "scopes": []string{"ops"}}), 422)
	if p["errors"].([]any)[0].(map[string]any)["field"] != "name" {
		t.Fatalf("wrong-type field not named: %s", p["errors"])
	}
	r := h.do("POST", "/api/v1/admin/keys", adminToken, "<xml/>", "Content-Type", "application/xml")
	assertProblem(t, r, 415)
	assertProblem(t, h.do("GET", "/api/v1/nothing-here", adminToken, nil), 404)
	assertProblem(t, h.do("GET", "/no/such/path", "", nil), 404)
	assertProblem(t, h.do("PUT", "/health", "", nil), 405)
}

func TestBodyLimit(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.HTTPMaxBodyBytes = 4096 })
	big := `{"name": "` + strings.Repeat("x", 5000) + `", "org": "acme", "scopes": ["ops"]}`
	assertProblem(t, h.do("POST", "/api/v1/admin/keys", adminToken, big), 413)
	// Chunked (no Content-Length) bodies are cut off too.
	req, _ := http.NewRequest("POST", h.srv.URL+"/api/v1/admin/keys", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+adminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Fatalf("chunked oversized body = %d, want 413", res.StatusCode)
	}
}

func TestIdempotencyKey(t *testing.T) {
	h := newHarness(t)
	body := map[string]any{"name": "ci", "org": "acme", "scopes": []string{"schedule"}}
	first := h.do("POST", "/api/v1/admin/keys", adminToken, body, "Idempotency-Key", "create-ci-key")
	if first.status != 201 {
		t.Fatalf("first = %d %s", first.status, first.body)
	}
	again := h.do("POST", "/api/v1/admin/keys", adminToken, body, "Idempotency-Key", "create-ci-key")
	if again.status != 201 || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay = %d %q replayed=%q", again.status, again.body, again.header.Get("Idempotent-Replayed"))
	}
	if again.header.Get("Location") != first.header.Get("Location") {
		t.Fatal("replay lost the Location header")
	}
	n := len(h.do("GET", "/api/v1/admin/keys", adminToken, nil).json(t)["items"].([]any))
	if n != 1 {
		t.Fatalf("%d keys created, want 1", n)
	}
	body["name"] = "different"
	assertProblem(t, h.do("POST", "/api/v1/admin/keys", adminToken, body, "Idempotency-Key", "create-ci-key"), 409)
	// Failed validation is remembered too: the same bad request gives the same answer.
	bad := map[string]any{"name": "x"}
	r1 := h.do("POST", "/api/v1/admin/keys", adminToken, bad, "Idempotency-Key", "bad-one")
	r2 := h.do("POST", "/api/v1/admin/keys", adminToken, bad, "Idempotency-Key", "bad-one")
	if r1.status != 422 || r2.status != 422 {
		t.Fatalf("bad request statuses %d %d", r1.status, r2.status)
	}
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.RateLimitRPS = 0.5; c.RateLimitBurst = 3 })
	key, _ := h.createKey("acme", ScopeAdmin) // the admin token has its own bucket
	var limited response
	for i := 0; i < 5; i++ {
		r := h.do("GET", "/api/v1/admin/keys", key, nil)
		if r.status == 429 {
			limited = r
			break
		}
		if r.status != 200 {
			t.Fatalf("request %d = %d", i, r.status)
		}
	}
	assertProblem(t, limited, 429)
	if ra := limited.header.Get("Retry-After"); ra != "2" {
		t.Fatalf("Retry-After = %q, want 2 (one token per 2 s)", ra)
	}
	// Another key is not affected.
	other, _ := h.createKey("acme", ScopeAdmin)
	if r := h.do("GET", "/api/v1/admin/keys", other, nil); r.status != 200 {
		t.Fatalf("other key = %d", r.status)
	}
}

func TestAuditRows(t *testing.T) {
	h := newHarness(t)
	_, id := h.createKey("acme", ScopeOps)
	h.do("DELETE", "/api/v1/admin/keys/"+id, adminToken, nil, "User-Agent", "audit-test/1.0", "X-Request-ID", "req-audit-1")
	rows, err := dbsqlc.New(h.deps.DB).ListAuditLogs(context.Background(), dbsqlc.ListAuditLogsParams{MaxRows: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("audit rows = %d, want 2", len(rows))
	}
	rev := rows[1]
	if rev.Action != "keys.revoke" || rev.Actor != "admin-token" || rev.ResourceID != id || rev.RequestID != "req-audit-1" ||
		rev.UserAgent != "audit-test/1.0" || rev.Ip != "127.0.0.1" || rev.OrgID == nil || *rev.OrgID != "acme" {
		t.Fatalf("audit row = %+v", rev)
	}
	var details map[string]any
	if err := json.Unmarshal(rev.Details, &details); err != nil || details["prefix"] == "" {
		t.Fatalf("details not valid JSON with content: %s (%v)", rev.Details, err)
	}
}

func TestRequestID(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/health", "", nil, "X-Request-ID", "abc-123")
	if r.header.Get("X-Request-ID") != "abc-123" {
		t.Fatalf("X-Request-ID not echoed: %q", r.header.Get("X-Request-ID"))
	}
	r = h.do("GET", "/health", "", nil, "X-Request-ID", "bad id with spaces")
	if got := r.header.Get("X-Request-ID"); got == "" || got == "bad id with spaces" {
		t.Fatalf("unsafe X-Request-ID kept: %q", got)
	}
}

func TestPanicRecovery(t *testing.T) {
	h := newHarness(t)
	h.api.Router().Get("/panic-test", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	assertProblem(t, h.do("GET", "/panic-test", "", nil), 500)
	if r := h.do("GET", "/health", "", nil); r.status != 200 {
		t.Fatal("server unusable after a panic")
	}
}

func TestReadyAndVersion(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/ready", "", nil)
	if r.status != 200 {
		t.Fatalf("ready = %d %s", r.status, r.body)
	}
	v := h.do("GET", "/version", "", nil).json(t)
	for _, k := range []string{"version", "commit", "build_time", "go_version"} {
		if v[k] == "" || v[k] == nil {
			t.Fatalf("/version lacks %s: %v", k, v)
		}
	}
	h.nats.Shutdown()
	h.nats.WaitForShutdown()
	p := assertProblem(t, h.do("GET", "/ready", "", nil), 503)
	checks := p["checks"].(map[string]any)
	if checks["nats"].(map[string]any)["status"] != "fail" || checks["database"].(map[string]any)["status"] != "ok" {
		t.Fatalf("checks = %v", checks)
	}
	if !strings.Contains(p["detail"].(string), "nats") {
		t.Fatalf("503 does not name the failing part: %v", p["detail"])
	}
}

func TestMigrationsNotCurrentIsNotReady(t *testing.T) {
	h := newHarness(t)
	if _, err := h.deps.DB.Exec(context.Background(), `DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	p := assertProblem(t, h.do("GET", "/ready", "", nil), 503)
	if !strings.Contains(p["detail"].(string), "migrations") {
		t.Fatalf("detail = %v", p["detail"])
	}
}

// Every metric the ops manuals alert on is exposed from the first scrape.
func TestMetricsExposeEverySeries(t *testing.T) {
	h := newHarness(t)
	h.metrics.InitConsumer("approval")
	StartPoolMetrics(t.Context(), h.deps.DB, h.metrics)
	h.do("GET", "/health", "", nil)
	body := string(h.do("GET", "/metrics", "", nil).body)
	for _, name := range []string{
		"http_requests_total", "http_request_duration_seconds_bucket", "database_connections_active",
		"database_connections_idle", "database_connections_max", "events_processed_total",
		"event_processing_duration_seconds_bucket", "consumer_pending_messages", "outbox_pending_events",
		"failed_events_total", "go_goroutines", "process_resident_memory_bytes",
	} {
		if !strings.Contains(body, "\n"+name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	for _, o := range metrics.Outcomes {
		if !strings.Contains(body, fmt.Sprintf(`events_processed_total{consumer="approval",outcome="%s"} 0`, o)) {
			t.Errorf("outcome %s not pre-initialised", o)
		}
	}
	if !strings.Contains(body, `http_requests_total{method="GET",route="/health",status="200"} 1`) {
		t.Error("http_requests_total does not count by route pattern")
	}
}

// The OpenAPI document is valid and describes every route the router serves.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/openapi.json", "", nil)
	if r.status != 200 {
		t.Fatalf("/openapi.json = %d", r.status)
	}
	doc, err := openapi3.NewLoader().LoadFromData(r.body)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("invalid OpenAPI document: %v", err)
	}
	err = chi.Walk(h.api.Router(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.TrimSuffix(route, "/")
		if route == "" {
			route = "/"
		}
		item := doc.Paths.Find(route)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("route %s %s is not described in openapi.yaml", method, route)
		} else if item.GetOperation(method).OperationID == "" {
			// Client generators name their methods after it.
			t.Errorf("route %s %s has no operationId", method, route)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The access log is JSON with the fields operators grep for.
func TestAccessLogFields(t *testing.T) {
	h := newHarness(t)
	var buf syncBuffer
	h.api.deps.Log = slog.New(logging.NewHandler(&buf, "json", slog.LevelInfo))
	key, _ := h.createKey("acme", ScopeAdmin)
	h.do("GET", "/api/v1/admin/keys", key, nil, "X-Request-ID", "log-test-1")
	var entry map[string]any
	// The line is written as the handler returns, which may be just after the client has the response.
	for deadline := time.Now().Add(2 * time.Second); entry == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["request_id"] == "log-test-1" {
				entry = m
			}
		}
	}
	if entry == nil {
		t.Fatalf("no access log line for the request:\n%s", buf.String())
	}
	for k, want := range map[string]any{"org_id": "acme", "action": "keys.list", "route": "/api/v1/admin/keys", "message": "http request", "level": "info"} {
		if entry[k] != want {
			t.Errorf("log %s = %v, want %v", k, entry[k], want)
		}
	}
	for _, k := range []string{"actor", "duration_ms", "caller", "time", "status"} {
		if _, ok := entry[k]; !ok {
			t.Errorf("log lacks %s: %v", k, entry)
		}
	}
	if !strings.HasPrefix(entry["actor"].(string), "key:") {
		t.Errorf("actor = %v", entry["actor"])
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testCounter(c interface {
	Write(*dto.Metric) error
}) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}

// An endpoint is saved only once the fan-out's consumer has been widened to
// it: with JetStream down the API answers 503 and saves nothing.
func TestWebhookNotSavedWithoutJetStream(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.WebhookAllowCIDRs = "127.0.0.1/32" })
	key, _ := h.createKey("acme", "webhooks")
	h.nats.Shutdown()
	h.nats.WaitForShutdown()
	p := assertProblem(t, h.do("POST", "/api/v1/webhooks", key, map[string]any{"url": "http://127.0.0.1:9/hook", "event_types": []string{"*"}}), 503)
	if !strings.Contains(p["detail"].(string), "not saved") {
		t.Fatalf("detail = %v", p["detail"])
	}
	if items := h.do("GET", "/api/v1/webhooks", key, nil).json(t)["items"].([]any); len(items) != 0 {
		t.Fatalf("saved anyway: %v", items)
	}
}
