// Package workers runs handlers over durable JetStream pull consumers with
// exactly-once effects: a handler's state changes, the events it emits and a
// processed_messages row commit in one transaction, and the message is
// acknowledged only after that commit.
package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
)

// Message is one delivery of a stream message.
type Message struct {
	// ID is the idempotency key: the original Nats-Msg-Id, also for replays
	// (Replay-Of), so a replay of an already-applied message has no effect.
	ID        string
	MsgID     string
	Subject   string
	Header    nats.Header
	Data      []byte
	Delivery  uint64 // 1 on the first delivery
	Stream    string
	StreamSeq uint64
	Consumer  string
}

// Envelope decodes the CloudEvents envelope of the message.
func (m *Message) Envelope() (events.Envelope, error) { return events.Decode(m.Data) }

// Tx is the handler's transaction. Q sends each statement when called (with
// anything queued before it); D only queues writes whose result is not
// needed, and they go out with the next Q statement or at commit, saving a
// round trip each. Both keep one order.
type Tx struct {
	pgx.Tx
	Q       *dbsqlc.Queries
	D       *dbsqlc.Queries
	pipe    *db.Pipeline
	emitted []events.Envelope
	flushed int
	after   []func()
	fwd     *events.Forwarder
}

// AfterCommit runs f once the transaction has committed; never when it rolls
// back (then the messages are applied again, in a new transaction).
func (t *Tx) AfterCommit(f func()) { t.after = append(t.after, f) }

func (t *Tx) committed() {
	for _, f := range t.after {
		f()
	}
	t.fwd.Forward(t.emitted)
}

// newTx wraps tx; with fwd the events it emits are published right after
// the commit, with the relay as the fallback.
func newTx(tx *db.Tx, fwd *events.Forwarder) *Tx {
	p := tx.Pipeline()
	return &Tx{Tx: tx, Q: dbsqlc.New(p.Immediate()), D: dbsqlc.New(p.Deferred()), pipe: p, fwd: fwd}
}

// Emit writes an event into the outbox in this transaction; after the
// commit the pool's forwarder (else the relay) publishes it. Events are queued and inserted together, in
// one statement, just before the commit.
func (t *Tx) Emit(ctx context.Context, e events.Envelope) error {
	if err := e.Validate(); err != nil {
		return Permanent(fmt.Errorf("emit %s: %w", e.Type, err))
	}
	if _, err := uuid.Parse(e.ID); err != nil {
		return Permanent(fmt.Errorf("emit %s: event id must be a UUID: %w", e.Type, err))
	}
	if e.Data == nil {
		e.Data = json.RawMessage("null")
	}
	t.emitted = append(t.emitted, e)
	return nil
}

// flushEvents queues the insert of every event emitted since the last flush.
func (t *Tx) flushEvents(ctx context.Context) error {
	pending := t.emitted[t.flushed:]
	if len(pending) == 0 {
		return nil
	}
	t.flushed = len(t.emitted)
	return t.D.InsertEvents(ctx, events.InsertParams(pending, t.fwd))
}

// Emitted lists the events emitted so far in this transaction.
func (t *Tx) Emitted() []events.Envelope { return t.emitted }

// Commit is the part of a handler that runs inside the transaction.
type Commit func(ctx context.Context, tx *Tx) error

// Handler processes a message. Work that must not hold a transaction open
// (a solver run, an HTTP call) happens in Handle; the returned Commit runs in
// the transaction that also records the message as processed. A nil Commit
// with a nil error means "nothing to write": the message is acknowledged
// without a transaction.
type Handler interface {
	Handle(ctx context.Context, m *Message) (Commit, error)
}

// BatchHandler is a Handler that can also apply a batch of first
// deliveries in one transaction with set-based statements. Any error fails
// the whole batch; the pool then processes each message through Handle.
type BatchHandler interface {
	Handler
	HandleBatch(ctx context.Context, tx *Tx, msgs []*Message) error
}

// SingleBatcher is a BatchHandler whose batch path is also the cheaper one
// for a lone message (it reads and writes in two round trips where Handle
// takes more); the pool then uses HandleBatch for every first delivery.
type SingleBatcher interface {
	BatchHandler
	BatchSingles() bool
}

// BatchSkipper is a BatchHandler that can tell, before any transaction,
// that a batch has nothing to write (a webhook fan-out whose events match no
// endpoint). The pool then acknowledges the batch without a transaction or
// processed rows, as it does for a Handle that returns no Commit: with no
// effect there is nothing a redelivery could repeat.
type BatchSkipper interface {
	BatchHandler
	NothingToWrite(ctx context.Context, msgs []*Message) (bool, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, m *Message) (Commit, error)

// Handle implements Handler.
func (f HandlerFunc) Handle(ctx context.Context, m *Message) (Commit, error) { return f(ctx, m) }

// TxHandler is a handler that does all its work inside the transaction.
func TxHandler(fn func(ctx context.Context, tx *Tx, m *Message) error) Handler {
	return HandlerFunc(func(_ context.Context, m *Message) (Commit, error) {
		return func(ctx context.Context, tx *Tx) error { return fn(ctx, tx, m) }, nil
	})
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks an error that no retry can fix (an undecodable payload, an
// unknown type): the message is terminated and becomes a dead letter at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter is a retryable error with a delay chosen by the handler instead
// of the pool's backoff. Any error that is not Permanent is retryable.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err: err, after: d}
}
