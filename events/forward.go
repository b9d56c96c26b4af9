package events

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/internal/metrics"
)

// Forwarder publishes the events of a transaction as soon as it has
// committed, instead of leaving them for the relay to be woken, claim them
// and read them back. Their outbox rows are written with a grace
// (GraceMs): the relay leaves them alone until it has passed and then
// publishes whatever is still pending — after a crash between commit and
// publish, a full queue or a failed publish — under the same Nats-Msg-Id,
// so the stream keeps one copy either way. Only the outbox guarantees
// delivery; the forwarder makes it fast.
//
// Events of one transaction are published in order; those of transactions
// committed concurrently, in the order their writers hand them over (as
// with several relays, which also publish concurrently).
type Forwarder struct {
	Pool    *pgxpool.Pool
	JS      jetstream.JetStream
	Metrics *metrics.Metrics
	Log     *slog.Logger
	// Grace is how long the relay leaves a forwarded event alone; it must
	// stay well inside the stream's duplicate window.
	Grace time.Duration
	// QueueSize bounds the events waiting to be published (default 8192);
	// Forward leaves the rest to the relay.
	QueueSize int

	once  sync.Once
	queue chan Envelope

	mu     sync.Mutex
	acked  []forwarded
	marked chan struct{}

	// publishHook lets tests simulate a crash between publish and mark.
	publishHook func(id string) error
	// markHook sees the size of every mark statement that committed.
	markHook func(n int)
}

// stopDrain bounds the publishing and marking after Run's context ends.
const stopDrain = 2 * time.Second

// ackTimeout bounds the wait for a batch's publish acks.
const ackTimeout = 10 * time.Second

// markBatch bounds the events marked by one statement.
const markBatch = 512

// markLinger is how long a mark waits for more: at 1,000 actions/s one
// round trip then marks about 40 events instead of 2 (the grace gives the
// marks seconds; a later mark only delays the outbox row's removal).
const markLinger = 20 * time.Millisecond

type forwarded struct {
	id        uuid.UUID
	streamSeq int64
	typ       string
}

func (f *Forwarder) init() {
	f.once.Do(func() {
		if f.QueueSize <= 0 {
			f.QueueSize = 8192
		}
		if f.Log == nil {
			f.Log = slog.Default()
		}
		f.queue = make(chan Envelope, f.QueueSize)
		f.marked = make(chan struct{}, 1)
	})
}

// GraceMs is the grace for InsertEvents; nil (no forwarder) leaves the
// events to the relay at once.
func (f *Forwarder) GraceMs() *int32 {
	if f == nil {
		return nil
	}
	ms := int32(f.Grace.Milliseconds())
	return &ms
}

// Forward queues the events of a committed transaction for publishing. It
// never blocks: what does not fit is published by the relay after the grace.
func (f *Forwarder) Forward(envs []Envelope) {
	if f == nil || len(envs) == 0 {
		return
	}
	f.init()
	for i, e := range envs {
		select {
		case f.queue <- e:
		default:
			if f.Metrics != nil {
				f.Metrics.EventsLeftToRelay.Add(float64(len(envs) - i))
			}
			return
		}
	}
}

// Run publishes queued events until ctx ends, then for at most
// stopDrain what is still queued; anything left after that is the relay's.
func (f *Forwarder) Run(ctx context.Context) error {
	f.init()
	stopped := make(chan struct{})
	marksDone := make(chan struct{})
	go func() {
		defer close(marksDone)
		f.markLoop(stopped)
	}()
	defer func() { close(stopped); <-marksDone }()
	for {
		select {
		case <-ctx.Done():
			drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopDrain)
			defer cancel()
			for f.publishQueued(drainCtx, false) {
			}
			return nil
		default:
		}
		f.publishQueued(ctx, true)
	}
}

// publishQueued publishes up to 256 queued events; with wait it first
// waits for one (or ctx's end). It reports whether it published any.
func (f *Forwarder) publishQueued(ctx context.Context, wait bool) bool {
	batch := make([]Envelope, 0, 256)
	if wait {
		select {
		case <-ctx.Done():
			return false
		case e := <-f.queue:
			batch = append(batch, e)
		}
	}
drain:
	for len(batch) < cap(batch) {
		select {
		case e := <-f.queue:
			batch = append(batch, e)
		default:
			break drain
		}
	}
	if len(batch) == 0 || ctx.Err() != nil {
		return false
	}
	f.publish(ctx, batch)
	return true
}

// publish sends a batch, waits for the stream's acks and hands the acked
// events to the mark loop.
func (f *Forwarder) publish(ctx context.Context, batch []Envelope) {
	futures := make([]jetstream.PubAckFuture, len(batch))
	for i, e := range batch {
		// As the relay would publish it from its row: UTC, microseconds.
		e.Time = e.Time.UTC().Truncate(time.Microsecond)
		e.SpecVersion, e.DataContentType = SpecVersion, "application/json"
		if e.Data == nil {
			e.Data = json.RawMessage("null")
		}
		msg, err := Message(EventSubject(e.Type, e.OrgID), e)
		if err == nil {
			futures[i], err = f.JS.PublishMsgAsync(msg, jetstream.WithMsgID(e.ID))
		}
		if err != nil {
			f.Log.Warn("forwarder: publish failed; the relay takes it over", "event_id", e.ID, "error", err)
		}
	}
	var acked []forwarded
	// An ack that never comes must not stall forwarding: past this, the
	// relay takes the event over after the grace.
	timeout := time.NewTimer(ackTimeout)
	defer timeout.Stop()
wait:
	for i, fu := range futures {
		if fu == nil {
			continue
		}
		select {
		case ack := <-fu.Ok():
			id, err := uuid.Parse(batch[i].ID)
			if err != nil {
				continue // the writer validated it; the relay has the row anyway
			}
			if f.publishHook != nil && f.publishHook(batch[i].ID) != nil {
				continue
			}
			acked = append(acked, forwarded{id: id, streamSeq: int64(ack.Sequence), typ: batch[i].Type})
		case err := <-fu.Err():
			f.Log.Warn("forwarder: publish failed; the relay takes it over", "event_id", batch[i].ID, "error", err)
		case <-timeout.C:
			f.Log.Warn("forwarder: no ack from the stream; the relay takes the rest of the batch over", "events", len(futures)-i)
			break wait
		case <-ctx.Done():
			return
		}
	}
	if len(acked) == 0 {
		return
	}
	f.mu.Lock()
	f.acked = append(f.acked, acked...)
	f.mu.Unlock()
	select {
	case f.marked <- struct{}{}:
	default:
	}
}

// markLoop marks acked events published, everything acked since the last
// mark in one transaction: under load the marks batch themselves. Once
// stopped it makes the marks still owed (without them the relay would
// publish those events again after the grace, a duplicate the stream
// drops) and returns.
func (f *Forwarder) markLoop(stopped <-chan struct{}) {
	// Marks get stopDrain after the stop, then are cancelled: a database
	// that does not answer must not hold up the shutdown.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-stopped
		t := time.NewTimer(stopDrain)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		select {
		case <-stopped:
			for f.markAcked(ctx) {
			}
			return
		case <-f.marked:
		}
		// No request waits for a mark: take those of the next few
		// milliseconds along in the same round trip.
		t := time.NewTimer(markLinger)
		select {
		case <-stopped:
		case <-t.C:
		}
		t.Stop()
		f.markAcked(ctx)
	}
}

func (f *Forwarder) markAcked(ctx context.Context) bool {
	f.mu.Lock()
	acked := f.acked
	// At most markBatch per statement (its stream_seq lookup is linear in
	// the batch); the rest goes with the next mark.
	if len(acked) > markBatch {
		acked, f.acked = acked[:markBatch], append([]forwarded(nil), acked[markBatch:]...)
		select {
		case f.marked <- struct{}{}:
		default:
		}
	} else {
		f.acked = nil
	}
	f.mu.Unlock()
	if len(acked) == 0 {
		return false
	}
	p := dbsqlc.MarkEventsForwardedParams{Ids: make([]uuid.UUID, len(acked)), StreamSeqs: make([]int64, len(acked))}
	for i, a := range acked {
		p.Ids[i], p.StreamSeqs[i] = a.id, a.streamSeq
	}
	err := func() error {
		tx, err := db.Begin(ctx, f.Pool)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		// As the relay's marks: a lost one only means a re-publish the
		// stream drops, so the commit need not wait for the WAL flush.
		tx.SkipCommitFlush()
		if err := dbsqlc.New(tx).MarkEventsForwarded(ctx, p); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}()
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			f.Log.Warn("forwarder: marking published failed; the relay re-publishes after the grace", "events", len(acked), "error", err)
		}
		return false
	}
	if f.Metrics != nil {
		for _, a := range acked {
			f.Metrics.EventsPublished.WithLabelValues(a.typ).Inc()
		}
	}
	if f.markHook != nil {
		f.markHook(len(acked))
	}
	return true
}
