package flow

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel kinds of refusal; match them with errors.Is. Every refusal Apply
// returns is an *Error wrapping one of them; any other error (from the
// Directory) is transient and worth a retry.
var (
	ErrInvalid     = errors.New("invalid")      // 422: bad action, params, form, missing comment
	ErrForbidden   = errors.New("forbidden")    // 403: actor holds no task, not initiator, op not allowed
	ErrConflict    = errors.New("conflict")     // 409: finished instance, task already decided
	ErrNotFound    = errors.New("not found")    // 404: no such instance or task
	ErrRateLimited = errors.New("rate limited") // 429: urged too recently
)

// Error is a refusal with a human reason and, where useful, details.
type Error struct {
	Kind     error        `json:"-"`
	Reason   string       `json:"reason"`
	Fields   []FieldError `json:"fields,omitempty"`   // form errors (ErrInvalid)
	Problems []Problem    `json:"problems,omitempty"` // template problems (ErrInvalid)
	// RetryAfter is when an urge will be accepted again (ErrRateLimited).
	RetryAfter time.Duration `json:"retry_after,omitempty"`
}

func (e *Error) Error() string {
	msg := e.Kind.Error() + ": " + e.Reason
	if len(e.Fields) > 0 {
		msg += fmt.Sprintf(" (%s", e.Fields[0])
		if len(e.Fields) > 1 {
			msg += fmt.Sprintf(" and %d more", len(e.Fields)-1)
		}
		msg += ")"
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Kind }

func refuse(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: fmt.Sprintf(format, args...)}
}
