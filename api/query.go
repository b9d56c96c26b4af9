package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"
)

// documentedQuery lists, per "METHOD /path/{}", the query parameters the
// OpenAPI document gives the operation. Read from the served document, so
// the two cannot drift apart.
var documentedQuery = sync.OnceValues(func() (map[string]map[string]bool, error) {
	b, err := openAPIJSON()
	if err != nil {
		return nil, err
	}
	type param struct {
		Ref  string `json:"$ref"`
		Name string `json:"name"`
		In   string `json:"in"`
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]param `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	resolve := func(ps []param) ([]param, error) {
		out := make([]param, 0, len(ps))
		for _, p := range ps {
			if p.Ref != "" {
				q, ok := doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
				if !ok {
					return nil, fmt.Errorf("openapi: unknown parameter %s", p.Ref)
				}
				p = q
			}
			out = append(out, p)
		}
		return out, nil
	}
	out := map[string]map[string]bool{}
	for path, item := range doc.Paths {
		var shared []param
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &shared); err != nil {
				return nil, err
			}
		}
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			var op struct {
				Parameters []param `json:"parameters"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, err
			}
			ps, err := resolve(append(append([]param{}, shared...), op.Parameters...))
			if err != nil {
				return nil, err
			}
			names := map[string]bool{}
			for _, p := range ps {
				if p.In == "query" {
					names[p.Name] = true
				}
			}
			out[strings.ToUpper(method)+" "+templateKey(path)] = names
		}
	}
	return out, nil
})

var pathParam = regexp.MustCompile(`\{[^}]*\}`)

// templateKey makes chi's and OpenAPI's path templates comparable whatever
// their parameter names.
func templateKey(pattern string) string { return pathParam.ReplaceAllString(pattern, "{}") }

// knownQuery refuses query parameters the operation does not have: a
// misspelt filter (?stauts=running) would otherwise be ignored and answer
// with everything.
func (s *Server) knownQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "" {
			next.ServeHTTP(w, r)
			return
		}
		pattern := s.router.Find(chi.NewRouteContext(), r.Method, r.URL.Path)
		known, err := documentedQuery()
		if pattern == "" || err != nil {
			next.ServeHTTP(w, r) // no route: the 404 says so
			return
		}
		allowed, ok := known[r.Method+" "+templateKey(strings.TrimSuffix(pattern, "/"))]
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		var unknown []string
		for k := range r.URL.Query() {
			if !allowed[k] {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		sort.Strings(unknown)
		names := make([]string, 0, len(allowed))
		for k := range allowed {
			names = append(names, k)
		}
		sort.Strings(names)
		reason := "not a parameter of this operation"
		if len(names) > 0 {
			reason += "; it takes " + strings.Join(names, ", ")
		}
		errs := make([]FieldError, len(unknown))
		for i, k := range unknown {
			errs[i] = FieldError{Field: k, Reason: reason}
		}
		problem(w, r, http.StatusUnprocessableEntity, "unknown query parameter", errs...)
	})
}
