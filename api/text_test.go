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
