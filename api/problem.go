package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// FieldError names one invalid input field and why.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Instance  string       `json:"instance,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`
	// Extensions are merged into the top-level object (RFC 9457 §3.2).
	Extensions map[string]any `json:"-"`
}

// MarshalJSON flattens extension members into the object.
func (p Problem) MarshalJSON() ([]byte, error) {
	type plain Problem
	b, err := json.Marshal(plain(p))
	if err != nil || len(p.Extensions) == 0 {
		return b, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range p.Extensions {
		if _, taken := m[k]; !taken {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// problemTypes maps a status to a stable type URI and title.
var problemTypes = map[int][2]string{
	http.StatusBadRequest:            {"bad-request", "Bad request"},
	http.StatusUnauthorized:          {"unauthorized", "Missing or invalid API key"},
	http.StatusForbidden:             {"forbidden", "Not allowed"},
	http.StatusNotFound:              {"not-found", "Not found"},
	http.StatusMethodNotAllowed:      {"method-not-allowed", "Method not allowed"},
	http.StatusNotAcceptable:         {"not-acceptable", "Not acceptable"},
	http.StatusConflict:              {"conflict", "Conflict"},
	http.StatusGone:                  {"gone", "Gone"},
	http.StatusRequestEntityTooLarge: {"payload-too-large", "Request body too large"},
	http.StatusUnsupportedMediaType:  {"unsupported-media-type", "Unsupported media type"},
	http.StatusUnprocessableEntity:   {"validation", "Invalid input"},
	http.StatusTooManyRequests:       {"rate-limited", "Too many requests"},
	http.StatusInternalServerError:   {"internal", "Internal server error"},
	http.StatusServiceUnavailable:    {"unavailable", "Service unavailable"},
	http.StatusGatewayTimeout:        {"timeout", "Timed out"},
}

// ProblemTypeURI is the type URI for a problem slug.
func ProblemTypeURI(slug string) string { return "urn:shiftflow:problem:" + slug }

// NewProblem builds a problem for status with a detail message.
func NewProblem(status int, detail string, errs ...FieldError) *Problem {
	t, ok := problemTypes[status]
	if !ok {
		t = [2]string{strconv.Itoa(status), http.StatusText(status)}
	}
	return &Problem{Type: ProblemTypeURI(t[0]), Title: t[1], Status: status, Detail: detail, Errors: errs}
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail) }

// writeProblem sends p as application/problem+json.
func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	if p.Instance == "" {
		p.Instance = r.URL.Path
	}
	if info := requestInfoFrom(r.Context()); info != nil {
		p.RequestID = info.RequestID
		if p.Status >= 500 && info.Error == "" {
			info.Error = p.Detail
		}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func problem(w http.ResponseWriter, r *http.Request, status int, detail string, errs ...FieldError) {
	writeProblem(w, r, NewProblem(status, detail, errs...))
}

// internalError logs err and answers a 500 that leaks nothing.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.log(r).Error("request failed", "error", err)
	problem(w, r, http.StatusInternalServerError, "the request could not be completed; retry later or report the request_id")
}

// lookupFailed answers a failed read of one resource: 404 with notFound
// when there is no such row, 500 for anything else. It reports whether it
// answered, i.e. whether the handler must stop.
func (s *Server) lookupFailed(w http.ResponseWriter, r *http.Request, err error, notFound string) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, pgx.ErrNoRows):
		problem(w, r, http.StatusNotFound, notFound)
	default:
		s.internalError(w, r, err)
	}
	return true
}

// writeJSON sends v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// decodeJSON reads a JSON body into v, answering 400/413/415/422 itself.
// Unknown fields are refused so typos do not silently drop settings.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			problem(w, r, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q is not JSON; send application/json", ct))
			return false
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			problem(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body exceeds %d bytes", maxErr.Limit))
		} else {
			problem(w, r, http.StatusBadRequest, "cannot read the body: "+err.Error())
		}
		return false
	}
	// null would decode into a zero request: every field left out.
	if string(bytes.TrimSpace(body)) == "null" {
		problem(w, r, http.StatusUnprocessableEntity, "the body must be a JSON object, not null")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if path, found := jsonNUL(body); found {
			problem(w, r, http.StatusUnprocessableEntity, "a text field holds a NUL character", nulField(path))
			return false
		}
		if dec.More() {
			problem(w, r, http.StatusBadRequest, "the body holds more than one JSON value")
			return false
		}
		if _, err := dec.Token(); err != io.EOF {
			problem(w, r, http.StatusBadRequest, "unexpected data after the JSON value")
			return false
		}
		return true
	}
	var maxErr *http.MaxBytesError
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &maxErr):
		problem(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body exceeds %d bytes", maxErr.Limit))
	case errors.Is(err, io.EOF):
		problem(w, r, http.StatusBadRequest, "the body is empty; a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		problem(w, r, http.StatusBadRequest, "malformed JSON: the body ends in the middle of a value")
	case errors.As(err, &syntaxErr):
		problem(w, r, http.StatusBadRequest, fmt.Sprintf("malformed JSON at byte %d: %v", syntaxErr.Offset, syntaxErr))
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "(body)"
		}
		problem(w, r, http.StatusUnprocessableEntity, "a field has the wrong type",
			FieldError{Field: field, Reason: fmt.Sprintf("expected %s, got JSON %s", typeErr.Type, typeErr.Value)})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		problem(w, r, http.StatusUnprocessableEntity, "the body has an unknown field", FieldError{Field: name, Reason: "unknown field"})
	default:
		problem(w, r, http.StatusBadRequest, "malformed JSON: "+err.Error())
	}
	return false
}
