package events

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/internal/metrics"
)

// Relay moves committed events from the outbox (the events table) to the
// EVENTS stream. Several relays may run at once: each claims rows with
// FOR UPDATE SKIP LOCKED, and Nats-Msg-Id = event id makes a publish that is
// repeated after a crash a no-op on the server.
type Relay struct {
	Pool         *pgxpool.Pool
	JS           jetstream.JetStream
	Metrics      *metrics.Metrics
	Log          *slog.Logger
	BatchSize    int
	PollInterval time.Duration
	// VacuumEvery is how often the relay vacuums the outbox while it is
	// publishing (default 1 s; negative: never). Every published event leaves
	// a dead outbox row, and the claim's index scan wades through those until
	// a vacuum; autovacuum visits a table at most once per autovacuum_naptime
	// (1 min by default), long enough for a backlog to feed on itself.
	VacuumEvery time.Duration
	// publishHook lets tests simulate a crash between publish and commit.
	publishHook func(id uuid.UUID) error
}

// Run publishes until ctx ends. It wakes on NOTIFY events_pending and polls
// as a fallback.
func (r *Relay) Run(ctx context.Context) error {
	if r.BatchSize <= 0 {
		r.BatchSize = 256
	}
	if r.PollInterval <= 0 {
		r.PollInterval = time.Second
	}
	if r.Log == nil {
		r.Log = slog.Default()
	}
	if r.VacuumEvery == 0 {
		r.VacuumEvery = time.Second
	}
	wake := make(chan struct{}, 1)
	go db.Listen(ctx, r.Pool, "events_pending", wake, r.Log)
	ticker := time.NewTicker(r.PollInterval)
	defer ticker.Stop()
	var published atomic.Int64
	if r.VacuumEvery > 0 {
		go r.vacuumOutbox(ctx, &published) // beside the loop: publishing never waits for it
	}
	for {
		n, err := r.PublishBatch(ctx)
		if err != nil && ctx.Err() == nil {
			r.Log.Warn("outbox relay batch failed", "error", err)
		}
		published.Add(int64(n))
		if err == nil && n == r.BatchSize {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-ticker.C:
		}
	}
}

// vacuumOutbox vacuums the outbox every VacuumEvery while events are being
// published.
func (r *Relay) vacuumOutbox(ctx context.Context, published *atomic.Int64) {
	t := time.NewTicker(r.VacuumEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if published.Swap(0) == 0 {
			continue
		}
		// TRUNCATE false: truncating the emptied table would take an exclusive
		// lock that stalls every committing writer and the relay.
		if _, err := r.Pool.Exec(ctx, "VACUUM (TRUNCATE false) event_outbox"); err != nil && ctx.Err() == nil {
			// e.g. not the table owner: autovacuum still runs.
			r.Log.Warn("outbox vacuum failed; leaving it to autovacuum", "error", err)
			return
		}
	}
}

// PublishBatch publishes up to BatchSize pending events and returns how many
// it marked published.
func (r *Relay) PublishBatch(ctx context.Context) (int, error) {
	var published int
	var types []string
	// Two round trips: BEGIN with the claim, the marks with COMMIT.
	err := inLazyTx(ctx, r.Pool, func(q, deferred *dbsqlc.Queries) error {
		rows, err := q.ClaimPendingEvents(ctx, int32(r.BatchSize))
		if err != nil || len(rows) == 0 {
			return err
		}
		futures := make([]jetstream.PubAckFuture, len(rows))
		var pubErr error
		for i, row := range rows {
			e := Envelope{
				SpecVersion: SpecVersion, ID: row.ID.String(), Source: row.Source, Type: row.Type,
				Subject: row.Subject, Time: row.Time.UTC(), DataContentType: "application/json",
				OrgID: row.OrgID, Data: row.Data,
			}
			msg, err := Message(EventSubject(row.Type, row.OrgID), e)
			if err != nil {
				pubErr = err
				break
			}
			if futures[i], err = r.JS.PublishMsgAsync(msg, jetstream.WithMsgID(e.ID)); err != nil {
				pubErr = err
				break
			}
		}
		var seqs, streamSeqs []int64
		var done []dbsqlc.ClaimPendingEventsRow
		// An ack that never comes must not hold the claimed rows forever:
		// the rest stay pending for the next batch.
		timeout := time.NewTimer(ackTimeout)
		defer timeout.Stop()
	wait:
		for i, f := range futures {
			if f == nil {
				break
			}
			select {
			case ack := <-f.Ok():
				seqs = append(seqs, rows[i].Seq)
				done = append(done, rows[i])
				streamSeqs = append(streamSeqs, int64(ack.Sequence))
				types = append(types, rows[i].Type)
			case err := <-f.Err():
				pubErr = errors.Join(pubErr, err)
			case <-timeout.C:
				pubErr = errors.Join(pubErr, errors.New("no publish ack within "+ackTimeout.String()))
				break wait
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if r.publishHook != nil {
			for _, row := range done {
				if err := r.publishHook(row.ID); err != nil {
					return err
				}
			}
		}
		if len(seqs) > 0 {
			if err := deferred.MarkEventsPublished(ctx, dbsqlc.MarkEventsPublishedParams{Seqs: seqs, StreamSeqs: streamSeqs}); err != nil {
				return err
			}
		}
		published = len(seqs)
		// Events published so far are committed as published; the rest stay pending.
		if pubErr != nil {
			r.Log.Warn("outbox relay: some events not published", "error", pubErr, "published", published)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if r.Metrics != nil {
		for _, t := range types {
			r.Metrics.EventsPublished.WithLabelValues(t).Inc()
		}
	}
	return published, nil
}

// inLazyTx runs fn in a db.Tx and commits; fn gets the queries that send at
// once and those that are queued until the commit.
func inLazyTx(ctx context.Context, pool *pgxpool.Pool, fn func(q, deferred *dbsqlc.Queries) error) error {
	tx, err := db.Begin(ctx, pool)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// The marks need not wait for the WAL flush: if a crash loses them, the
	// events are published again under the same Nats-Msg-Id (a duplicate
	// the stream drops) and consumers skip what they processed. The relay
	// then starts its next batch ~1 ms sooner per commit.
	tx.SkipCommitFlush()
	if err := fn(dbsqlc.New(tx), dbsqlc.New(tx.Pipeline().Deferred())); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
