// Package retention deletes old data in batches, as the seed manual's
// cleanup SQL did by hand: published events, audit logs, resolved dead
// letters, and bookkeeping that has outlived its purpose. One process runs
// it at a time (a PostgreSQL advisory lock).
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/internal/metrics"
)

// Policy says how long each kind of row is kept.
type Policy struct {
	Events      time.Duration // published events (the outbox's pending rows are never touched)
	Audit       time.Duration
	DeadLetters time.Duration // resolved or discarded ones only
	// Processed message ids must outlive redeliveries and the stream's
	// de-duplication window; a week is far beyond both. Fired timers too.
	Processed time.Duration
	// Succeeded webhook deliveries (their attempts go with them).
	Deliveries time.Duration
	BatchSize  int
}

// Tables in the order they are cleaned; the metric's table label.
var Tables = []string{"events", "audit_logs", "failed_events", "processed_messages", "idempotency_keys", "approval_timers", "webhook_deliveries"}

// Cleaner runs the policy.
type Cleaner struct {
	DB      *pgxpool.Pool
	Policy  Policy
	Metrics *metrics.Metrics
	Log     *slog.Logger
	Now     func() time.Time
}

type task struct {
	table  string
	cutoff time.Time
	del    func(ctx context.Context, q *dbsqlc.Queries, cutoff time.Time, n int32) (int64, error)
	count  func(ctx context.Context, q *dbsqlc.Queries, cutoff time.Time) (int64, error)
}

func (c *Cleaner) tasks() []task {
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	p := c.Policy
	return []task{
		{"events", now.Add(-p.Events),
			func(ctx context.Context, q *dbsqlc.Queries, t time.Time, n int32) (int64, error) {
				return q.DeleteOldPublishedEvents(ctx, dbsqlc.DeleteOldPublishedEventsParams{Cutoff: t, MaxRows: n})
			}, func(ctx context.Context, q *dbsqlc.Queries, t time.Time) (int64, error) {
				return q.CountOldPublishedEvents(ctx, t)
			}},
		{"audit_logs", now.Add(-p.Audit),
			func(ctx context.Context, q *dbsqlc.Queries, t time.Time, n int32) (int64, error) {
				return q.DeleteOldAuditLogs(ctx, dbsqlc.DeleteOldAuditLogsParams{Cutoff: t, MaxRows: n})
			}, func(ctx context.Context, q *dbsqlc.Queries, t time.Time) (int64, error) {
				return q.CountOldAuditLogs(ctx, t)
			}},
		{"failed_events", now.Add(-p.DeadLetters),
			func(ctx context.Context, q *dbsqlc.Queries, t time.Time, n int32) (int64, error) {
				return q.DeleteOldDeadLetters(ctx, dbsqlc.DeleteOldDeadLettersParams{Cutoff: t, MaxRows: n})
			}, func(ctx context.Context, q *dbsqlc.Queries, t time.Time) (int64, error) {
				return q.CountOldDeadLetters(ctx, t)
			}},
		{"processed_messages", now.Add(-p.Processed),
			func(ctx context.Context, q *dbsqlc.Queries, t time.Time, n int32) (int64, error) {
				return q.DeleteOldProcessedMessages(ctx, dbsqlc.DeleteOldProcessedMessagesParams{Cutoff: t, MaxRows: n})
			}, func(ctx context.Context, q *dbsqlc.Queries, t time.Time) (int64, error) {
				return q.CountOldProcessedMessages(ctx, t)
			}},
		{"idempotency_keys", now,
			func(ctx context.Context, q *dbsqlc.Queries, t time.Time, n int32) (int64, error) {
				return q.DeleteExpiredIdempotency(ctx, dbsqlc.DeleteExpiredIdempotencyParams{Cutoff: t, MaxRows: n})
			}, func(ctx context.Context, q *dbsqlc.Queries, t time.Time) (int64, error) {
				return q.CountExpiredIdempotency(ctx, t)
			}},
		{"approval_timers", now.Add(-p.Processed),
			func(ctx context.Context, q *dbsqlc.Queries, t time.Time, n int32) (int64, error) {
				return q.DeleteFiredTimers(ctx, dbsqlc.DeleteFiredTimersParams{Cutoff: t, MaxRows: n})
			}, func(ctx context.Context, q *dbsqlc.Queries, t time.Time) (int64, error) {
				return q.CountFiredTimers(ctx, t)
			}},
		{"webhook_deliveries", now.Add(-p.Deliveries),
			func(ctx context.Context, q *dbsqlc.Queries, t time.Time, n int32) (int64, error) {
				return q.DeleteOldDeliveries(ctx, dbsqlc.DeleteOldDeliveriesParams{Cutoff: t, MaxRows: n})
			}, func(ctx context.Context, q *dbsqlc.Queries, t time.Time) (int64, error) {
				return q.CountOldDeliveries(ctx, t)
			}},
	}
}

// ErrLocked means another process is cleaning right now.
var ErrLocked = errors.New("another cleanup holds the lock")

// RunOnce cleans every table (dry: only counts) and returns the rows per
// table. It holds the advisory lock for the whole run.
func (c *Cleaner) RunOnce(ctx context.Context, dry bool) (map[string]int64, error) {
	if c.Policy.BatchSize <= 0 {
		c.Policy.BatchSize = 5000
	}
	conn, err := c.DB.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	q := dbsqlc.New(conn)
	locked, err := q.TryRetentionLock(ctx)
	if err != nil {
		return nil, err
	}
	if !locked {
		return nil, ErrLocked
	}
	defer func() { _, _ = q.ReleaseRetentionLock(context.WithoutCancel(ctx)) }()
	out := map[string]int64{}
	for _, t := range c.tasks() {
		if dry {
			n, err := t.count(ctx, q, t.cutoff)
			if err != nil {
				return out, fmt.Errorf("%s: %w", t.table, err)
			}
			out[t.table] = n
			continue
		}
		for {
			// Small batches keep locks and WAL bursts short.
			n, err := t.del(ctx, q, t.cutoff, int32(c.Policy.BatchSize))
			if err != nil {
				return out, fmt.Errorf("%s: %w", t.table, err)
			}
			out[t.table] += n
			if c.Metrics != nil && n > 0 {
				c.Metrics.CleanupDeleted.WithLabelValues(t.table).Add(float64(n))
			}
			if n < int64(c.Policy.BatchSize) {
				break
			}
		}
	}
	return out, nil
}

// Run cleans every interval until ctx ends.
func (c *Cleaner) Run(ctx context.Context, interval time.Duration) error {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Metrics != nil {
		for _, t := range Tables {
			c.Metrics.CleanupDeleted.WithLabelValues(t)
		}
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		res, err := c.RunOnce(ctx, false)
		switch {
		case errors.Is(err, ErrLocked):
		case err != nil && ctx.Err() == nil:
			c.Log.Warn("retention cleanup failed", "error", err)
		case err == nil:
			c.Log.Info("retention cleanup done", "deleted", res)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
