package events

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Event and command ids are time-ordered (UUIDv7): the events table's
// primary key and processed_messages grow at their right edge instead of
// touching random index pages.
func TestNewIDsAreTimeOrdered(t *testing.T) {
	prev := ""
	for i := 0; i < 1000; i++ {
		e, err := New("acme", "test", "test.thing.happened", "things/1", nil)
		if err != nil {
			t.Fatal(err)
		}
		id, err := uuid.Parse(e.ID)
		if err != nil || id.Version() != 7 {
			t.Fatalf("id %q: version %d, %v; want a UUIDv7", e.ID, id.Version(), err)
		}
		if e.ID <= prev {
			t.Fatalf("id %s after %s: not increasing", e.ID, prev)
		}
		prev = e.ID
	}
}

// AppendJSON writes what encoding/json writes for an envelope (compact
// Data without HTML characters), so every consumer reads the same bytes.
func TestEnvelopeAppendJSONMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 12, 5, 14, 3, 4, 123456000, time.UTC)
	for _, e := range []Envelope{
		{SpecVersion: "1.0", ID: "0193a1b2-0000-7000-8000-000000000001", Source: "shiftflow/approval", Type: "approval.instance.approved",
			Subject: "approvals/x", Time: at, DataContentType: "application/json", OrgID: "acme", Actor: "boss", Data: json.RawMessage(`{"a":[1,2,{"b":"c"}]}`)},
		{SpecVersion: "1.0", ID: "1", Source: "s", Type: "a.b.c", Time: at.In(time.FixedZone("x", 8*3600)), OrgID: "o"},
		{Subject: "quote \" backslash \\ tab \t nl \n bell \a", Actor: "<b>&</b>", Source: "李雷 ✓ \u2028 \u2029", Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{ID: "bad utf-8 \xff\xfe", Time: at, Data: json.RawMessage(`null`)},
	} {
		want, err := stdEnvelopeJSON(e)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("AppendJSON\n got %s\nwant %s", got, want)
		}
		if got, err := e.Encode(); err != nil || string(got) != string(want) {
			t.Errorf("Encode\n got %s\nwant %s (%v)", got, want, err)
		}
	}
	// Views embed the envelope and add fields (the event log's status): an
	// Envelope.MarshalJSON would be promoted to them and drop those.
	view, err := json.Marshal(struct {
		Envelope
		Status string `json:"status"`
	}{Envelope: Envelope{ID: "1", Time: at}, Status: "published"})
	if err != nil || !strings.Contains(string(view), `"status":"published"`) {
		t.Errorf("a view embedding the envelope lost its own field: %s (%v)", view, err)
	}
	if _, err := (Envelope{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}).Encode(); err == nil {
		t.Error("a time past year 9999 was encoded")
	}
}

func FuzzEnvelopeAppendJSON(f *testing.F) {
	f.Add("approvals/x", "boss", "acme", int64(1764943384123456789), `{"k":"v"}`)
	f.Add("\"<>&\u2028\xff", "\x00\x1f", "", int64(0), `"李"`)
	f.Fuzz(func(t *testing.T, subject, actor, org string, nanos int64, data string) {
		raw, err := json.Marshal(data) // Data is always valid JSON
		if err != nil {
			t.Skip()
		}
		e := Envelope{SpecVersion: SpecVersion, ID: subject + actor, Source: org, Type: "a.b.c", Subject: subject,
			Time: time.Unix(0, nanos).UTC(), OrgID: org, Actor: actor, Data: raw}
		want, err := stdEnvelopeJSON(e)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.AppendJSON(nil); string(got) != string(want) {
			t.Fatalf("AppendJSON\n got %s\nwant %s", got, want)
		}
	})
}

// stdEnvelopeJSON is encoding/json's encoding of the envelope (Envelope
// has no MarshalJSON of its own).
func stdEnvelopeJSON(e Envelope) ([]byte, error) { return json.Marshal(e) }
