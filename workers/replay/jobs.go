package replay

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
)

// MaxJobItems bounds one bulk replay.
const MaxJobItems = 10000

// Jobs runs bulk replay jobs queued by the API: one job at a time per
// runner, claimed with SKIP LOCKED so several processes can run runners.
type Jobs struct {
	Replayer *Replayer
	Log      *slog.Logger
	Interval time.Duration
	// OutcomeWait bounds how long a job waits for replayed messages to settle.
	OutcomeWait time.Duration
}

// Run polls for queued jobs until ctx ends.
func (j *Jobs) Run(ctx context.Context) error {
	if j.Interval <= 0 {
		j.Interval = time.Second
	}
	if j.OutcomeWait <= 0 {
		j.OutcomeWait = 5 * time.Minute
	}
	if j.Log == nil {
		j.Log = slog.Default()
	}
	t := time.NewTicker(j.Interval)
	defer t.Stop()
	for {
		for {
			ran, err := j.RunOne(ctx)
			if err != nil && ctx.Err() == nil {
				j.Log.Warn("replay job failed", "error", err)
			}
			if !ran {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RunOne runs the oldest queued job, if any.
func (j *Jobs) RunOne(ctx context.Context) (bool, error) {
	q := dbsqlc.New(j.Replayer.DB)
	job, err := q.ClaimReplayJob(ctx)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	fail := func(err error) (bool, error) {
		msg := err.Error()
		_ = q.FinishReplayJob(context.WithoutCancel(ctx), dbsqlc.FinishReplayJobParams{ID: job.ID, Status: "failed", Error: &msg})
		return true, err
	}
	var f Filter
	if err := json.Unmarshal(job.Filter, &f); err != nil {
		return fail(err)
	}
	if job.OrgID != nil {
		f.OrgID = *job.OrgID // a job never reaches another org's dead letters
	}
	rows, err := j.Replayer.Select(ctx, f, MaxJobItems)
	if err != nil {
		return fail(err)
	}
	ids := make([]uuid.UUID, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	if err := q.SetReplayJobItems(ctx, dbsqlc.SetReplayJobItemsParams{ID: job.ID, Items: ids}); err != nil {
		return fail(err)
	}
	fes, err := q.GetFailedEventsByID(ctx, ids)
	if err != nil {
		return fail(err)
	}
	for i, fe := range fes {
		if err := j.Replayer.One(ctx, fe, job.RequestedBy); err != nil {
			j.Log.Warn("replay of one dead letter failed", "failed_event", fe.ID, "error", err)
		}
		if i%50 == 49 {
			_ = q.UpdateReplayJobCounts(ctx, job.ID)
		}
	}
	deadline := time.Now().Add(j.OutcomeWait)
	for time.Now().Before(deadline) {
		_ = q.UpdateReplayJobCounts(ctx, job.ID)
		n, err := q.CountPendingReplays(ctx, ids)
		if err != nil || n == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	_ = q.UpdateReplayJobCounts(ctx, job.ID)
	return true, q.FinishReplayJob(ctx, dbsqlc.FinishReplayJobParams{ID: job.ID, Status: "done"})
}
