// Package events is shiftflow's messaging layer on NATS JetStream: the
// CloudEvents envelope, subjects, stream and consumer specs, the command
// publisher, the outbox relay and dead-letter capture.
package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// SpecVersion is the CloudEvents version of every envelope.
const SpecVersion = "1.0"

// Envelope is a CloudEvents 1.0 JSON event (structured mode) plus the
// extension attribute `orgid`. Commands use the same envelope.
type Envelope struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	OrgID           string          `json:"orgid"`
	Actor           string          `json:"actor,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`
}

// typePattern: domain.entity.verb, lowercase, so every type maps to three subject tokens.
var typePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$`)

// orgPattern matches orgs.id; it must be a single NATS subject token.
var orgPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// New builds an envelope with a fresh id and the current time.
func New(orgID, source, typ, subject string, data any) (Envelope, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Envelope{}, fmt.Errorf("event %s data: %w", typ, err)
	}
	e := Envelope{
		SpecVersion: SpecVersion, ID: uuid.Must(uuid.NewV7()).String(), Source: source, Type: typ, Subject: subject,
		Time: time.Now().UTC().Truncate(time.Microsecond), DataContentType: "application/json", OrgID: orgID, Data: raw,
	}
	return e, e.Validate()
}

// Validate checks the attributes CloudEvents requires and shiftflow relies on.
func (e Envelope) Validate() error {
	var errs []error
	if e.SpecVersion != SpecVersion {
		errs = append(errs, fmt.Errorf("specversion must be %q", SpecVersion))
	}
	if e.ID == "" {
		errs = append(errs, errors.New("id is required"))
	}
	if e.Source == "" {
		errs = append(errs, errors.New("source is required"))
	}
	if !typePattern.MatchString(e.Type) {
		errs = append(errs, fmt.Errorf("type %q must look like domain.entity.verb", e.Type))
	}
	if !orgPattern.MatchString(e.OrgID) {
		errs = append(errs, fmt.Errorf("orgid %q is not a valid org id", e.OrgID))
	}
	if e.Time.IsZero() {
		errs = append(errs, errors.New("time is required"))
	}
	return errors.Join(errs...)
}

// Encode is the envelope's JSON (AppendJSON into a buffer of the right
// size). It is deliberately not MarshalJSON: views that embed Envelope
// would inherit it and lose their own fields.
func (e Envelope) Encode() ([]byte, error) {
	if y := e.Time.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("envelope time %s: year outside 0-9999", e.Time)
	}
	// The keys, quotes and time take under 160 bytes.
	n := 160 + len(e.SpecVersion) + len(e.ID) + len(e.Source) + len(e.Type) + len(e.Subject) + len(e.DataContentType) + len(e.OrgID) + len(e.Actor) + len(e.Data)
	return e.AppendJSON(make([]byte, 0, n)), nil
}

// AppendJSON appends the envelope's JSON, the bytes encoding/json would
// write (for a compact Data without <, > or &) in a fraction of the time:
// encoding/json re-scans a RawMessage to compact it, which was most of the
// cost of publishing an event. Data goes in as it is, so it must be valid
// JSON, as every Data New, Decode and the stored events hold. A time
// outside years 0-9999 is written anyway; Encode refuses it.
func (e Envelope) AppendJSON(b []byte) []byte {
	b = append(b, `{"specversion":`...)
	b = appendJSONString(b, e.SpecVersion)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, e.ID)
	b = append(b, `,"source":`...)
	b = appendJSONString(b, e.Source)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, e.Type)
	if e.Subject != "" {
		b = append(b, `,"subject":`...)
		b = appendJSONString(b, e.Subject)
	}
	b = append(b, `,"time":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if e.DataContentType != "" {
		b = append(b, `,"datacontenttype":`...)
		b = appendJSONString(b, e.DataContentType)
	}
	b = append(b, `,"orgid":`...)
	b = appendJSONString(b, e.OrgID)
	if e.Actor != "" {
		b = append(b, `,"actor":`...)
		b = appendJSONString(b, e.Actor)
	}
	if len(e.Data) > 0 {
		b = append(b, `,"data":`...)
		b = append(b, e.Data...)
	}
	return append(b, '}')
}

// appendJSONString quotes s as encoding/json does. Ids, types and org ids
// are plain ASCII and take the fast path; anything to escape (quotes,
// control and HTML characters, non-ASCII) goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Decode parses and validates an envelope.
func Decode(b []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("envelope: %w", err)
	}
	return e, e.Validate()
}

// EventSubject is the NATS subject of a domain event: evt.<type>.<org>, so
// subscribers filter by type (evt.approval.>) or by org (evt.*.*.*.acme).
func EventSubject(typ, orgID string) string { return "evt." + typ + "." + orgID }

// CommandSubject is the NATS subject of a command: cmd.<type>.<org>; the
// type's first token names the worker pool (cmd.approval.>, cmd.schedule.>).
func CommandSubject(typ, orgID string) string { return "cmd." + typ + "." + orgID }

// TypeFromSubject recovers the type from an evt./cmd. subject.
func TypeFromSubject(subject string) string {
	parts := strings.Split(subject, ".")
	if len(parts) != 5 {
		return ""
	}
	return strings.Join(parts[1:4], ".")
}
