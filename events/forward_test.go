package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/internal/metrics"
)

// insertForwarded commits n events written as a forwarding worker does
// (with the forwarder's grace) and returns their envelopes.
func insertForwarded(t *testing.T, ctx context.Context, tx pgx.Tx, f *Forwarder, n int, tag string) []Envelope {
	t.Helper()
	var envs []Envelope
	for i := 0; i < n; i++ {
		e, err := New("acme", "test", "test.thing.happened", "things/"+tag, map[string]any{"tag": tag, "i": i})
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, e)
	}
	if err := dbsqlc.New(tx).InsertEvents(ctx, InsertParams(envs, f)); err != nil {
		t.Fatal(err)
	}
	return envs
}

// commitForwarded commits n forwarded events in one transaction.
func commitForwarded(t *testing.T, ctx context.Context, pool *pgxpool.Pool, f *Forwarder, n int, tag string) []Envelope {
	t.Helper()
	var envs []Envelope
	if err := db.InTx(ctx, pool, func(tx pgx.Tx, _ *dbsqlc.Queries) error {
		envs = insertForwarded(t, ctx, tx, f, n, tag)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return envs
}

// readStream returns every message of the EVENTS stream by event id.
func readStream(t *testing.T, ctx context.Context, js jetstream.JetStream, atMost int) map[string][]jetstream.Msg {
	t.Helper()
	cons, err := js.OrderedConsumer(ctx, EventsStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string][]jetstream.Msg{}
	for total := 0; total < atMost; total++ {
		msg, err := cons.Next(jetstream.FetchMaxWait(time.Second))
		if err != nil {
			break
		}
		seen[msg.Headers().Get(jetstream.MsgIDHeader)] = append(seen[msg.Headers().Get(jetstream.MsgIDHeader)], msg)
	}
	return seen
}

// Forwarded events are published once each, by the forwarder when it can
// and by the relay after the grace when it could not: the forwarder
// "crashes" between publish and mark for some, and some transactions
// commit without ever being forwarded (a process killed right after its
// commit). Rolled-back events are never published.
func TestForwarderWithRelayPublishesEachEventOnce(t *testing.T) {
	ctx := context.Background()
	pool, js := relayEnv(t)
	m := metrics.New()
	var crashes atomic.Int32
	f := &Forwarder{Pool: pool, JS: js, Metrics: m, Grace: 500 * time.Millisecond,
		publishHook: func(string) error {
			if crashes.Add(1) <= 7 {
				return errors.New("simulated crash after publish")
			}
			return nil
		}}
	r := &Relay{Pool: pool, JS: js, Metrics: m, BatchSize: 50, PollInterval: 50 * time.Millisecond}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = f.Run(rctx) }()
	go func() { defer wg.Done(); _ = r.Run(rctx) }()
	defer func() { cancel(); wg.Wait() }()

	const writers, txPerWriter, perTx = 4, 20, 5
	committed := make(chan Envelope, writers*txPerWriter*perTx)
	var notForwarded atomic.Int32
	var ww sync.WaitGroup
	for w := 0; w < writers; w++ {
		ww.Add(1)
		go func() {
			defer ww.Done()
			for i := 0; i < txPerWriter; i++ {
				var envs []Envelope
				rollback := i%5 == 4
				err := db.InTx(ctx, pool, func(tx pgx.Tx, _ *dbsqlc.Queries) error {
					envs = insertForwarded(t, ctx, tx, f, perTx, fmt.Sprintf("w%d-%d", w, i))
					if rollback {
						return errors.New("rolled back")
					}
					return nil
				})
				if rollback {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				if i%7 == 3 {
					notForwarded.Add(int32(len(envs)))
				} else {
					f.Forward(envs)
				}
				for _, e := range envs {
					committed <- e
				}
			}
		}()
	}
	ww.Wait()
	close(committed)
	want := map[string]Envelope{}
	for e := range committed {
		want[e.ID] = e
	}
	waitOutboxEmpty(t, ctx, pool, 30*time.Second)
	if crashes.Load() <= 7 || notForwarded.Load() == 0 {
		t.Fatalf("the test did not exercise the take-over (%d hook calls, %d events not forwarded)", crashes.Load(), notForwarded.Load())
	}

	seen := readStream(t, ctx, js, len(want)+10)
	if len(seen) != len(want) {
		t.Fatalf("stream holds %d events, want the %d committed", len(seen), len(want))
	}
	for id, e := range want {
		msgs := seen[id]
		if len(msgs) != 1 {
			t.Fatalf("event %s published %d times", id, len(msgs))
		}
		var got Envelope
		if err := json.Unmarshal(msgs[0].Data(), &got); err != nil {
			t.Fatal(err)
		}
		// Whoever published it, the envelope is the committed row's.
		if got.Type != e.Type || got.Subject != e.Subject || !got.Time.Equal(e.Time.Truncate(time.Microsecond)) || got.DataContentType != "application/json" {
			t.Fatalf("event %s published as %+v, committed as %+v", id, got, e)
		}
		var data map[string]any
		if err := json.Unmarshal(got.Data, &data); err != nil || data["tag"] == nil {
			t.Fatalf("event %s data %s", id, got.Data)
		}
		md, _ := msgs[0].Metadata()
		var streamSeq int64
		var status string
		if err := pool.QueryRow(ctx, `SELECT status, stream_seq FROM events WHERE id = $1`, mustUUID(id)).Scan(&status, &streamSeq); err != nil {
			t.Fatal(err)
		}
		if status != "published" || uint64(streamSeq) != md.Sequence.Stream {
			t.Fatalf("event %s: row %s at stream seq %d, stream has it at %d", id, status, streamSeq, md.Sequence.Stream)
		}
	}
}

// The relay leaves forwarded events alone during the grace (they are the
// forwarder's) and publishes the others at once.
func TestRelayLeavesForwardedEventsForTheGrace(t *testing.T) {
	ctx := context.Background()
	pool, js := relayEnv(t)
	f := &Forwarder{Pool: pool, JS: js, Grace: 4 * time.Second} // never run: nobody forwards
	r := &Relay{Pool: pool, JS: js, BatchSize: 50, PollInterval: 50 * time.Millisecond}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(rctx) }()
	defer func() { cancel(); <-done }()

	var forwarded []Envelope
	var plain []uuid.UUID
	committedAt := time.Now()
	if err := db.InTx(ctx, pool, func(tx pgx.Tx, _ *dbsqlc.Queries) error {
		forwarded = insertForwarded(t, ctx, tx, f, 3, "fwd")
		plain = insertEvents(t, ctx, tx, 2, "plain")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	pending := func() int64 {
		n, err := dbsqlc.New(pool).CountPendingEvents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	for pending() > 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := pending(); n != 3 {
		t.Fatalf("%d events pending after the relay's first pass, want the 3 forwarded ones", n)
	}
	for _, id := range plain {
		if ev, err := dbsqlc.New(pool).GetEvent(ctx, id); err != nil || ev.Status != "published" {
			t.Fatalf("plain event %s: %v %v", id, ev.Status, err)
		}
	}
	for _, e := range forwarded {
		if ev, err := dbsqlc.New(pool).GetEvent(ctx, mustUUID(e.ID)); err != nil || ev.Status != "pending" {
			t.Fatalf("forwarded event %s taken by the relay within the grace: %v %v", e.ID, ev.Status, err)
		}
	}
	// After the grace the relay takes them over.
	deadline = time.Now().Add(15 * time.Second)
	for pending() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d forwarded events never taken over by the relay", pending())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if time.Since(committedAt) < 4*time.Second {
		t.Fatalf("the relay took forwarded events over after %s, before the 4 s grace", time.Since(committedAt))
	}
	if seen := readStream(t, ctx, js, 10); len(seen) != 5 {
		t.Fatalf("stream holds %d events, want 5", len(seen))
	}
}

// A backlog larger than one mark statement is marked in several, each event
// with its own stream position; no relay runs.
func TestForwarderMarksLargeBacklogs(t *testing.T) {
	ctx := context.Background()
	pool, js := relayEnv(t)
	f := &Forwarder{Pool: pool, JS: js, Grace: time.Minute}
	envs := commitForwarded(t, ctx, pool, f, 3*markBatch+7, "big")
	f.Forward(envs) // queued before Run: one large batch
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = f.Run(rctx) }()
	defer func() { cancel(); <-done }()
	waitOutboxEmpty(t, ctx, pool, 20*time.Second)
	seen := readStream(t, ctx, js, len(envs)+5)
	if len(seen) != len(envs) {
		t.Fatalf("stream holds %d events, want %d", len(seen), len(envs))
	}
	rows, err := pool.Query(ctx, `SELECT id, stream_seq FROM events WHERE status = 'published'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var marked int
	for rows.Next() {
		var id uuid.UUID
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			t.Fatal(err)
		}
		md, _ := seen[id.String()][0].Metadata()
		if uint64(seq) != md.Sequence.Stream {
			t.Fatalf("event %s marked at stream seq %d, published at %d", id, seq, md.Sequence.Stream)
		}
		marked++
	}
	if marked != len(envs) {
		t.Fatalf("%d events marked published, want %d", marked, len(envs))
	}
}

// When its context ends the forwarder still publishes and marks what is
// queued (a pool commits its in-flight work while it shuts down), rather
// than leaving it to the relay after the grace.
func TestForwarderDrainsItsQueueWhenStopped(t *testing.T) {
	ctx := context.Background()
	pool, js := relayEnv(t)
	f := &Forwarder{Pool: pool, JS: js, Grace: time.Minute}
	envs := commitForwarded(t, ctx, pool, f, 40, "late")
	f.Forward(envs)
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	if err := f.Run(stopped); err != nil {
		t.Fatal(err)
	}
	n, err := dbsqlc.New(pool).CountPendingEvents(ctx)
	if err != nil || n != 0 {
		t.Fatalf("%d events still pending after Run returned (%v)", n, err)
	}
	if seen := readStream(t, ctx, js, 50); len(seen) != len(envs) {
		t.Fatalf("stream holds %d events, want %d", len(seen), len(envs))
	}
}

// A mark that cannot finish (its rows are locked) does not hold up the
// forwarder's stop beyond stopDrain; the events stay pending for the relay.
func TestForwarderStopsDespiteAStuckMark(t *testing.T) {
	ctx := context.Background()
	pool, js := relayEnv(t)
	f := &Forwarder{Pool: pool, JS: js, Grace: time.Minute}
	envs := commitForwarded(t, ctx, pool, f, 5, "stuck")
	locker, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = locker.Rollback(ctx) }()
	if _, err := locker.Exec(ctx, `SELECT seq FROM event_outbox FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = f.Run(rctx) }()
	f.Forward(envs)
	if seen := readStream(t, ctx, js, 10); len(seen) != len(envs) { // published; the mark now waits
		t.Fatalf("stream holds %d events, want %d", len(seen), len(envs))
	}
	stoppedAt := time.Now()
	cancel()
	select {
	case <-done:
	case <-time.After(stopDrain + 5*time.Second):
		t.Fatal("the forwarder did not stop while its mark was stuck")
	}
	if d := time.Since(stoppedAt); d < stopDrain-100*time.Millisecond {
		t.Fatalf("stopped after %s: the stuck mark was given less than stopDrain", d)
	}
	_ = locker.Rollback(ctx)
	if n, err := dbsqlc.New(pool).CountPendingEvents(ctx); err != nil || n != int64(len(envs)) {
		t.Fatalf("%d events pending, want all %d left to the relay (%v)", n, len(envs), err)
	}
}

// Events forwarded one by one, as transactions commit at a moderate rate,
// are marked published a few dozen per statement, not one or two: a mark
// waits markLinger for the next ones.
func TestForwarderMarksTrickleTogether(t *testing.T) {
	ctx := context.Background()
	pool, js := relayEnv(t)
	var mu sync.Mutex
	var sizes []int
	f := &Forwarder{Pool: pool, JS: js, Grace: time.Minute, markHook: func(n int) { mu.Lock(); sizes = append(sizes, n); mu.Unlock() }}
	envs := commitForwarded(t, ctx, pool, f, 60, "trickle")
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = f.Run(rctx) }()
	defer func() { cancel(); <-done }()
	began := time.Now()
	for _, e := range envs {
		f.Forward([]Envelope{e})
		time.Sleep(time.Millisecond)
	}
	// At most one statement per 20 ms (markLinger) while they trickle in,
	// and one or two for the last; a slow machine stretches the trickle,
	// not the bound's meaning.
	most := int(time.Since(began)/(20*time.Millisecond)) + 3
	waitOutboxEmpty(t, ctx, pool, 20*time.Second)
	mu.Lock()
	defer mu.Unlock()
	total := 0
	for _, n := range sizes {
		total += n
	}
	if total != len(envs) || len(sizes) > most {
		t.Fatalf("%d events marked in %d statements %v, want all %d in at most %d", total, len(sizes), sizes, len(envs), most)
	}
}
