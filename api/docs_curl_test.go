package api

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDocumentedCurlCommandsMatchTheAPI reads every curl command in the
// README, the operations manuals and the runbooks and holds it to the served
// OpenAPI document: the method and path exist, and a command that sends a
// body says what it is (without the header curl sends a form, which the API
// refuses with 415). The README walkthrough runs for real elsewhere; these
// commands have placeholders ($ID, {key_id}) and cannot.
func TestDocumentedCurlCommandsMatchTheAPI(t *testing.T) {
	doc, err := OpenAPIDocument()
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &spec); err != nil {
		t.Fatal(err)
	}
	known, err := documentedQuery()
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"../README.md", "../docs/operations.md", "../docs/operations.zh.md"}
	runbooks, _ := filepath.Glob("../ops/runbooks/*.md")
	files = append(files, runbooks...)
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range curlCommands(string(b)) {
			path, query, ok := localAPIPath(c.url)
			if !ok {
				continue
			}
			checked++
			where := f + ":" + strconv.Itoa(c.line)
			specPath, ops := matchPath(spec.Paths, path)
			if ops == nil {
				t.Errorf("%s: %s is not a route in /openapi.json", where, path)
				continue
			}
			raw, ok := ops[strings.ToLower(c.method)]
			var op struct {
				RequestBody struct {
					Content map[string]any `json:"content"`
				} `json:"requestBody"`
			}
			if ok {
				if err := json.Unmarshal(raw, &op); err != nil {
					t.Fatal(err)
				}
			} else {
				t.Errorf("%s: %s %s is not an operation in /openapi.json", where, c.method, path)
				continue
			}
			for name := range query {
				if !known[c.method+" "+templateKey(specPath)][name] {
					t.Errorf("%s: %s %s has no query parameter %q", where, c.method, path, name)
				}
			}
			if !c.hasBody {
				continue
			}
			if c.contentType == "" {
				t.Errorf("%s: %s %s sends a body without a Content-Type header (curl would send a form: 415)", where, c.method, path)
			} else if _, ok := op.RequestBody.Content[c.contentType]; !ok {
				t.Errorf("%s: %s %s sends %s, which the operation does not accept", where, c.method, path, c.contentType)
			}
		}
	}
	// The files hold a few dozen; far fewer means the reader lost track.
	t.Logf("%d curl commands checked", checked)
	if checked < 20 {
		t.Fatalf("only %d curl commands found in the docs", checked)
	}
}

type curlCommand struct {
	line        int
	method, url string
	hasBody     bool
	contentType string
}

// curlCommands finds curl invocations in Markdown: in code blocks (with
// backslash continuations) and in inline code.
func curlCommands(text string) []curlCommand {
	var out []curlCommand
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		start := i
		s := lines[i]
		for strings.HasSuffix(strings.TrimSpace(s), `\`) && i+1 < len(lines) {
			s = strings.TrimSuffix(strings.TrimSpace(s), `\`) + " " + lines[i+1]
			i++
		}
		for {
			j := strings.Index(s, "curl ")
			if j < 0 || (j > 0 && !strings.ContainsRune(" \t`(;|&$", rune(s[j-1]))) {
				break
			}
			s = s[j+len("curl "):]
			end := len(s)
			if k := strings.IndexByte(s, '`'); k >= 0 {
				end = k
			}
			c := parseCurl(shellWords(s[:end]))
			c.line = start + 1
			if c.url != "" {
				out = append(out, c)
			}
			s = s[end:]
		}
	}
	return out
}

// parseCurl reads the options the docs use; the first word that is not an
// option or its value is the URL.
func parseCurl(words []string) curlCommand {
	var c curlCommand
	explicit := ""
	for k := 0; k < len(words); k++ {
		w := words[k]
		next := func() string {
			if k+1 < len(words) {
				k++
				return words[k]
			}
			return ""
		}
		switch {
		case w == "#" || strings.HasPrefix(w, "#") || w == "|" || w == ";" || w == "&&":
			k = len(words)
		case w == "-X" || w == "--request":
			explicit = next()
		case w == "-d" || w == "--data" || w == "--data-raw" || w == "--data-binary" || w == "--json":
			next()
			c.hasBody = true
			if w == "--json" {
				c.contentType = "application/json"
			}
		case w == "-H" || w == "--header":
			h := next()
			if name, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "content-type") {
				c.contentType = strings.TrimSpace(strings.SplitN(v, ";", 2)[0])
			}
		case w == "-o" || w == "-u" || w == "-w" || w == "--max-time" || w == "-m" || w == "--cacert":
			next()
		case strings.HasPrefix(w, "-"):
		default:
			if c.url == "" {
				c.url = w
			}
		}
	}
	switch {
	case explicit != "":
		c.method = explicit
	case c.hasBody:
		c.method = "POST"
	default:
		c.method = "GET"
	}
	return c
}

// shellWords splits like a shell for the quoting the docs use.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			} else {
				cur.WriteByte(ch)
			}
		case ch == '\'' || ch == '"':
			quote, in = ch, true
		case ch == ' ' || ch == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(ch)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// localAPIPath returns the path of a URL aimed at shiftflow's API port (the
// docs write localhost:8080, http://localhost:8080 or $SF); others, such as
// NATS monitoring or pprof, are not the API's.
func localAPIPath(u string) (string, url.Values, bool) {
	u = strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")
	host, path, ok := strings.Cut(u, "/")
	if !ok || (host != "localhost:8080" && host != "127.0.0.1:8080" && host != "$SF") {
		return "", nil, false
	}
	path, rawQuery, _ := strings.Cut("/"+path, "?")
	query, _ := url.ParseQuery(rawQuery)
	return path, query, true
}

// matchPath finds the OpenAPI path item for a documented path: a template
// segment ({id}) matches anything, a placeholder ($ID, {key_id}) only a
// template segment. The item with the most literal segments wins, as in
// the router (/schedules/validate before /schedules/{id}).
func matchPath[T any](paths map[string]T, path string) (string, T) {
	var best T
	var bestPath string
	bestLiterals := -1
	got := strings.Split(path, "/")
	for p, item := range paths {
		want := strings.Split(p, "/")
		if len(want) != len(got) {
			continue
		}
		literals := 0
		for i := range want {
			param := strings.HasPrefix(want[i], "{")
			placeholder := strings.HasPrefix(got[i], "$") || strings.HasPrefix(got[i], "{")
			switch {
			case param && got[i] != "":
			case !placeholder && want[i] == got[i]:
				literals++
			default:
				literals = -1
			}
			if literals < 0 {
				break
			}
		}
		if literals > bestLiterals {
			best, bestPath, bestLiterals = item, p, literals
		}
	}
	return bestPath, best
}
