package events

import (
	"context"
	"testing"

	"github.com/shiftflow/shiftflow/internal/testenv"
)

// PublishCommands stores each valid command once, answers per command, and
// a batch published again is stored no second time (Nats-Msg-Id).
func TestPublishCommandsAnswersEachCommand(t *testing.T) {
	ctx := context.Background()
	_, js := testenv.NATS(t).Connect(t)
	if err := EnsureStreams(ctx, js, StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	var es []Envelope
	for i := 0; i < 20; i++ {
		e, err := New("org1", "test", "approval.instance.act", "approvals/x", map[string]int{"i": i})
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	es[7].ID = "" // invalid: refused before publishing
	p := NewPublisher(js, nil)
	count := func() uint64 {
		t.Helper()
		s, err := js.Stream(ctx, CommandsStream)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}
	for round := 0; round < 2; round++ {
		errs := p.PublishCommands(ctx, es)
		for i, err := range errs {
			if (err != nil) != (i == 7) {
				t.Fatalf("round %d: command %d: %v", round, i, err)
			}
		}
		if n := count(); n != 19 {
			t.Fatalf("round %d: %d commands stored, want 19", round, n)
		}
	}
	// A stream that is gone fails every command, each with its error.
	if err := js.DeleteStream(ctx, CommandsStream); err != nil {
		t.Fatal(err)
	}
	for i, err := range p.PublishCommands(ctx, es[:3]) {
		if err == nil {
			t.Fatalf("command %d published without a stream", i)
		}
	}
}
