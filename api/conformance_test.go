package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// specRouter finds the OpenAPI operation of a request, for holding every
// response the tests get to what /openapi.json promises integrators.
var specRouter = sync.OnceValues(func() (routers.Router, error) {
	b, err := OpenAPIDocument()
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	// The document's server is "/", which the router would compare with
	// each test server's host.
	doc.Servers = nil
	return legacy.NewRouter(doc)
})

// checkConformance fails the test when a response's status is documented
// for its operation but its body or headers do not match the schema given
// there, or when the server accepted (2xx) a request the document forbids.
// Undocumented routes and statuses are for other tests.
func checkConformance(t *testing.T, req *http.Request, reqBody []byte, status int, header http.Header, body []byte) {
	t.Helper()
	if status < 300 {
		if err := requestConformanceError(req, reqBody); err != nil {
			t.Errorf("%s %s was accepted (%d) though /openapi.json forbids it: %v\nrequest: %.600s", req.Method, req.URL.RequestURI(), status, err, reqBody)
		}
	}
	if err := conformanceError(req, status, header, body); err != nil {
		t.Errorf("%s %s answered %d, which does not match /openapi.json: %v\nbody: %.600s", req.Method, req.URL.Path, status, err, body)
	}
}

func requestConformanceError(req *http.Request, body []byte) error {
	router, err := specRouter()
	if err != nil {
		return err
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		return nil
	}
	// The API takes a member set to null as left out (README, errors).
	var doc any
	if json.Unmarshal(body, &doc) == nil {
		body, _ = json.Marshal(withoutNullMembers(doc))
	}
	r := req.Clone(context.Background())
	r.Body, r.GetBody, r.ContentLength = io.NopCloser(bytes.NewReader(body)), nil, int64(len(body))
	return openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: r, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	})
}

func withoutNullMembers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, m := range v {
			if m == nil {
				delete(v, k)
			} else {
				v[k] = withoutNullMembers(m)
			}
		}
	case []any:
		for i := range v {
			v[i] = withoutNullMembers(v[i])
		}
	}
	return v
}

func conformanceError(req *http.Request, status int, header http.Header, body []byte) error {
	router, err := specRouter()
	if err != nil {
		return err
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		return nil
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, ExcludeRequestBody: true, MultiError: true}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// The check finds the operation of a test server's URL and holds a body to
// its schema; if it stopped finding routes it would pass everything.
func TestConformanceCheckRejectsAMismatch(t *testing.T) {
	req, _ := http.NewRequest("GET", "http://127.0.0.1:45678/api/v1/approvals/0193e0a0-0000-7000-8000-000000000000", nil)
	json := http.Header{"Content-Type": {"application/json"}}
	if err := conformanceError(req, 200, json, []byte(`{"id": 5}`)); err == nil {
		t.Fatal("an instance with a numeric id and no status passed the check")
	}
	problem := http.Header{"Content-Type": {"application/problem+json"}}
	if err := conformanceError(req, 404, problem, []byte(`{"type":"about:blank","title":"Not Found","status":404}`)); err != nil {
		t.Fatalf("a valid problem failed the check: %v", err)
	}
	if err := conformanceError(req, 404, problem, []byte(`{"title":"Not Found"}`)); err == nil {
		t.Fatal("a problem without type and status passed the check")
	}
}
