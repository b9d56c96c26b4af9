package api

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/shiftflow/shiftflow/internal/config"
)

// TestEveryRouteAnswersBadInputWithAProblem sends every operation in
// /openapi.json malformed bodies, wrong-typed fields, odd path segments,
// query values and headers. Whatever the route, the answer is a client error
// as problem+json (or a success), never a 5xx.
func TestEveryRouteAnswersBadInputWithAProblem(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.RateLimitRPS, c.RateLimitBurst = 1e6, 1e6 })
	key, keyID := h.createKey("acme", ScopeApproval, ScopeSchedule, ScopeWebhooks, ScopeOps, ScopeAdmin)
	seed := []struct {
		method, path string
		body         string
	}{
		{"PUT", "/api/v1/people/p1", `{"name": "P One"}`},
		{"PUT", "/api/v1/people/p2", `{"name": "P Two", "manager": "p1"}`},
		{"POST", "/api/v1/approval-templates", `{"id": "t1", "name": "T", "form": [{"name": "days", "type": "number"}, {"name": "reason", "type": "string"}],
			"nodes": [{"id": "start", "type": "start", "next": "n1"},
			  {"id": "n1", "type": "approval", "next": "end", "approval": {"mode": "single", "approvers": [{"type": "people", "people": ["p1"]}]}},
			  {"id": "end", "type": "end"}]}`},
		{"POST", "/api/v1/webhooks", `{"url": "http://8.8.8.8/hook", "event_types": ["approval.instance.*"]}`},
	}
	for _, s := range seed {
		if r := h.do(s.method, s.path, key, s.body); r.status >= 300 {
			t.Fatalf("seed %s %s: %d %s", s.method, s.path, r.status, r.body)
		}
	}
	// A NUL inside a free-form field is named, not accepted for a worker
	// that could never store it.
	p := assertProblem(t, h.do("POST", "/api/v1/approvals", key, `{"template_id": "t1", "initiator": "p2", "form": {"days": 1, "reason": "a\u0000b"}}`), 422)
	if errs := p["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["field"] != "form.reason" {
		t.Fatalf("NUL in a form field: %v", p["errors"])
	}
	doc, err := openapi3.NewLoader().LoadFromData(h.do("GET", "/openapi.json", "", nil).body)
	if err != nil {
		t.Fatal(err)
	}

	client := &http.Client{Timeout: 10 * time.Second}
	var sent, refused int
	send := func(method, path, token string, body []byte, headers map[string]string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var rd io.Reader
		if body != nil {
			rd = strings.NewReader(string(body))
		}
		req, err := http.NewRequestWithContext(ctx, method, h.srv.URL+path, rd)
		if err != nil {
			return // not a request a client could send
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Errorf("%s %s %.80s: %v", method, path, body, err)
			return
		}
		defer res.Body.Close()
		sent++
		if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
			return // a live stream that opened: nothing more to read
		}
		b, _ := io.ReadAll(res.Body)
		checkConformance(t, req, body, res.StatusCode, res.Header, b)
		if res.StatusCode >= 500 {
			t.Errorf("%s %s %.200s %q -> %d %s", method, path, body, headers, res.StatusCode, b)
			return
		}
		if res.StatusCode >= 400 {
			refused++
			var p struct {
				Status int    `json:"status"`
				Title  string `json:"title"`
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" || json.Unmarshal(b, &p) != nil || p.Status != res.StatusCode || p.Title == "" {
				t.Errorf("%s %s %.200s %q -> %d %q, not a problem: %s", method, path, body, headers, res.StatusCode, ct, b)
			}
		}
	}

	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	var ops int
	// Deletions go last, so the other routes meet the seeded resources.
	for _, deletes := range []bool{false, true} {
		for _, p := range paths {
			for method, op := range doc.Paths.Value(p).Operations() {
				if (method == http.MethodDelete) != deletes || p == "/api/v1/admin/keys/{id}" && method == http.MethodDelete {
					continue
				}
				ops++
				token := key
				if strings.HasPrefix(p, "/api/v1/admin/") {
					token = adminToken
				}
				for _, target := range sweepTargets(p, op, keyID) {
					var bodies [][]byte
					if op.RequestBody != nil {
						bodies = sweepBodies(op.RequestBody.Value)
					} else {
						bodies = [][]byte{nil}
					}
					for _, b := range bodies {
						send(method, target, token, b, nil)
					}
					for _, hdr := range []map[string]string{
						{"Idempotency-Key": strings.Repeat("k", 300)},
						{"Prefer": "wait=abc"},
						{"Prefer": "wait=99999999999999999999"},
						{"Content-Type": "application/json; charset=latin1"},
						{"Idempotency-Key": "\xff\xfe"},
						{"X-Request-ID": "\xff\xfe"},
						{"Prefer": "wait=\xff"},
						{"Last-Event-ID": "garbage"},
						{"Last-Event-ID": "99999999999999999999"},
						{"Last-Event-ID": "-1"},
					} {
						var b []byte
						if op.RequestBody != nil {
							b = []byte(`{}`)
						}
						send(method, target, token, b, hdr)
					}
				}
			}
		}
	}
	if ops < 50 {
		t.Fatalf("swept only %d operations", ops)
	}
	t.Logf("%d operations, %d requests, %d refused", ops, sent, refused)
	if refused*2 < sent {
		t.Fatalf("only %d of %d requests were refused: the sweep is not sending bad input", refused, sent)
	}
}

// sweepTargets are the operation's path with its parameters filled by known
// ids and by odd values, each with odd query values.
func sweepTargets(path string, op *openapi3.Operation, keyID string) []string {
	known := map[string]string{"/api/v1/people/": "p1", "/api/v1/approval-templates/": "t1", "/api/v1/admin/keys/": keyID}
	odd := []string{"00000000-0000-0000-0000-000000000000", "not-a-uuid", url.PathEscape(strings.Repeat("x", 600)), "%25zz", url.PathEscape("é\u0000"), "%FF%FE"}
	var filled []string
	if !strings.Contains(path, "{") {
		filled = []string{path}
	} else {
		id := ""
		for prefix, v := range known {
			if strings.HasPrefix(path, prefix) {
				id = v
			}
		}
		for _, v := range append([]string{id}, odd...) {
			if v == "" {
				continue
			}
			f := path
			for strings.Contains(f, "{") {
				i, j := strings.Index(f, "{"), strings.Index(f, "}")
				f = f[:i] + v + f[j+1:]
			}
			filled = append(filled, f)
		}
	}
	var query []string
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.In == "query" {
			query = append(query, p.Value.Name)
		}
	}
	var out []string
	for _, f := range filled {
		out = append(out, f)
		if len(query) == 0 {
			continue
		}
		for _, v := range []string{"", "-1", "0", "abc", "99999999999999999999", "2026-13-45", "%zz", "\xff\xfe", "a\x00b", strings.Repeat("9", 400)} {
			q := make([]string, len(query))
			for i, name := range query {
				q[i] = name + "=" + url.QueryEscape(v)
			}
			out = append(out, f+"?"+strings.Join(q, "&"))
		}
		out = append(out, f+"?limit=1&cursor=%ff%fe", f+"?"+query[0]+"=a&"+query[0]+"=b")
	}
	return out
}

// sweepBodies are malformed documents, then a well-typed skeleton of the
// schema with one field at a time replaced by a value of the wrong type, a
// null, an empty or huge string or an extreme number.
func sweepBodies(body *openapi3.RequestBody) [][]byte {
	out := [][]byte{nil, []byte(``), []byte(`{`), []byte(`[]`), []byte(`null`), []byte(`"x"`), []byte(`{}`),
		[]byte(`{"a":` + strings.Repeat(`[`, 5000) + strings.Repeat(`]`, 5000) + `}`), []byte(`{"x": 1e999}`)}
	mt := body.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return out
	}
	skeleton := skeletonOf(mt.Schema.Value, 0)
	m, ok := skeleton.(map[string]any)
	if !ok {
		return out
	}
	add := func(v any) {
		b, _ := json.Marshal(v)
		out = append(out, b)
	}
	add(m)
	names := slices.Sorted(maps.Keys(m))
	bad := []any{nil, 1e300, -1, "", strings.Repeat("x", 10000), true, []any{}, map[string]any{}, "\u0000", []any{nil, 1, "x"}}
	for _, name := range names {
		for _, v := range bad {
			c := maps.Clone(m)
			c[name] = v
			add(c)
		}
		// One level down: the first element or member of the field.
		switch inner := m[name].(type) {
		case []any:
			for _, v := range bad {
				c := maps.Clone(m)
				c[name] = []any{v}
				add(c)
			}
		case map[string]any:
			for k := range inner {
				for _, v := range bad {
					c := maps.Clone(m)
					ic := maps.Clone(inner)
					ic[k] = v
					c[name] = ic
					add(c)
				}
			}
		}
	}
	return out
}

// skeletonOf is a value of the schema's declared types.
func skeletonOf(s *openapi3.Schema, depth int) any {
	if depth > 4 {
		return nil
	}
	for _, alt := range [][]*openapi3.SchemaRef{s.OneOf, s.AnyOf, s.AllOf} {
		if len(alt) > 0 && alt[0].Value != nil {
			return skeletonOf(alt[0].Value, depth+1)
		}
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	switch {
	case s.Type.Is("object") || len(s.Properties) > 0:
		m := map[string]any{}
		for name, p := range s.Properties {
			if p.Value != nil {
				m[name] = skeletonOf(p.Value, depth+1)
			}
		}
		return m
	case s.Type.Is("array"):
		if s.Items != nil && s.Items.Value != nil {
			return []any{skeletonOf(s.Items.Value, depth+1)}
		}
		return []any{}
	case s.Type.Is("integer"):
		return 1
	case s.Type.Is("number"):
		return 1.5
	case s.Type.Is("boolean"):
		return true
	case s.Type.Is("string"):
		switch s.Format {
		case "date":
			return "2026-12-07"
		case "date-time":
			return "2026-12-07T09:00:00Z"
		case "uuid":
			return "00000000-0000-0000-0000-000000000000"
		}
		return "x"
	}
	return "x"
}
