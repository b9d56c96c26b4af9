package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// PostgreSQL text and jsonb cannot hold U+0000, and text must be valid
// UTF-8. Input that breaks either is refused here, naming where it is,
// instead of failing in the database (a 500 in the API, or worse a command
// accepted with 202 that no worker can store).

const textReason = "must be UTF-8 text without NUL (U+0000) characters"

func storableText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// requireText refuses a path or query string that is not storable text, and
// a query string that does not parse (url.Values would drop the pair).
func requireText(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !storableText(r.URL.Path) {
			problem(w, r, http.StatusBadRequest, "the path "+textReason)
			return
		}
		if r.URL.RawQuery != "" {
			qs, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				problem(w, r, http.StatusBadRequest, "the query string is malformed: "+err.Error())
				return
			}
			for k, vs := range qs {
				// Every parameter takes one value; which of several would
				// count is a guess the API does not make.
				if len(vs) > 1 {
					problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter",
						FieldError{Field: strings.ToValidUTF8(strings.ReplaceAll(k, "\x00", ""), "?"), Reason: "given more than once; give it once"})
					return
				}
				ok := storableText(k)
				for _, v := range vs {
					ok = ok && storableText(v)
				}
				if !ok {
					problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter",
						FieldError{Field: strings.ToValidUTF8(strings.ReplaceAll(k, "\x00", ""), "?"), Reason: textReason})
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// jsonNUL finds the first key or string value holding U+0000 in a valid
// JSON document and returns its path (form.reason, items[2].actor; "(body)"
// for a top-level string). Raw bytes are checked first, so documents without
// the escape cost one scan.
func jsonNUL(doc []byte) (path string, found bool) {
	if !bytes.Contains(doc, []byte(`\u0000`)) {
		return "", false
	}
	type frame struct {
		object   bool
		key      string
		index    int
		awaitKey bool
	}
	var stack []frame
	where := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.object {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			} else {
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			}
		}
		if b.Len() == 0 {
			return "(body)"
		}
		return b.String()
	}
	// A value ends: the enclosing object wants a key next, an array moves on.
	valueDone := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].object {
				stack[n-1].awaitKey = true
			} else {
				stack[n-1].index++
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, frame{object: true, awaitKey: true})
			case '[':
				stack = append(stack, frame{})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].awaitKey {
				stack[n-1].key, stack[n-1].awaitKey = t, false
				if strings.IndexByte(t, 0) >= 0 {
					return where(), true
				}
				continue
			}
			if strings.IndexByte(t, 0) >= 0 {
				return where(), true
			}
			valueDone()
		default:
			valueDone()
		}
	}
}

// nulField is the 422 field error for a NUL found at path.
func nulField(path string) FieldError {
	return FieldError{Field: strings.ReplaceAll(path, "\x00", `\u0000`), Reason: textReason}
}

// textLine is the 1-based line of a text body holding a NUL or invalid
// UTF-8, or 0 when it has none.
func textLine(body []byte) int {
	if utf8.Valid(body) && bytes.IndexByte(body, 0) < 0 {
		return 0
	}
	for i, line := range bytes.Split(body, []byte("\n")) {
		if !utf8.Valid(line) || bytes.IndexByte(line, 0) >= 0 {
			return i + 1
		}
	}
	return 0
}
