package approval

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/flow"
)

// timerNamespace derives a timer's command id from its id, so a timer
// published twice (a crash between publish and commit) is one message.
var timerNamespace = uuid.MustParse("6f1c2a8e-3b5d-4e7f-9a01-2c3d4e5f6a7b")

// TimerCommandID is the message id of the command that fires a timer.
func TimerCommandID(timerID string) string {
	return uuid.NewSHA1(timerNamespace, []byte(timerID)).String()
}

// TimerScheduler fires due timers as approval commands. Timers live in
// Postgres, so they survive restarts of every process; rows are claimed with
// SKIP LOCKED, so several schedulers may run, and each fires once.
type TimerScheduler struct {
	DB        *pgxpool.Pool
	Publisher *events.Publisher
	Log       *slog.Logger
	// Interval is the polling period; timers fire at most this late.
	Interval time.Duration
}

// Run polls until ctx ends.
func (s *TimerScheduler) Run(ctx context.Context) error {
	if s.Interval <= 0 {
		s.Interval = 200 * time.Millisecond
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		for {
			n, err := s.FireDue(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.Log.Warn("firing timers failed", "error", err)
				}
				break
			}
			if n < timerBatch {
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

const timerBatch = 100

// FireDue publishes the commands of due timers and marks them fired, in one
// transaction per batch; it returns how many fired.
func (s *TimerScheduler) FireDue(ctx context.Context) (int, error) {
	var fired int
	err := db.InTx(ctx, s.DB, func(tx pgx.Tx, q *dbsqlc.Queries) error {
		rows, err := q.ClaimDueTimers(ctx, timerBatch)
		if err != nil || len(rows) == 0 {
			return err
		}
		ids := make([]string, 0, len(rows))
		for _, r := range rows {
			action := flow.ActTimeout
			if r.Kind == string(flow.TimerReminder) {
				action = flow.ActRemind
			}
			e, err := events.New(r.OrgID, Source, TypeTimer, "approvals/"+r.InstanceID.String(), CommandData{Command: flow.Command{
				Action: action, Actor: flow.SystemActor, InstanceID: r.InstanceID.String(), TimerID: r.ID, At: r.DueAt,
			}})
			if err != nil {
				return err
			}
			e.ID = TimerCommandID(r.ID)
			if _, err := s.Publisher.PublishCommand(ctx, e); err != nil {
				return err
			}
			ids = append(ids, r.ID)
		}
		fired = len(ids)
		return q.MarkTimersFired(ctx, ids)
	})
	return fired, err
}
