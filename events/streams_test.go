package events

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/shiftflow/shiftflow/internal/testenv"
)

// A consumer whose filter changed keeps a superseded subject while messages
// on it are pending, so none is skipped, and drops it once drained.
func TestEnsureConsumerKeepsSupersededFilterUntilDrained(t *testing.T) {
	ctx := context.Background()
	_, js := testenv.NATS(t).Connect(t)
	if err := EnsureStreams(ctx, js, StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	old := ConsumerSpec{Name: "c", Stream: EventsStream, Filter: "evt.approval.instance.approved.>", AckWait: time.Minute}
	next := ConsumerSpec{Name: "c", Stream: EventsStream, AckWait: time.Minute,
		Filters:    []string{"evt.approval.leave.approved.*", "evt.approval.shift_swap.approved.*"},
		Superseded: []string{old.Filter}}
	filters := func(c jetstream.Consumer) []string {
		t.Helper()
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := slices.Clone(Subjects(info.Config))
		slices.Sort(got)
		return got
	}

	// A new durable takes the new subjects at once.
	c, err := EnsureConsumer(ctx, js, next)
	if err != nil {
		t.Fatal(err)
	}
	if got := filters(c); !slices.Equal(got, next.Filters) {
		t.Fatalf("new consumer filters %v", got)
	}
	if err := js.DeleteConsumer(ctx, EventsStream, "c"); err != nil {
		t.Fatal(err)
	}

	// The earlier release's durable, with one approval not yet handled.
	if _, err := EnsureConsumer(ctx, js, old); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "evt.approval.instance.approved.acme", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	c, err = EnsureConsumer(ctx, js, next)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]string{old.Filter}, next.Filters...)
	if got := filters(c); !slices.Equal(got, want) {
		t.Fatalf("with a pending message: filters %v, want %v", got, want)
	}
	// Starting again before it is handled changes nothing.
	if c, err = EnsureConsumer(ctx, js, next); err != nil {
		t.Fatal(err)
	}
	if got := filters(c); !slices.Equal(got, want) {
		t.Fatalf("second start with a pending message: filters %v, want %v", got, want)
	}
	msgs, err := c.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range msgs.Messages() {
		if m.Subject() != "evt.approval.instance.approved.acme" {
			t.Fatalf("delivered %s", m.Subject())
		}
		// Delivered but not acknowledged: still pending.
		if c, err = EnsureConsumer(ctx, js, next); err != nil {
			t.Fatal(err)
		}
		if got := filters(c); !slices.Equal(got, want) {
			t.Fatalf("with an unacknowledged message: filters %v, want %v", got, want)
		}
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Drained: the superseded subject goes.
	if c, err = EnsureConsumer(ctx, js, next); err != nil {
		t.Fatal(err)
	}
	if got := filters(c); !slices.Equal(got, next.Filters) {
		t.Fatalf("drained: filters %v, want %v", got, next.Filters)
	}
}

// Streams made by an earlier release (a 10-minute duplicate window) take
// the configured window on the next start, and it de-duplicates within it.
func TestEnsureStreamsAppliesTheDuplicateWindow(t *testing.T) {
	ctx := context.Background()
	_, js := testenv.NATS(t).Connect(t)
	if err := EnsureStreams(ctx, js, StreamOptions{DuplicateWindow: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := EnsureStreams(ctx, js, StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{CommandsStream, EventsStream} {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if d := s.CachedInfo().Config.Duplicates; d != 2*time.Minute {
			t.Errorf("%s: duplicate window %s, want the 2m default", name, d)
		}
	}
	if err := EnsureStreams(ctx, js, StreamOptions{DuplicateWindow: 5 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	if d := s.CachedInfo().Config.Duplicates; d != 5*time.Minute {
		t.Fatalf("duplicate window %s, want 5m", d)
	}
	first, err := js.Publish(ctx, "evt.test.dedup.acme", []byte("{}"), jetstream.WithMsgID("e-1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := js.Publish(ctx, "evt.test.dedup.acme", []byte("{}"), jetstream.WithMsgID("e-1"))
	if err != nil || !again.Duplicate || again.Sequence != first.Sequence {
		t.Fatalf("re-publish: %+v, %v", again, err)
	}
}
