package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/shiftflow/shiftflow/flow"
	"github.com/shiftflow/shiftflow/workers/approval"
	"github.com/shiftflow/shiftflow/workers/schedule"
	webhooks "github.com/shiftflow/shiftflow/workers/webhook"
)

// specDoc is the served OpenAPI document, loaded and validated.
var specDoc = sync.OnceValues(func() (*openapi3.T, error) {
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
	// An object schema that lists its properties lists all of them: a field
	// the server sends that the document does not name fails the check.
	closeObjects(doc)
	return doc, nil
})

// closeObjects sets additionalProperties false on every object schema that
// lists properties and says nothing about others, except the parts of an
// allOf, which list only their own (a part used elsewhere stays open too).
func closeObjects(doc *openapi3.T) {
	var all []*openapi3.Schema
	parts := map[*openapi3.Schema]bool{}
	seen := map[*openapi3.Schema]bool{}
	var visit func(s *openapi3.Schema)
	visit = func(s *openapi3.Schema) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		all = append(all, s)
		for _, r := range s.AllOf {
			parts[r.Value] = true
		}
		var subs []*openapi3.SchemaRef
		for _, p := range s.Properties {
			subs = append(subs, p)
		}
		subs = append(append(append(subs, s.OneOf...), s.AnyOf...), s.AllOf...)
		subs = append(subs, s.Items, s.AdditionalProperties.Schema)
		for _, r := range subs {
			if r != nil {
				visit(r.Value)
			}
		}
	}
	eachSchema(doc, visit)
	for _, s := range all {
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil && !parts[s] {
			no := false
			s.AdditionalProperties.Has = &no
		}
	}
}

// eachSchema calls f on every top-level schema of the document: components,
// responses and request bodies.
func eachSchema(doc *openapi3.T, f func(*openapi3.Schema)) {
	for _, r := range doc.Components.Schemas {
		f(r.Value)
	}
	for _, r := range doc.Components.Responses {
		for _, mt := range r.Value.Content {
			if mt.Schema != nil {
				f(mt.Schema.Value)
			}
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, r := range op.Responses.Map() {
				for _, mt := range r.Value.Content {
					if mt.Schema != nil {
						f(mt.Schema.Value)
					}
				}
			}
			if op.RequestBody != nil {
				for _, mt := range op.RequestBody.Value.Content {
					if mt.Schema != nil {
						f(mt.Schema.Value)
					}
				}
			}
		}
	}
}

// specRouter finds the OpenAPI operation of a request, for holding every
// response the tests get to what /openapi.json promises integrators.
var specRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := specDoc()
	if err != nil {
		return nil, err
	}
	return legacy.NewRouter(doc)
})

// eventDataSchema names the schema the data of an event type follows (see
// EventType in the document).
func eventDataSchema(typ string) string {
	switch {
	case typ == "approval.command.rejected":
		return "ApprovalCommandRejectedData"
	case strings.HasPrefix(typ, "approval.template."):
		return "ApprovalTemplateEventData"
	case strings.HasPrefix(typ, "approval."):
		return "ApprovalEventData"
	case typ == "schedule.roster.published":
		return "ScheduleRosterPublishedData"
	case strings.HasPrefix(typ, "schedule.run."):
		return "ScheduleRunEventData"
	case typ == "webhook.endpoint.disabled":
		return "WebhookEndpointDisabledData"
	}
	return ""
}

// eventConformanceError holds an event as subscribers get it (webhooks, the
// stream, NATS) to the document: the envelope, a listed type, and the data
// schema of that type.
func eventConformanceError(raw []byte) error {
	doc, err := specDoc()
	if err != nil {
		return err
	}
	var env map[string]any
	if err := json.Unmarshal(raw, &env); err != nil {
		return err
	}
	if err := doc.Components.Schemas["LoggedEvent"].Value.VisitJSON(env); err != nil {
		return fmt.Errorf("envelope: %w", err)
	}
	typ, _ := env["type"].(string)
	name := eventDataSchema(typ)
	if name == "" {
		return fmt.Errorf("type %q has no data schema", typ)
	}
	if err := doc.Components.Schemas[name].Value.VisitJSON(env["data"]); err != nil {
		return fmt.Errorf("data of %s (%s): %w", typ, name, err)
	}
	return nil
}

// checkConformance fails the test when a response's status is documented
// for its operation but its body or headers do not match the schema given
// there, or when the server accepted (2xx) a request the document forbids.
// Undocumented routes and statuses are for other tests.
func checkConformance(t *testing.T, req *http.Request, reqBody []byte, status int, header http.Header, body []byte) {
	t.Helper()
	if _, err := specDoc(); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if status < 300 {
		if err := requestConformanceError(req, reqBody); err != nil {
			t.Errorf("%s %s was accepted (%d) though /openapi.json forbids it: %v\nrequest: %.600s", req.Method, req.URL.RequestURI(), status, err, reqBody)
		}
	}
	if err := conformanceError(req, status, header, body); err != nil {
		t.Errorf("%s %s answered %d, which does not match /openapi.json: %v\nbody: %.600s", req.Method, req.URL.Path, status, err, body)
	}
}

// specRoute finds the operation of a request; nil when the document has
// none (an unknown route is for other tests).
func specRoute(req *http.Request) (*routers.Route, map[string]string, error) {
	router, err := specRouter()
	if err != nil {
		return nil, nil, err
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		return nil, nil, nil
	}
	return route, params, nil
}

func requestConformanceError(req *http.Request, body []byte) error {
	route, params, err := specRoute(req)
	if route == nil {
		return err
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
	route, params, err := specRoute(req)
	if route == nil {
		return err
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

// Every listed event type has a data schema, and the list names every type
// the code emits (the e2e tests also hold each event they see to it).
func TestEveryEventTypeHasADataSchema(t *testing.T) {
	doc, err := specDoc()
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, v := range doc.Components.Schemas["EventType"].Value.Enum {
		listed[v.(string)] = true
		if eventDataSchema(v.(string)) == "" {
			t.Errorf("%s has no data schema", v)
		}
	}
	emitted := append([]string{
		flow.EventInstanceSubmitted, flow.EventInstanceApproved, flow.EventInstanceRejected, flow.EventInstanceWithdrawn,
		flow.EventInstanceCancelled, flow.EventInstanceReturned, flow.EventInstanceResubmitted,
		flow.EventTaskCreated, flow.EventTaskApproved, flow.EventTaskRejected, flow.EventTaskTransferred, flow.EventTaskDelegated,
		flow.EventTaskTimedOut, flow.EventTaskReminded, flow.EventTaskUrged, flow.EventTaskCancelled, flow.EventTaskWithdrawn,
		flow.EventCCSent, flow.EventCommentAdded, flow.EventLeaveApproved, flow.EventShiftSwapApproved,
		approval.EventCommandRejected, approval.EventTemplateCreated, approval.EventTemplateUpdated, approval.EventTemplateDeleted,
		webhooks.EventEndpointDisabled,
	}, schedule.EventTypes...)
	for _, typ := range emitted {
		if !listed[typ] {
			t.Errorf("%s is emitted but not listed in EventType", typ)
		}
	}
	if len(listed) != len(emitted) {
		t.Errorf("EventType lists %d types, the code emits %d", len(listed), len(emitted))
	}
	bad := []byte(`{"specversion":"1.0","id":"0193e0a0-0000-7000-8000-000000000000","source":"x","type":"schedule.roster.published","subject":"s","time":"2026-01-01T00:00:00Z","datacontenttype":"application/json","orgid":"acme","data":{"schedule_id":"0193e0a0-0000-7000-8000-000000000000"}}`)
	if eventConformanceError(bad) == nil {
		t.Error("a published roster without its dates passed the check")
	}
}
