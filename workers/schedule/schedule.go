// Package schedule runs the rostering solver through the pipeline: a worker
// pool solves schedule requests from the COMMANDS stream, reports progress,
// honours cancellation, stores rosters as assignments, and re-plans carry a
// diff against the roster they repair.
package schedule

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/internal/metrics"
	"github.com/shiftflow/shiftflow/roster"
	"github.com/shiftflow/shiftflow/workers"
	"github.com/shiftflow/shiftflow/workers/approval"
)

// Command and event types.
const (
	TypeSolve = "schedule.run.solve"

	EventProgress  = "schedule.run.progress"
	EventCompleted = "schedule.run.completed"
	EventFailed    = "schedule.run.failed"
	EventCancelled = "schedule.run.cancelled"
	EventReplanned = "schedule.run.replanned"
	EventPublished = "schedule.roster.published"

	Source = "shiftflow/schedule"
)

// EventTypes lists every event type the scheduling side emits.
var EventTypes = []string{EventProgress, EventCompleted, EventFailed, EventCancelled, EventReplanned, EventPublished}

// Consumer is the durable consumer of the schedule pool. Solves are long:
// the pool's keep-alive sends InProgress well within AckWait.
func Consumer(maxDeliver int, ackWait time.Duration) events.ConsumerSpec {
	return events.ConsumerSpec{
		Name: "schedule", Stream: events.CommandsStream, Filter: "cmd.schedule.>",
		MaxDeliver: maxDeliver, AckWait: ackWait, MaxAckPending: 1024,
		Description: "solves schedule requests and re-plans",
	}
}

// SolveCommand is the data of a solve command. It carries everything needed
// to create the schedule row, so a request whose row the API could not
// write is still solved.
type SolveCommand struct {
	ScheduleID  string          `json:"schedule_id"`
	Name        string          `json:"name,omitempty"`
	Source      string          `json:"source"` // json | nrp | replan
	Problem     json.RawMessage `json:"problem"`
	TimeLimitMS int             `json:"time_limit_ms"`
	Seed        uint64          `json:"seed"`
	ParentID    string          `json:"parent_id,omitempty"`
	ApprovalID  string          `json:"approval_id,omitempty"`
	RequestedBy string          `json:"requested_by"`
}

// RowParams turns a command into the row insert shared by the API and the worker.
func RowParams(org string, c SolveCommand, m *roster.Model) (dbsqlc.InsertScheduleParams, error) {
	id, err := uuid.Parse(c.ScheduleID)
	if err != nil {
		return dbsqlc.InsertScheduleParams{}, fmt.Errorf("schedule id %q: %w", c.ScheduleID, err)
	}
	start, days := m.Horizon()
	p := dbsqlc.InsertScheduleParams{ID: id, OrgID: org, Name: c.Name, Source: c.Source, Problem: c.Problem,
		StartDate: start, EndDate: start.AddDate(0, 0, days-1), Employees: int32(len(m.Employees)),
		ShiftTypes: int32(len(m.ShiftTypes)), TimeLimitMs: int32(c.TimeLimitMS), Seed: int64(c.Seed), RequestedBy: c.RequestedBy}
	if c.ParentID != "" {
		pid, err := uuid.Parse(c.ParentID)
		if err != nil {
			return p, err
		}
		p.ParentID = uuid.NullUUID{UUID: pid, Valid: true}
	}
	if c.ApprovalID != "" {
		aid, err := uuid.Parse(c.ApprovalID)
		if err != nil {
			return p, err
		}
		p.ApprovalID = uuid.NullUUID{UUID: aid, Valid: true}
	}
	return p, nil
}

// Progress is what GET /schedules/{id} shows while solving.
type Progress struct {
	BestPenalty    int64   `json:"best_penalty"`
	Feasible       bool    `json:"feasible"`
	HardViolations int64   `json:"hard_violations"`
	ElapsedMS      int64   `json:"elapsed_ms"`
	Share          float64 `json:"share"` // of the time budget used
}

// Change is one cell of a re-plan's diff.
type Change struct {
	Employee string `json:"employee"`
	Date     string `json:"date"`
	From     string `json:"from"`
	To       string `json:"to"`
}

// Handler solves schedule requests.
type Handler struct {
	DB      *pgxpool.Pool
	Metrics *metrics.Metrics
	Log     *slog.Logger
	// Threads per solve; the pool's concurrency spreads requests over cores.
	Threads int
	// CancelPoll is how often a running solve checks for a cancel request.
	CancelPoll time.Duration
	// ProgressEvery is the least time between progress events.
	ProgressEvery time.Duration
	// Rebase re-plans an approved request on the rosters published now
	// (replan.Handler.Rebase; this package cannot import it): a re-plan whose
	// roster was replaced while it ran is not auto-published, it is redone.
	Rebase func(ctx context.Context, q *dbsqlc.Queries, org string, approvalID uuid.UUID) ([]uuid.UUID, error)
}

// Handle implements workers.Handler: the solve runs outside any transaction,
// the results commit with the processed-message row.
func (h *Handler) Handle(ctx context.Context, m *workers.Message) (workers.Commit, error) {
	env, err := m.Envelope()
	if err != nil {
		return nil, workers.Permanent(err)
	}
	if env.Type != TypeSolve {
		return nil, workers.Permanent(fmt.Errorf("unknown schedule command %q", env.Type))
	}
	var c SolveCommand
	if err := json.Unmarshal(env.Data, &c); err != nil {
		return nil, workers.Permanent(fmt.Errorf("schedule command: %w", err))
	}
	org := env.OrgID
	model, modelErr := roster.DecodeModel(c.Problem)
	if modelErr != nil {
		// The API validates first; a bad model here is a failed run, not a retry.
		return h.fail(org, c, modelErr), nil
	}
	row, err := RowParams(org, c, model)
	if err != nil {
		return nil, workers.Permanent(err)
	}
	q := dbsqlc.New(h.DB)
	if _, err := q.InsertSchedule(ctx, row); err != nil {
		return nil, err
	}
	st, err := q.StartSchedule(ctx, dbsqlc.StartScheduleParams{OrgID: org, ID: row.ID})
	if err != nil {
		return nil, err
	}
	if st.Status != "solving" {
		return nil, nil // cancelled while queued, or finished by an earlier delivery
	}
	log := h.logger().With("schedule_id", row.ID, "org_id", org)
	start := time.Now()
	solveCtx, stop := context.WithCancel(ctx)
	defer stop()
	var cancelled bool
	go h.watchCancel(solveCtx, row.ID, func() { cancelled = true; stop() })
	limit := time.Duration(c.TimeLimitMS) * time.Millisecond
	var lastProgress time.Time
	var last *roster.Progress
	res, err := roster.Solve(solveCtx, model, roster.Options{
		TimeLimit: limit, Seed: c.Seed, Threads: max(1, h.Threads),
		Progress: func(p roster.Progress) {
			// At most once per ProgressEvery, and only when the best roster improved.
			improved := last == nil || p.BestPenalty != last.BestPenalty || p.HardViolations != last.HardViolations
			if !improved || time.Since(lastProgress) < h.progressEvery() {
				return
			}
			lastProgress, last = time.Now(), &p
			h.progress(ctx, org, row.ID, p, limit)
		},
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err() // shutting down: another worker solves it again
		}
		return h.fail(org, c, err), nil
	}
	if ctx.Err() != nil && !cancelled {
		return nil, ctx.Err()
	}
	status := "completed"
	if cancelled {
		status = "cancelled"
	}
	log.Info("schedule solved", "status", status, "penalty", res.Penalty, "feasible", res.Feasible, "duration_ms", time.Since(start).Milliseconds())
	return func(ctx context.Context, tx *workers.Tx) error {
		return h.store(ctx, tx, org, row, c, model, res, status, time.Since(start))
	}, nil
}

func (h *Handler) logger() *slog.Logger {
	if h.Log == nil {
		return slog.Default()
	}
	return h.Log
}

func (h *Handler) progressEvery() time.Duration {
	if h.ProgressEvery <= 0 {
		return time.Second
	}
	return h.ProgressEvery
}

// watchCancel polls the row for a cancel request.
func (h *Handler) watchCancel(ctx context.Context, id uuid.UUID, cancel func()) {
	every := h.CancelPoll
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if yes, err := dbsqlc.New(h.DB).ScheduleCancelRequested(ctx, id); err == nil && yes {
				cancel()
				return
			}
		}
	}
}

// progress records the best roster so far and emits schedule.run.progress.
func (h *Handler) progress(ctx context.Context, org string, id uuid.UUID, p roster.Progress, limit time.Duration) {
	pr := Progress{BestPenalty: p.BestPenalty, Feasible: p.Feasible, HardViolations: p.HardViolations, ElapsedMS: p.Elapsed.Milliseconds()}
	if limit > 0 {
		pr.Share = min(1, float64(p.Elapsed)/float64(limit))
	}
	raw, _ := json.Marshal(pr)
	err := db.InTx(ctx, h.DB, func(tx pgx.Tx, q *dbsqlc.Queries) error {
		if err := q.UpdateScheduleProgress(ctx, dbsqlc.UpdateScheduleProgressParams{ID: id, Progress: raw}); err != nil {
			return err
		}
		e, err := events.New(org, Source, EventProgress, "schedules/"+id.String(), map[string]any{"schedule_id": id, "progress": pr})
		if err != nil {
			return err
		}
		return events.Store(ctx, q, e)
	})
	if err != nil {
		h.logger().Warn("cannot record solver progress", "error", err, "schedule_id", id)
	}
}

// fail records a run that cannot produce a roster.
func (h *Handler) fail(org string, c SolveCommand, cause error) workers.Commit {
	return func(ctx context.Context, tx *workers.Tx) error {
		id, err := uuid.Parse(c.ScheduleID)
		if err != nil {
			return workers.Permanent(err)
		}
		msg := cause.Error()
		if err := tx.Q.FinishSchedule(ctx, dbsqlc.FinishScheduleParams{OrgID: org, ID: id, Status: "failed", Error: &msg}); err != nil {
			return err
		}
		if h.Metrics != nil {
			h.Metrics.ScheduleGenerations.WithLabelValues("error").Inc()
		}
		e, err := events.New(org, Source, EventFailed, "schedules/"+id.String(), map[string]any{"schedule_id": id, "error": msg})
		if err != nil {
			return err
		}
		return tx.Emit(ctx, e)
	}
}

// store writes the roster, the outcome and its events; a re-plan also gets
// its diff and, when the org says so, is published at once.
func (h *Handler) store(ctx context.Context, tx *workers.Tx, org string, row dbsqlc.InsertScheduleParams, c SolveCommand, m *roster.Model,
	res *roster.Result, status string, took time.Duration) error {
	dates := m.Dates()
	var emps, shifts []string
	var days []time.Time
	for emp, row := range res.Roster {
		for d, s := range row {
			if s == "" {
				continue
			}
			t, _ := time.Parse(roster.DateLayout, dates[d])
			emps, days, shifts = append(emps, emp), append(days, t), append(shifts, s)
		}
	}
	if len(emps) > 0 {
		if err := tx.D.InsertAssignments(ctx, dbsqlc.InsertAssignmentsParams{ScheduleID: row.ID, OrgID: org, Employees: emps, Dates: days, Shifts: shifts}); err != nil {
			return err
		}
	}
	var diff []Change
	var diffJSON []byte
	if row.ParentID.Valid {
		base, err := LoadRoster(ctx, tx.Q, row.ParentID.UUID, dates)
		if err != nil {
			return err
		}
		diff = Diff(base, res.Roster, dates)
		diffJSON, _ = json.Marshal(diff)
	}
	breakdown, _ := json.Marshal(res.Breakdown)
	violations, _ := json.Marshal(res.Violations)
	final, _ := json.Marshal(Progress{BestPenalty: res.Penalty, Feasible: res.Feasible, HardViolations: int64(res.HardViolations), ElapsedMS: res.ElapsedMS, Share: 1})
	hv := int32(res.HardViolations)
	penalty, feasible := res.Penalty, res.Feasible
	if err := tx.Q.FinishSchedule(ctx, dbsqlc.FinishScheduleParams{OrgID: org, ID: row.ID, Status: status, Penalty: &penalty, Feasible: &feasible,
		HardViolations: &hv, Breakdown: breakdown, Violations: violations, Diff: diffJSON, Progress: final}); err != nil {
		return err
	}
	typ := EventCompleted
	if status == "cancelled" {
		typ = EventCancelled
	}
	summary := map[string]any{"schedule_id": row.ID, "status": status, "penalty": res.Penalty, "feasible": res.Feasible,
		"hard_violations": res.HardViolations, "elapsed_ms": res.ElapsedMS, "start_date": dates[0], "end_date": dates[len(dates)-1]}
	if err := h.emit(ctx, tx, org, row.ID, typ, summary); err != nil {
		return err
	}
	if h.Metrics != nil {
		label := "success"
		if status == "cancelled" {
			label = "cancelled"
		}
		h.Metrics.ScheduleGenerations.WithLabelValues(label).Inc()
		h.Metrics.ScheduleDuration.Observe(took.Seconds())
		h.Metrics.ConstraintEvaluations.Add(float64(res.Steps))
	}
	if !row.ParentID.Valid || status != "completed" {
		return nil
	}
	replanned := map[string]any{"schedule_id": row.ID, "parent_id": row.ParentID.UUID, "approval_id": c.ApprovalID,
		"penalty": res.Penalty, "feasible": res.Feasible, "changes": len(diff), "diff": diff}
	settings, err := approval.OrgSettingsOf(ctx, tx.Q, org)
	if err != nil {
		return err
	}
	publish := settings.AutoPublishReplans && res.Feasible
	if publish {
		// Made from a roster another has replaced since (another request's
		// re-plan, a new roster): publishing it would undo that roster's
		// changes, so the request is re-planned on the roster published now.
		// Checked under the org's publishing lock: no other publish slips in
		// between the check and this one.
		if err := tx.Q.LockPublishing(ctx, org); err != nil {
			return err
		}
		parent, err := tx.Q.GetSchedule(ctx, dbsqlc.GetScheduleParams{OrgID: org, ID: row.ParentID.UUID})
		if err != nil {
			return err
		}
		if !parent.Published {
			publish = false
			replanned["stale"] = true
			if approvalID, err := uuid.Parse(c.ApprovalID); err == nil && h.Rebase != nil {
				ids, err := h.Rebase(ctx, tx.Q, org, approvalID)
				if err != nil {
					return err
				}
				replanned["rebased_as"] = ids
			}
		}
	}
	replanned["published"] = publish
	if err := h.emit(ctx, tx, org, row.ID, EventReplanned, replanned); err != nil {
		return err
	}
	if publish {
		return Publish(ctx, tx.Q, func(e events.Envelope) error { return tx.Emit(ctx, e) }, org, row.ID, dates[0], dates[len(dates)-1])
	}
	return nil
}

func (h *Handler) emit(ctx context.Context, tx *workers.Tx, org string, id uuid.UUID, typ string, data any) error {
	e, err := events.New(org, Source, typ, "schedules/"+id.String(), data)
	if err != nil {
		return err
	}
	return tx.Emit(ctx, e)
}

// Publish makes a schedule the org's roster for its dates, superseding every
// published roster it overlaps, and emits schedule.roster.published.
func Publish(ctx context.Context, q *dbsqlc.Queries, emit func(events.Envelope) error, org string, id uuid.UUID, from, to string) error {
	if err := q.LockPublishing(ctx, org); err != nil {
		return err
	}
	start, _ := time.Parse(roster.DateLayout, from)
	end, _ := time.Parse(roster.DateLayout, to)
	superseded, err := q.SupersedeOverlapping(ctx, dbsqlc.SupersedeOverlappingParams{OrgID: org, By: uuid.NullUUID{UUID: id, Valid: true}, StartDate: start, EndDate: end})
	if err != nil {
		return err
	}
	if err := q.PublishSchedule(ctx, dbsqlc.PublishScheduleParams{OrgID: org, ID: id}); err != nil {
		return err
	}
	e, err := events.New(org, Source, EventPublished, "schedules/"+id.String(),
		map[string]any{"schedule_id": id, "start_date": from, "end_date": to, "superseded": superseded})
	if err != nil {
		return err
	}
	return emit(e)
}

// LoadRoster reads a stored roster onto the given dates ("" = off).
func LoadRoster(ctx context.Context, q *dbsqlc.Queries, id uuid.UUID, dates []string) (roster.Roster, error) {
	rows, err := q.ListAssignments(ctx, id)
	if err != nil {
		return nil, err
	}
	index := make(map[string]int, len(dates))
	for i, d := range dates {
		index[d] = i
	}
	out := roster.Roster{}
	for _, r := range rows {
		i, ok := index[r.Date.Format(roster.DateLayout)]
		if !ok {
			continue
		}
		if out[r.Employee] == nil {
			out[r.Employee] = make([]string, len(dates))
		}
		out[r.Employee][i] = r.Shift
	}
	return out, nil
}

// Diff lists the cells where two rosters differ, by employee then date.
func Diff(before, after roster.Roster, dates []string) []Change {
	emps := map[string]bool{}
	for e := range before {
		emps[e] = true
	}
	for e := range after {
		emps[e] = true
	}
	names := make([]string, 0, len(emps))
	for e := range emps {
		names = append(names, e)
	}
	sort.Strings(names)
	out := []Change{}
	for _, e := range names {
		for d := range dates {
			var from, to string
			if d < len(before[e]) {
				from = before[e][d]
			}
			if d < len(after[e]) {
				to = after[e][d]
			}
			if from != to {
				out = append(out, Change{Employee: e, Date: dates[d], From: from, To: to})
			}
		}
	}
	return out
}
