package events

import (
	"testing"

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
