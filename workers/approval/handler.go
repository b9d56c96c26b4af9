package approval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/flow"
	"github.com/shiftflow/shiftflow/internal/metrics"
	"github.com/shiftflow/shiftflow/workers"
)

// Consumer is the durable consumer of the approval worker pool.
func Consumer(maxDeliver int, ackWait time.Duration) events.ConsumerSpec {
	return events.ConsumerSpec{
		Name: "approval", Stream: events.CommandsStream, Filter: "cmd.approval.>",
		MaxDeliver: maxDeliver, AckWait: ackWait, MaxAckPending: 4096,
		Description: "applies approval commands (submit, actions, timers) with the flow engine",
	}
}

// Handler applies approval commands.
type Handler struct {
	Templates *Templates
	// States, when set, caches committed instance states (see States).
	States  *States
	Metrics *metrics.Metrics
	// Now is the clock of timer commands; tests may replace it.
	Now func() time.Time
}

// maxLockRetries bounds optimistic-lock retries of one command; each retry
// re-reads the instance other commands changed meanwhile.
const maxLockRetries = 20

// Handle implements workers.Handler: all the work happens in the transaction.
func (h *Handler) Handle(ctx context.Context, m *workers.Message) (workers.Commit, error) {
	env, err := m.Envelope()
	if err != nil {
		return nil, workers.Permanent(err)
	}
	var cmd CommandData
	if err := json.Unmarshal(env.Data, &cmd); err != nil {
		return nil, workers.Permanent(fmt.Errorf("approval command %s: %w", env.ID, err))
	}
	switch env.Type {
	case TypeSubmit, TypeAct, TypeTimer:
	default:
		return nil, workers.Permanent(fmt.Errorf("unknown approval command type %q", env.Type))
	}
	if _, err := uuid.Parse(cmd.InstanceID); err != nil {
		return nil, workers.Permanent(fmt.Errorf("approval command %s: instance id %q is not a UUID", env.ID, cmd.InstanceID))
	}
	return func(ctx context.Context, tx *workers.Tx) error {
		start := time.Now()
		err := h.apply(ctx, tx, env, cmd)
		if h.Metrics != nil && err == nil {
			h.Metrics.ApprovalActionDuration.WithLabelValues(string(cmd.Action)).Observe(time.Since(start).Seconds())
		}
		return err
	}, nil
}

func (h *Handler) apply(ctx context.Context, tx *workers.Tx, env events.Envelope, cmd CommandData) error {
	org := env.OrgID
	cmd.Org = org
	if env.Type == TypeTimer && h.Now != nil {
		cmd.At = h.Now()
	}
	if cmd.At.IsZero() {
		cmd.At = env.Time
	}
	dir := &Directory{Ctx: ctx, Q: tx.Q, Org: org}
	id := uuid.MustParse(cmd.InstanceID)
	for attempt := 0; ; attempt++ {
		var st *flow.Instance
		var tmpl *flow.Template
		oldVersion := 0
		if env.Type == TypeSubmit {
			_, err := tx.Q.GetInstance(ctx, dbsqlc.GetInstanceParams{OrgID: org, ID: id})
			if err == nil {
				return nil // already created by an earlier copy of this submit
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			if tmpl, err = h.Templates.Version(ctx, tx.Q, org, cmd.TemplateID, cmd.TemplateVersion); err != nil {
				if errors.Is(err, ErrTemplateNotFound) {
					return h.reject(ctx, tx, env, cmd, &flow.Error{Kind: flow.ErrNotFound, Reason: fmt.Sprintf("template %s version %d not found", cmd.TemplateID, cmd.TemplateVersion)})
				}
				return err
			}
		} else {
			row, err := tx.Q.GetInstance(ctx, dbsqlc.GetInstanceParams{OrgID: org, ID: id})
			if errors.Is(err, pgx.ErrNoRows) {
				// Its submit may still be on the way: retry later rather than refuse.
				return workers.RetryAfter(fmt.Errorf("approval %s does not exist (yet)", id), 500*time.Millisecond)
			}
			if err != nil {
				return err
			}
			st = new(flow.Instance)
			if err := json.Unmarshal(row.State, st); err != nil {
				return workers.Permanent(fmt.Errorf("approval %s: stored state: %w", id, err))
			}
			oldVersion = int(row.Version)
			h.States.Put(org, id, st)
			if tmpl, err = h.Templates.Version(ctx, tx.Q, org, row.TemplateID, int(row.TemplateVersion)); err != nil {
				return err
			}
			cmd.Admin = false
			if env.Type != TypeTimer && AdminMatters(cmd.Action) {
				// Admin rights come from the directory, never from the command.
				if cmd.Admin, err = dir.IsAdmin(cmd.Actor); err != nil {
					return err
				}
			}
		}
		res, err := flow.Apply(tmpl, st, cmd.Command, dir)
		if err != nil {
			if StatusOf(err) != 0 {
				return h.reject(ctx, tx, env, cmd, err)
			}
			return err // directory trouble: retry
		}
		if res.Noop {
			return nil
		}
		stored, err := h.store(ctx, tx, org, id, oldVersion, st, res)
		if err != nil {
			return err
		}
		if !stored {
			if attempt >= maxLockRetries {
				return fmt.Errorf("approval %s: still changing after %d optimistic-lock retries", id, attempt)
			}
			continue // another command committed first: re-read and apply again
		}
		if err := h.audit(ctx, tx, env, cmd, "applied", ""); err != nil {
			return err
		}
		if h.States != nil {
			tx.AfterCommit(func() { h.States.Put(org, id, res.Instance) })
		}
		return h.emit(ctx, tx, org, env.ID, res)
	}
}

// AdminMatters lists the actions an org admin may take on others' behalf;
// only they need the directory lookup.
func AdminMatters(a flow.Action) bool {
	switch a {
	case flow.ActCancel, flow.ActTransfer, flow.ActUrge, flow.ActComment:
		return true
	}
	return false
}

// audit records the command in audit_logs in the transaction of its effect,
// with the HTTP request that asked for it.
func (h *Handler) audit(ctx context.Context, tx *workers.Tx, env events.Envelope, cmd CommandData, outcome, reason string) error {
	if cmd.Audit == nil {
		return nil // timers: the system acts, nobody asked
	}
	details, err := json.Marshal(map[string]any{"command_id": env.ID, "action": cmd.Action, "actor": cmd.Actor, "outcome": outcome, "reason": reason})
	if err != nil {
		return err
	}
	org := env.OrgID
	return tx.D.InsertAuditLog(ctx, dbsqlc.InsertAuditLogParams{
		OrgID: &org, Actor: cmd.Audit.Actor, Action: "approvals." + string(cmd.Action), ResourceType: "approval",
		ResourceID: cmd.InstanceID, RequestID: cmd.Audit.RequestID, Ip: cmd.Audit.IP, UserAgent: cmd.Audit.UserAgent, Details: details,
	})
}

// store writes the new state with the optimistic lock, the changed rows of
// the projections and the timers; false means the lock was lost.
func (h *Handler) store(ctx context.Context, tx *workers.Tx, org string, id uuid.UUID, oldVersion int, prev *flow.Instance, res flow.Result) (bool, error) {
	in := res.Instance
	state, err := json.Marshal(in)
	if err != nil {
		return false, err
	}
	var finished *time.Time
	if !in.FinishedAt.IsZero() {
		f := in.FinishedAt
		finished = &f
	}
	if prev == nil {
		n, err := tx.Q.InsertInstance(ctx, dbsqlc.InsertInstanceParams{
			ID: id, OrgID: org, TemplateID: in.TemplateID, TemplateVersion: int32(in.TemplateVersion),
			Initiator: in.Initiator, Status: string(in.Status), State: state, Version: int32(in.Version),
			CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt, FinishedAt: finished,
		})
		if err != nil || n == 0 {
			return false, err
		}
	} else {
		rows, err := tx.Q.UpdateInstance(ctx, dbsqlc.UpdateInstanceParams{
			OrgID: org, ID: id, Status: string(in.Status), State: state, Version: int32(in.Version),
			UpdatedAt: in.UpdatedAt, FinishedAt: finished, OldVersion: int32(oldVersion),
		})
		if err != nil || len(rows) == 0 {
			return false, err
		}
	}
	// Only tasks that are new or changed are written.
	before := map[string]flow.Task{}
	var prevCCs int
	if prev != nil {
		for _, t := range prev.Tasks {
			before[t.ID] = t
		}
		prevCCs = len(prev.CCs)
	}
	p := dbsqlc.UpsertInstanceTasksParams{InstanceID: id, OrgID: org}
	for _, t := range in.Tasks {
		if b, ok := before[t.ID]; ok && b.State == t.State && b.Assignee == t.Assignee && b.DecidedAt.Equal(t.DecidedAt) && b.Node == t.Node {
			continue
		}
		p.TaskIds = append(p.TaskIds, t.ID)
		p.Nodes = append(p.Nodes, t.Node)
		p.Assignees = append(p.Assignees, t.Assignee)
		p.States = append(p.States, string(t.State))
		p.Origins = append(p.Origins, string(t.Origin))
		p.Created = append(p.Created, t.CreatedAt)
		p.Decided = append(p.Decided, t.DecidedAt)
	}
	if len(p.TaskIds) > 0 {
		if err := tx.D.UpsertInstanceTasks(ctx, p); err != nil {
			return false, err
		}
	}
	if len(in.CCs) > prevCCs {
		p := dbsqlc.InsertInstanceCCsParams{InstanceID: id, OrgID: org}
		for _, c := range in.CCs[prevCCs:] {
			p.People = append(p.People, c.Person)
			p.Nodes = append(p.Nodes, c.Node)
			p.Rounds = append(p.Rounds, int32(c.Round))
			p.Sent = append(p.Sent, c.At)
		}
		if err := tx.D.InsertInstanceCCs(ctx, p); err != nil {
			return false, err
		}
	}
	if len(res.CancelTimers) > 0 {
		if err := tx.D.DeleteTimers(ctx, res.CancelTimers); err != nil {
			return false, err
		}
	}
	if len(res.Timers) > 0 {
		p := dbsqlc.InsertTimersParams{OrgID: org, InstanceID: id}
		for _, t := range res.Timers {
			p.Ids = append(p.Ids, t.ID)
			p.Kinds = append(p.Kinds, string(t.Kind))
			p.TaskIds = append(p.TaskIds, t.TaskID)
			p.Due = append(p.Due, t.DueAt)
		}
		if err := tx.D.InsertTimers(ctx, p); err != nil {
			return false, err
		}
	}
	return true, nil
}

// emit writes the engine's events to the outbox.
func (h *Handler) emit(ctx context.Context, tx *workers.Tx, org, commandID string, res flow.Result) error {
	for _, ev := range res.Events {
		e, err := events.New(org, Source, ev.Type, "approvals/"+ev.InstanceID, EventData{Event: ev, Org: org, CommandID: commandID})
		if err != nil {
			return workers.Permanent(err)
		}
		e.Time = ev.At.UTC()
		e.Actor = ev.Actor
		if err := tx.Emit(ctx, e); err != nil {
			return err
		}
		if h.Metrics == nil {
			continue
		}
		switch ev.Type {
		case flow.EventTaskCreated:
			h.Metrics.TasksCreated.Inc()
		case flow.EventInstanceApproved:
			h.Metrics.ApprovalInstances.WithLabelValues("approved").Inc()
		case flow.EventInstanceRejected:
			h.Metrics.ApprovalInstances.WithLabelValues("rejected").Inc()
		case flow.EventInstanceWithdrawn:
			h.Metrics.ApprovalInstances.WithLabelValues("withdrawn").Inc()
		case flow.EventInstanceCancelled:
			h.Metrics.ApprovalInstances.WithLabelValues("cancelled").Inc()
		}
	}
	return nil
}

// reject records a refused command as an event, so a waiting API call and
// subscribers learn the outcome; the command itself is done.
func (h *Handler) reject(ctx context.Context, tx *workers.Tx, env events.Envelope, cmd CommandData, cause error) error {
	data := RejectedData{CommandID: env.ID, InstanceID: cmd.InstanceID, Action: cmd.Action, Actor: cmd.Actor,
		Status: StatusOf(cause), Reason: cause.Error()}
	var fe *flow.Error
	if errors.As(cause, &fe) {
		data.Reason = fe.Reason
		data.Fields = fe.Fields
		if fe.RetryAfter > 0 {
			data.RetryAfterS = int(fe.RetryAfter.Seconds() + 0.999)
		}
	}
	e, err := events.New(env.OrgID, Source, EventCommandRejected, "approvals/"+cmd.InstanceID, data)
	if err != nil {
		return workers.Permanent(err)
	}
	e.Actor = cmd.Actor
	if err := h.audit(ctx, tx, env, cmd, "refused", data.Reason); err != nil {
		return err
	}
	return tx.Emit(ctx, e)
}
