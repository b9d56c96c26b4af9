package api

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestJSONNUL(t *testing.T) {
	for _, c := range []struct {
		doc, path string
		found     bool
	}{
		{`{"a": "x"}`, "", false},
		{`{"a": "x\\u0000"}`, "", false}, // an escaped backslash, then text
		{`{"a": "x\u0000"}`, "a", true},
		{`"\u0000"`, "(body)", true},
		{`{"form": {"days": 3, "reason": "a\u0000b"}}`, "form.reason", true},
		{`{"items": [{"actor": "x"}, {"actor": "y"}, {"actor": "\u0000"}]}`, "items[2].actor", true},
		{`{"a": [[1, 2], ["x", "\u0000"]]}`, "a[1][1]", true},
		{`{"form": {"k\u0000": 1}}`, "form.k\x00", true},
		{`{"a": {"b": null, "c": [true, {}], "d": "\u0000"}}`, "a.d", true},
		{`[1, {"x": "\u0000"}]`, "[1].x", true},
		{`{"a": "\u0000", "a": "x"}`, "a", true}, // refused though the decoder keeps the last
		{`{"a": 1e5, "b": -0.5, "c": false, "d": "\u0000"}`, "d", true},
	} {
		path, found := jsonNUL([]byte(c.doc))
		if path != c.path || found != c.found {
			t.Errorf("jsonNUL(%s) = %q, %v; want %q, %v", c.doc, path, found, c.path, c.found)
		}
	}
	if f := nulField("form.k\x00"); f.Field != `form.k\u0000` {
		t.Errorf("field %q keeps the NUL", f.Field)
	}
}

func TestTextLine(t *testing.T) {
	for _, c := range []struct {
		body string
		line int
	}{
		{"a\nb\n", 0},
		{"a\nb\x00\n", 2},
		{"\xff\n", 1},
		{"a\nb\nc\xc3", 3},
	} {
		if got := textLine([]byte(c.body)); got != c.line {
			t.Errorf("textLine(%q) = %d, want %d", c.body, got, c.line)
		}
	}
}

// FuzzJSONNUL holds the scanner to the decoder: whenever a valid document
// decodes to a key or string holding a NUL, jsonNUL finds one. (It may also
// find one the decoder drops: a duplicate key's earlier value.)
func FuzzJSONNUL(f *testing.F) {
	for _, s := range []string{`{"a": "x\u0000"}`, `[1, {"x": ["\u0000"]}]`, `{"a\\u0000": 1}`, `"x"`, `{"a": {"b": [null, true, 1.5]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var v any
		if json.Unmarshal(doc, &v) != nil {
			return
		}
		_, found := jsonNUL(doc)
		if holdsNUL(v) && !found {
			t.Fatalf("jsonNUL(%s) missed the NUL the decoder sees", doc)
		}
	})
}

func holdsNUL(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.IndexByte(x, 0) >= 0
	case []any:
		for _, e := range x {
			if holdsNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.IndexByte(k, 0) >= 0 || holdsNUL(e) {
				return true
			}
		}
	}
	return false
}

// Requests whose meaning would be a guess are refused with the field named,
// not read one way silently: a null body (every field left out), a query
// parameter given twice or unknown to the operation, an unknown template
// kind, a batch without its actor or with an item naming no instance.
func TestAmbiguousRequestsAreRefused(t *testing.T) {
	h := newHarness(t)
	key, _ := h.createKey("acme", ScopeApproval, ScopeAdmin)
	cases := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"null settings", "PUT", "/api/v1/settings", "null", 422, ""},
		{"null approval", "POST", "/api/v1/approvals", " null\n", 422, ""},
		{"repeated filter", "GET", "/api/v1/approvals?initiator=ann&initiator=ben", nil, 422, "initiator"},
		{"repeated limit", "GET", "/api/v1/people?limit=5&limit=50", nil, 422, "limit"},
		{"unknown kind", "GET", "/api/v1/approval-templates?kind=holiday", nil, 422, "kind"},
		{"misspelt filter", "GET", "/api/v1/approvals?stauts=running", nil, 422, "stauts"},
		{"parameter of another operation", "GET", "/api/v1/approval-templates/leave?limit=5", nil, 422, "limit"},
		{"query on a create", "POST", "/api/v1/approvals?template=leave", `{}`, 422, "template"},
		{"batch without actor", "POST", "/api/v1/tasks:batch-approve", `{"items":[{"instance_id":"0193e0a0-0000-7000-8000-000000000000"}]}`, 422, "actor"},
		{"batch item without instance", "POST", "/api/v1/tasks:batch-approve", `{"actor":"ann","items":[{"instance_id":"0193e0a0-0000-7000-8000-000000000000"},{"task_id":"t1"}]}`, 422, "items[1].instance_id"},
		{"null batch item", "POST", "/api/v1/tasks:batch-transfer", `{"actor":"ann","to":"ben","items":[null]}`, 422, "items[0].instance_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := assertProblem(t, h.do(c.method, c.path, key, c.body), c.status)
			if c.field == "" {
				return
			}
			errs, _ := p["errors"].([]any)
			for _, e := range errs {
				if e.(map[string]any)["field"] == c.field {
					return
				}
			}
			t.Fatalf("no error names %q: %v", c.field, p)
		})
	}
	// The unambiguous forms still work.
	for _, path := range []string{"/api/v1/approvals?initiator=ann", "/api/v1/approval-templates?kind=leave", "/api/v1/approval-templates?kind=", "/api/v1/people?limit=5", "/api/v1/people?department=eng&limit=5"} {
		if r := h.do("GET", path, key, nil); r.status != 200 {
			t.Errorf("GET %s = %d: %s", path, r.status, r.body)
		}
	}
}
