package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/internal/metrics"
)

// Pool runs a Handler over one durable pull consumer.
type Pool struct {
	Spec            events.ConsumerSpec
	Concurrency     int
	Handler         Handler
	DB              *pgxpool.Pool
	JS              jetstream.JetStream
	Metrics         *metrics.Metrics
	Log             *slog.Logger
	ShutdownTimeout time.Duration
	Backoff         Backoff
	// BatchSize > 1 lets a worker apply up to that many waiting messages in
	// one transaction (one commit, fewer round trips). A batch that fails is
	// retried message by message, so batching never changes outcomes. Only
	// for handlers whose Handle is cheap: it may run again on that retry.
	BatchSize int
	// GroupCommit, with BatchSize > 1, lets one worker at a time collect
	// the next batch, and while another batch is being applied it keeps
	// collecting until that one is done (or its batch is full, or
	// groupWaitMax passed). At a moderate rate that is one transaction at a
	// time, each with what arrived during the previous one, instead of
	// several one-message transactions; under load batches fill at once and
	// run in parallel as before.
	GroupCommit bool
	// Forwarder, when set, publishes the events a handler emits as soon as
	// its transaction commits; the outbox relay remains the fallback.
	Forwarder *events.Forwarder
	// FetchExpiry and Heartbeat tune the pull requests; short values make a
	// restarted server noticed sooner.
	FetchExpiry time.Duration
	Heartbeat   time.Duration
	// Ensured, when set, runs each time the pool has created or updated its
	// consumer from Spec (the webhook fan-out narrows its filter there); an
	// error is logged.
	Ensured func(ctx context.Context) error

	// afterCommit lets tests simulate a crash between commit and ack.
	afterCommit func(m *Message) error
	// beforeCommit lets tests simulate a crash before commit.
	beforeCommit func(m *Message) error
	// batchHook sees the size and outcome of every set-based batch.
	batchHook func(size int, err error)
	held      *holder // set by Run
}

// Test hooks: errCrash abandons a message without ack or nak, as a killed
// process would; errRedeliver naks it at once to force a redelivery.
var (
	errCrash     = errors.New("simulated crash")
	errRedeliver = errors.New("forced redelivery")
)

func (p *Pool) defaults() {
	if p.Concurrency < 1 {
		p.Concurrency = 1
	}
	if p.BatchSize < 1 {
		p.BatchSize = 1
	}
	if p.Log == nil {
		p.Log = slog.Default()
	}
	if p.ShutdownTimeout <= 0 {
		p.ShutdownTimeout = 30 * time.Second
	}
	if p.Backoff == nil {
		p.Backoff = DefaultBackoff
	}
	if p.FetchExpiry <= 0 {
		p.FetchExpiry = 10 * time.Second
	}
	if p.Heartbeat <= 0 {
		p.Heartbeat = 2 * time.Second
	}
	if p.Spec.MaxDeliver == 0 {
		p.Spec.MaxDeliver = 8
	}
	if p.Spec.AckWait == 0 {
		p.Spec.AckWait = 30 * time.Second
	}
	p.Log = p.Log.With("consumer", p.Spec.Name)
}

// Run consumes until ctx is cancelled, then stops fetching, hands buffered
// messages back at once, and waits up to ShutdownTimeout for in-flight
// handlers; it returns nil after a clean drain.
func (p *Pool) Run(ctx context.Context) error {
	p.defaults()
	if p.Metrics != nil {
		p.Metrics.InitConsumer(p.Spec.Name)
	}
	cons, err := events.EnsureConsumer(ctx, p.JS, p.Spec)
	if err != nil {
		return err
	}
	p.ensured(ctx)
	// Handlers get a context that outlives ctx by ShutdownTimeout, so a
	// SIGTERM lets in-flight work finish instead of aborting it.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	var inflight sync.WaitGroup
	slots := make(chan struct{}, p.Concurrency*p.BatchSize)
	p.held = &holder{msgs: map[jetstream.Msg]time.Time{}}
	go p.held.keepAlive(workCtx, max(p.Spec.AckWait/3, time.Millisecond))
	go p.reportPending(ctx, cons)
	// With batching, Concurrency workers take messages from ready, each up to
	// BatchSize at a time.
	ready := make(chan jetstream.Msg, p.Concurrency*p.BatchSize)
	if p.BatchSize > 1 {
		var workers sync.WaitGroup
		b := &batcher{ready: ready, size: p.BatchSize, group: p.GroupCommit, finished: make(chan struct{}, 1)}
		for i := 0; i < p.Concurrency; i++ {
			workers.Add(1)
			go func() {
				defer workers.Done()
				for {
					batch, ok := b.next()
					if !ok {
						return
					}
					p.processBatch(workCtx, batch)
					b.done()
					for range batch {
						<-slots
						inflight.Done()
					}
				}
			}()
		}
		defer workers.Wait()
		defer close(ready)
	}

	for ctx.Err() == nil {
		it, err := cons.Messages(
			jetstream.PullMaxMessages(p.Concurrency*p.BatchSize),
			jetstream.PullExpiry(p.FetchExpiry),
			jetstream.PullHeartbeat(p.Heartbeat),
			jetstream.WithMessagesErrOnMissingHeartbeat(false),
		)
		if err != nil {
			p.Log.Warn("cannot start consuming; retrying", "error", err)
			if !sleepCtx(ctx, time.Second) {
				break
			}
			if c, err := events.EnsureConsumer(ctx, p.JS, p.Spec); err == nil {
				cons = c
				p.ensured(ctx)
			}
			continue
		}
		stopWatch := context.AfterFunc(ctx, it.Drain)
		for {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				// Shutting down: a slot may not be free, so wait for buffered
				// messages without one and hand them back.
				p.nakBuffered(it)
				break
			}
			raw, err := it.Next()
			if err != nil {
				<-slots
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					break
				}
				p.Log.Warn("consumer iterator error", "error", err)
				continue
			}
			inflight.Add(1)
			p.held.take(raw)
			if p.BatchSize > 1 {
				ready <- raw
				continue
			}
			go func() {
				defer func() { <-slots; inflight.Done() }()
				p.process(workCtx, raw)
			}()
		}
		stopWatch()
		if ctx.Err() == nil {
			// The iterator ended without shutdown (consumer deleted, connection
			// closed): make sure the consumer exists and consume again.
			if !sleepCtx(ctx, 500*time.Millisecond) {
				break
			}
			if c, err := events.EnsureConsumer(ctx, p.JS, p.Spec); err == nil {
				cons = c
				p.ensured(ctx)
			} else {
				p.Log.Warn("cannot re-create consumer", "error", err)
			}
		}
	}

	done := make(chan struct{})
	go func() { inflight.Wait(); close(done) }()
	select {
	case <-done:
		p.Log.Info("worker pool drained")
		return nil
	case <-time.After(p.ShutdownTimeout):
		cancelWork()
		<-done
		return fmt.Errorf("consumer %s: in-flight work did not finish within %s; it was abandoned and will be redelivered", p.Spec.Name, p.ShutdownTimeout)
	}
}

func (p *Pool) ensured(ctx context.Context) {
	if p.Ensured == nil {
		return
	}
	if err := p.Ensured(ctx); err != nil {
		p.Log.Warn("after ensuring the consumer", "error", err)
	}
}

// nakBuffered returns messages already pulled but not started, so another
// process gets them now rather than after AckWait.
func (p *Pool) nakBuffered(it jetstream.MessagesContext) {
	for {
		raw, err := it.Next()
		if err != nil {
			return
		}
		_ = raw.Nak()
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func (p *Pool) reportPending(ctx context.Context, cons jetstream.Consumer) {
	if p.Metrics == nil {
		return
	}
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		infoCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if info, err := cons.Info(infoCtx); err == nil {
			p.Metrics.ConsumerPending.WithLabelValues(p.Spec.Name).Set(float64(info.NumPending + uint64(info.NumAckPending)))
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func newMessage(raw jetstream.Msg, consumer string) *Message {
	m := &Message{Subject: raw.Subject(), Header: raw.Headers(), Data: raw.Data(), Consumer: consumer, Delivery: 1}
	if md, err := raw.Metadata(); err == nil {
		m.Delivery = md.NumDelivered
		m.Stream = md.Stream
		m.StreamSeq = md.Sequence.Stream
	}
	m.MsgID = m.Header.Get(jetstream.MsgIDHeader)
	switch {
	case m.Header.Get(events.HeaderReplayOf) != "":
		m.ID = m.Header.Get(events.HeaderReplayOf)
	case m.MsgID != "":
		m.ID = m.MsgID
	default:
		m.ID = fmt.Sprintf("%s:%d", m.Stream, m.StreamSeq)
	}
	return m
}

func (p *Pool) observe(outcome string, start time.Time) {
	if p.Metrics == nil {
		return
	}
	p.Metrics.EventsProcessed.WithLabelValues(p.Spec.Name, outcome).Inc()
	p.Metrics.EventDuration.WithLabelValues(p.Spec.Name).Observe(time.Since(start).Seconds())
}

// process handles one delivery end to end and settles it exactly once:
// ack after commit, nak with backoff, or dead letter + term.
func (p *Pool) process(ctx context.Context, raw jetstream.Msg) {
	start := time.Now()
	m := newMessage(raw, p.Spec.Name)
	p.settle(ctx, raw, m, p.run(ctx, m), start)
}

// settle acknowledges, retries or dead-letters a message after its run.
func (p *Pool) settle(ctx context.Context, raw jetstream.Msg, m *Message, err error, start time.Time) {
	p.held.release(raw)
	// Built only to log: With on every settled message cost 1.6% of the CPU.
	log := func() *slog.Logger {
		return p.Log.With("message_id", m.ID, "subject", m.Subject, "delivery", m.Delivery)
	}
	if m.ID != m.MsgID {
		defer p.recordReplay(ctx, m, err)
	}
	switch {
	case err == nil:
		if err := raw.DoubleAck(ctx); err != nil {
			// The effects are committed; a redelivery will find processed_messages.
			log().Warn("ack failed after commit; the redelivery will be skipped", "error", err)
		}
		p.observe("success", start)
	case errors.Is(err, errDuplicate):
		if err := raw.DoubleAck(ctx); err != nil {
			log().Warn("ack of duplicate failed", "error", err)
		}
		log().Debug("message already processed; acknowledged without effect")
		p.observe("duplicate", start)
	case errors.Is(err, errCrash):
		// Test hook: leave the message unsettled, as a killed process would.
	case errors.Is(err, errRedeliver):
		_ = raw.Nak()
	case IsPermanent(err):
		log().Error("message cannot be processed; terminating", "error", err)
		p.deadLetter(ctx, raw, m, "terminated", err)
		p.observe("terminated", start)
	case int(m.Delivery) >= p.Spec.MaxDeliver:
		log().Error("message failed on its last delivery; dead letter", "error", err, "max_deliver", p.Spec.MaxDeliver)
		p.deadLetter(ctx, raw, m, "max_deliver", err)
		p.observe("dead_letter", start)
	default:
		delay := p.Backoff(int(m.Delivery))
		var ra *retryAfterError
		if errors.As(err, &ra) {
			delay = ra.after
		}
		log().Warn("handler failed; will retry", "error", err, "retry_in_ms", delay.Milliseconds())
		p.recordFailure(ctx, m, err)
		if err := raw.NakWithDelay(delay); err != nil {
			log().Warn("nak failed; the message returns after AckWait", "error", err)
		}
		p.observe("retry", start)
	}
}

// groupWaitMax bounds how long GroupCommit holds a batch back.
const groupWaitMax = 20 * time.Millisecond

// batcher hands the pool's workers their batches (see Pool.GroupCommit).
type batcher struct {
	ready    chan jetstream.Msg
	size     int
	group    bool
	collect  sync.Mutex // with group: one worker collects at a time
	busy     atomic.Int32
	finished chan struct{} // a batch was applied
}

// next returns the next batch, or false once ready is closed and empty.
func (b *batcher) next() ([]jetstream.Msg, bool) {
	if b.group {
		b.collect.Lock()
		defer b.collect.Unlock()
	}
	first, ok := <-b.ready
	if !ok {
		return nil, false
	}
	batch := b.fill([]jetstream.Msg{first})
	if b.group && len(batch) < b.size && b.busy.Load() > 0 {
		batch = b.await(batch)
	}
	b.busy.Add(1)
	return batch, true
}

// fill adds the messages already waiting, up to size.
func (b *batcher) fill(batch []jetstream.Msg) []jetstream.Msg {
	for len(batch) < b.size {
		select {
		case m, ok := <-b.ready:
			if !ok {
				return batch
			}
			batch = append(batch, m)
		default:
			return batch
		}
	}
	return batch
}

// await keeps adding messages while another batch is being applied, until
// one finishes, the batch is full or groupWaitMax passes.
func (b *batcher) await(batch []jetstream.Msg) []jetstream.Msg {
	select {
	case <-b.finished: // a signal from before this wait
	default:
	}
	t := time.NewTimer(groupWaitMax)
	defer t.Stop()
	for len(batch) < b.size && b.busy.Load() > 0 {
		select {
		case m, ok := <-b.ready:
			if !ok {
				return batch
			}
			batch = append(batch, m)
		case <-b.finished:
			return batch
		case <-t.C:
			return batch
		}
	}
	return batch
}

// done marks a batch from next as applied.
func (b *batcher) done() {
	b.busy.Add(-1)
	select {
	case b.finished <- struct{}{}:
	default:
	}
}

// processBatch applies several first deliveries in one transaction. Any
// failure rolls the batch back and each message is processed on its own,
// which settles it exactly as without batching.
func (p *Pool) processBatch(ctx context.Context, raws []jetstream.Msg) {
	if sb, ok := p.Handler.(SingleBatcher); ok && sb.BatchSingles() {
		p.processSetBatch(ctx, sb, raws)
		return
	}
	if len(raws) == 1 {
		p.process(ctx, raws[0])
		return
	}
	type item struct {
		raw    jetstream.Msg
		m      *Message
		commit Commit
		start  time.Time
	}
	if bh, ok := p.Handler.(BatchHandler); ok {
		p.processSetBatch(ctx, bh, raws)
		return
	}
	var items []item
	var single []jetstream.Msg
	for _, raw := range raws {
		m := newMessage(raw, p.Spec.Name)
		if m.Delivery > 1 || m.ID != m.MsgID {
			single = append(single, raw) // redeliveries and replays take the careful path
			continue
		}
		it := item{raw: raw, m: m, start: time.Now()}
		commit, err := p.handle(ctx, m)
		if err != nil || commit == nil {
			p.settle(ctx, raw, m, err, it.start)
			continue
		}
		it.commit = commit
		items = append(items, it)
	}
	for _, raw := range single {
		p.process(ctx, raw)
	}
	if len(items) == 0 {
		return
	}
	err := func() error {
		tx, err := db.Begin(ctx, p.DB)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		wtx := newTx(tx, p.Forwarder)
		for _, it := range items {
			if err := wtx.D.InsertProcessedMessage(ctx, dbsqlc.InsertProcessedMessageParams{Consumer: it.m.Consumer, MessageID: it.m.ID}); err != nil {
				return err
			}
			if err := it.commit(ctx, wtx); err != nil {
				return err
			}
		}
		if err := wtx.flushEvents(ctx); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil { // with the queued writes, in one round trip
			return err
		}
		wtx.committed()
		return nil
	}()
	if err != nil {
		p.Log.Debug("batch failed; processing its messages one by one", "error", err, "size", len(items))
		for _, it := range items {
			p.process(ctx, it.raw)
		}
		items = nil
		return
	}
	for _, it := range items {
		p.settle(ctx, it.raw, it.m, nil, it.start)
	}
}

// processSetBatch hands a batch of first deliveries to a BatchHandler in
// one transaction; on any failure each message is processed on its own.
func (p *Pool) processSetBatch(ctx context.Context, bh BatchHandler, raws []jetstream.Msg) {
	var msgs []*Message
	var batched []jetstream.Msg
	start := time.Now()
	for _, raw := range raws {
		m := newMessage(raw, p.Spec.Name)
		if m.Delivery > 1 || m.ID != m.MsgID {
			p.process(ctx, raw) // redeliveries and replays take the careful path
			continue
		}
		msgs, batched = append(msgs, m), append(batched, raw)
	}
	if len(msgs) == 0 {
		return
	}
	if bs, ok := bh.(BatchSkipper); ok {
		// An error here is not final: the transaction below meets it again
		// and falls back to the messages one by one.
		if skip, err := bs.NothingToWrite(ctx, msgs); err == nil && skip {
			for i, raw := range batched {
				p.settle(ctx, raw, msgs[i], nil, start)
			}
			return
		}
	}
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				p.Log.Error("batch handler panicked", "panic", r, "stack", string(debug.Stack()))
				err = fmt.Errorf("batch handler panic: %v", r)
			}
		}()
		tx, err := db.Begin(ctx, p.DB)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		wtx := newTx(tx, p.Forwarder)
		ids := make([]string, len(msgs))
		for i, m := range msgs {
			ids[i] = m.ID
		}
		if err := wtx.D.InsertProcessedMessages(ctx, dbsqlc.InsertProcessedMessagesParams{Consumer: p.Spec.Name, MessageIds: ids}); err != nil {
			return err
		}
		if err := bh.HandleBatch(ctx, wtx, msgs); err != nil {
			return err
		}
		if err := wtx.flushEvents(ctx); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil { // with the queued writes, in one round trip
			return err
		}
		wtx.committed()
		return nil
	}()
	if p.batchHook != nil {
		p.batchHook(len(msgs), err)
	}
	if err != nil {
		p.Log.Debug("batch failed; processing its messages one by one", "error", err, "size", len(msgs))
		for _, raw := range batched {
			p.process(ctx, raw)
		}
		return
	}
	for i, raw := range batched {
		p.settle(ctx, raw, msgs[i], nil, start)
	}
}

// handle runs the handler's first phase, turning a panic into an error.
func (p *Pool) handle(ctx context.Context, m *Message) (c Commit, err error) {
	defer func() {
		if r := recover(); r != nil {
			p.Log.Error("handler panicked", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	return p.Handler.Handle(ctx, m)
}

var errDuplicate = errors.New("duplicate message")

// recordReplay notes how a replayed dead letter ended on its failed_events
// row (the row of the original message id): applied, already applied, or
// failed again; a retry decides nothing yet.
func (p *Pool) recordReplay(ctx context.Context, m *Message, err error) {
	outcome := ""
	switch {
	case err == nil:
		outcome = "applied"
	case errors.Is(err, errDuplicate):
		outcome = "already_applied"
	case errors.Is(err, errCrash), errors.Is(err, errRedeliver):
		return
	case IsPermanent(err), int(m.Delivery) >= p.Spec.MaxDeliver:
		outcome = "failed_again"
	default:
		return
	}
	if err := dbsqlc.New(p.DB).RecordReplayOutcome(ctx, dbsqlc.RecordReplayOutcomeParams{Consumer: m.Consumer, MessageID: m.ID, Outcome: outcome}); err != nil {
		p.Log.Warn("cannot record the outcome of a replay", "error", err, "message_id", m.ID)
	}
}

// isProcessedConflict reports whether err is the processed_messages unique
// violation: the message's effects were committed by another delivery.
func isProcessedConflict(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "processed_messages_pkey"
}

// holder keeps the messages a pool has taken and not yet settled. One
// ticker sends InProgress for those held a third of AckWait or longer, so
// neither a message waiting for a busy worker nor one whose handler runs
// long is redelivered meanwhile. (A goroutine and ticker per message, as
// before, cost about 2% of the CPU at full load, and left waiting messages
// uncovered.)
type holder struct {
	mu   sync.Mutex
	msgs map[jetstream.Msg]time.Time
}

func (h *holder) take(m jetstream.Msg) {
	if h == nil {
		return
	}
	h.mu.Lock()
	h.msgs[m] = time.Now()
	h.mu.Unlock()
}

func (h *holder) release(m jetstream.Msg) {
	if h == nil {
		return
	}
	h.mu.Lock()
	delete(h.msgs, m)
	h.mu.Unlock()
}

// keepAlive runs until ctx ends.
func (h *holder) keepAlive(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var due []jetstream.Msg
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			due = due[:0]
			h.mu.Lock()
			for m, since := range h.msgs {
				if now.Sub(since) >= every {
					due = append(due, m)
				}
			}
			h.mu.Unlock()
			for _, m := range due {
				_ = m.InProgress() // sends nothing once the message is settled
			}
		}
	}
}

// run executes the handler and commits its effects with the processed row.
func (p *Pool) run(ctx context.Context, m *Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			p.Log.Error("handler panicked", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	// Skip expensive work for a message whose effects are known to be
	// committed. A first delivery that is not a replay has nothing to find;
	// the processed row inserted below still guards every case.
	if m.Delivery > 1 || m.ID != m.MsgID {
		q := dbsqlc.New(p.DB)
		if done, err := q.IsMessageProcessed(ctx, dbsqlc.IsMessageProcessedParams{Consumer: m.Consumer, MessageID: m.ID}); err != nil {
			return err
		} else if done {
			return errDuplicate
		}
	}
	commit, err := p.Handler.Handle(ctx, m)
	if err != nil {
		return err
	}
	if commit == nil {
		// Nothing to write: no effect can be duplicated, so no transaction
		// and no processed row are needed (most events most consumers skip).
		return nil
	}
	tx, err := db.Begin(ctx, p.DB)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	wtx := newTx(tx, p.Forwarder)
	// The processed row goes first (queued, sent with the handler's first
	// statement): a concurrent delivery of the same message blocks on it and
	// then fails with a unique violation instead of applying twice.
	if err := wtx.D.InsertProcessedMessage(ctx, dbsqlc.InsertProcessedMessageParams{Consumer: m.Consumer, MessageID: m.ID}); err != nil {
		return err
	}
	if err := commit(ctx, wtx); err != nil {
		if isProcessedConflict(err) {
			return errDuplicate
		}
		return err
	}
	if m.Delivery > 1 {
		if err := wtx.D.ClearMessageFailures(ctx, dbsqlc.ClearMessageFailuresParams{Consumer: m.Consumer, MessageID: m.ID}); err != nil {
			return err
		}
	}
	if err := wtx.flushEvents(ctx); err != nil {
		return err
	}
	if p.beforeCommit != nil {
		if err := wtx.pipe.Flush(ctx); err != nil {
			if isProcessedConflict(err) {
				return errDuplicate
			}
			return err
		}
		if err := p.beforeCommit(m); err != nil {
			return err
		}
	}
	// The queued writes go with COMMIT, in one round trip.
	if err := tx.Commit(ctx); err != nil {
		if isProcessedConflict(err) {
			return errDuplicate
		}
		return err
	}
	wtx.committed()
	if p.afterCommit != nil {
		return p.afterCommit(m)
	}
	return nil
}

func (p *Pool) recordFailure(ctx context.Context, m *Message, cause error) {
	err := dbsqlc.New(p.DB).RecordMessageFailure(ctx, dbsqlc.RecordMessageFailureParams{
		Consumer: m.Consumer, MessageID: m.ID, Attempt: int32(m.Delivery), Error: truncate(cause.Error(), 4000),
	})
	if err != nil {
		p.Log.Warn("cannot record attempt failure", "error", err)
	}
}

type attemptError struct {
	Attempt  int32     `json:"attempt"`
	Error    string    `json:"error"`
	FailedAt time.Time `json:"failed_at"`
}

// deadLetter copies the message to failed_events with every attempt's error,
// then terminates it (which removes it from a work-queue stream).
func (p *Pool) deadLetter(ctx context.Context, raw jetstream.Msg, m *Message, reason string, cause error) {
	inserted, err := RecordDeadLetter(ctx, p.DB, DeadLetter{
		Consumer: m.Consumer, Stream: m.Stream, StreamSeq: m.StreamSeq, MessageID: m.ID, Subject: m.Subject,
		Header: m.Header, Payload: m.Data, Reason: reason, LastError: cause.Error(), Attempts: int(m.Delivery),
	})
	if err != nil {
		// Not recorded: leave the message for redelivery rather than lose it.
		p.Log.Error("cannot record dead letter; message left for redelivery", "error", err)
		_ = raw.NakWithDelay(p.Backoff(int(m.Delivery)))
		return
	}
	if inserted && p.Metrics != nil {
		p.Metrics.FailedEvents.WithLabelValues(m.Consumer).Inc()
	}
	if err := raw.TermWithReason(truncate(reason+": "+cause.Error(), 200)); err != nil {
		p.Log.Warn("term failed", "error", err)
	}
}

// DeadLetter is a message being moved to failed_events.
type DeadLetter struct {
	Consumer  string
	Stream    string
	StreamSeq uint64
	MessageID string
	Subject   string
	Header    map[string][]string
	Payload   []byte
	Reason    string // max_deliver | terminated
	LastError string
	Attempts  int
}

// RecordDeadLetter inserts a failed_events row (once per consumer and stream
// sequence) with the errors of earlier attempts; it reports whether a row was
// inserted.
func RecordDeadLetter(ctx context.Context, pool *pgxpool.Pool, d DeadLetter) (bool, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	q := dbsqlc.New(tx)
	prior, err := q.TakeMessageFailures(ctx, dbsqlc.TakeMessageFailuresParams{Consumer: d.Consumer, MessageID: d.MessageID})
	if err != nil {
		return false, err
	}
	now := time.Now().UTC()
	first := now
	attempts := make([]attemptError, 0, len(prior)+1)
	for _, f := range prior {
		if f.Attempt == int32(d.Attempts) {
			continue
		}
		attempts = append(attempts, attemptError{Attempt: f.Attempt, Error: f.Error, FailedAt: f.FailedAt.UTC()})
		if f.FailedAt.Before(first) {
			first = f.FailedAt.UTC()
		}
	}
	attempts = append(attempts, attemptError{Attempt: int32(d.Attempts), Error: truncate(d.LastError, 4000), FailedAt: now})
	errsJSON, _ := json.Marshal(attempts)
	headers := d.Header
	if headers == nil {
		headers = map[string][]string{}
	}
	headersJSON, _ := json.Marshal(headers)
	env, _ := events.Decode(d.Payload)
	n, err := q.InsertFailedEvent(ctx, dbsqlc.InsertFailedEventParams{
		ID: uuid.New(), Consumer: d.Consumer, Stream: d.Stream, StreamSeq: int64(d.StreamSeq), MessageID: d.MessageID,
		Subject: d.Subject, OrgID: env.OrgID, Type: firstNonEmpty(env.Type, events.TypeFromSubject(d.Subject)),
		Headers: headersJSON, Payload: d.Payload, Reason: d.Reason, LastError: truncate(d.LastError, 4000),
		Errors: errsJSON, Attempts: int32(d.Attempts), FirstFailedAt: first, LastFailedAt: now,
	})
	if err != nil {
		return false, err
	}
	return n == 1, tx.Commit(ctx)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
