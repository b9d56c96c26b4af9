package approval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/flow"
	"github.com/shiftflow/shiftflow/workers"
)

var _ workers.SingleBatcher = (*Handler)(nil)

// BatchSingles implements workers.SingleBatcher: a lone command costs two
// round trips on the batch path and three or more on Handle's.
func (h *Handler) BatchSingles() bool { return true }

// errBatchRetry fails a batch so its commands are applied one by one (an
// instance that is not there yet, a lost optimistic lock).
var errBatchRetry = errors.New("approval batch: apply one by one")

// batchInstance is one instance a batch touches: as loaded, and as it is now.
type batchInstance struct {
	org        string
	loaded     *flow.Instance // nil: created in this batch
	oldVersion int
	current    *flow.Instance
	// cached: loaded from States, so possibly older than the database.
	cached bool
}

// HandleBatch applies a batch of commands with set-based statements: one
// read of every instance, then one write per table for the whole batch.
// Commands on the same instance apply in order on the state in memory.
func (h *Handler) HandleBatch(ctx context.Context, tx *workers.Tx, msgs []*workers.Message) error {
	type command struct {
		env events.Envelope
		cmd CommandData
		id  uuid.UUID
	}
	cmds := make([]command, 0, len(msgs))
	var ids []uuid.UUID
	for _, m := range msgs {
		env, err := m.Envelope()
		if err != nil {
			return err
		}
		var c CommandData
		if err := json.Unmarshal(env.Data, &c); err != nil {
			return err
		}
		if env.Type != TypeSubmit && env.Type != TypeAct && env.Type != TypeTimer {
			return fmt.Errorf("unknown approval command type %q", env.Type)
		}
		id, err := uuid.Parse(c.InstanceID)
		if err != nil {
			return err
		}
		cmds = append(cmds, command{env: env, cmd: c, id: id})
	}
	// Instances this process wrote or read lately come from memory; if one
	// changed elsewhere since, the optimistic lock fails the batch and the
	// commands are applied one by one from fresh reads.
	insts := map[uuid.UUID]*batchInstance{}
	for _, c := range cmds {
		if st, ok := h.States.Get(ReaderWorker, c.env.OrgID, c.id); ok {
			insts[c.id] = &batchInstance{org: c.env.OrgID, loaded: st, oldVersion: st.Version, current: st, cached: true}
		} else {
			ids = append(ids, c.id)
		}
	}
	if len(ids) > 0 {
		rows, err := tx.Q.GetInstancesByID(ctx, ids)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if insts[r.ID] != nil {
				continue
			}
			st := new(flow.Instance)
			if err := json.Unmarshal(r.State, st); err != nil {
				return err
			}
			insts[r.ID] = &batchInstance{org: r.OrgID, loaded: st, oldVersion: int(r.Version), current: st}
			h.States.Put(r.OrgID, r.ID, st)
		}
	}
	var err error
	audit := dbsqlc.InsertAuditLogsParams{}
	var timers []flow.Timer
	var timerInstances []uuid.UUID
	var timerOrgs []string
	var cancelled []string
	for _, c := range cmds {
		start := time.Now()
		org := c.env.OrgID
		cmd := c.cmd
		cmd.Org = org
		if c.env.Type == TypeTimer && h.Now != nil {
			cmd.At = h.Now()
		}
		if cmd.At.IsZero() {
			cmd.At = c.env.Time
		}
		dir := &Directory{Ctx: ctx, Q: tx.Q, Org: org}
		bi := insts[c.id]
		if bi != nil && bi.org != org {
			return errBatchRetry // another org's id: let the careful path refuse it
		}
		var tmpl *flow.Template
		var st *flow.Instance
		if c.env.Type == TypeSubmit {
			if bi != nil {
				continue // already created by an earlier copy of this submit
			}
			if tmpl, err = h.Templates.Version(ctx, tx.Q, org, cmd.TemplateID, cmd.TemplateVersion); err != nil {
				return errBatchRetry // not found is refused on the careful path
			}
		} else {
			if bi == nil {
				return errBatchRetry // its submit may still be on the way
			}
			st = bi.current
			if tmpl, err = h.Templates.Version(ctx, tx.Q, org, st.TemplateID, st.TemplateVersion); err != nil {
				return err
			}
			cmd.Admin = false
			if c.env.Type != TypeTimer && AdminMatters(cmd.Action) {
				if cmd.Admin, err = dir.IsAdmin(cmd.Actor); err != nil {
					return err
				}
			}
		}
		res, err := flow.Apply(tmpl, st, cmd.Command, dir)
		if (err != nil || res.Noop) && bi != nil && bi.cached {
			// A refusal or a no-op writes no instance, so no optimistic lock
			// would catch a stale cached state: decide it on a fresh read.
			return errBatchRetry
		}
		if err != nil {
			if StatusOf(err) == 0 {
				return err
			}
			if err := h.reject(ctx, tx, c.env, cmd, err); err != nil {
				return err
			}
			continue
		}
		if res.Noop {
			continue
		}
		if bi == nil {
			bi = &batchInstance{org: org}
			insts[c.id] = bi
		}
		bi.current = res.Instance
		for _, t := range res.Timers {
			timers, timerInstances, timerOrgs = append(timers, t), append(timerInstances, c.id), append(timerOrgs, org)
		}
		cancelled = append(cancelled, res.CancelTimers...)
		if cmd.Audit != nil {
			details, _ := json.Marshal(map[string]any{"command_id": c.env.ID, "action": cmd.Action, "actor": cmd.Actor, "outcome": "applied", "reason": ""})
			audit.OrgIds = append(audit.OrgIds, org)
			audit.Actors = append(audit.Actors, cmd.Audit.Actor)
			audit.Actions = append(audit.Actions, "approvals."+string(cmd.Action))
			audit.ResourceTypes = append(audit.ResourceTypes, "approval")
			audit.ResourceIds = append(audit.ResourceIds, cmd.InstanceID)
			audit.RequestIds = append(audit.RequestIds, cmd.Audit.RequestID)
			audit.Ips = append(audit.Ips, cmd.Audit.IP)
			audit.UserAgents = append(audit.UserAgents, cmd.Audit.UserAgent)
			audit.Details = append(audit.Details, string(details))
		}
		if err := h.emit(ctx, tx, org, c.env.ID, res); err != nil {
			return err
		}
		if h.Metrics != nil {
			h.Metrics.ApprovalActionDuration.WithLabelValues(string(cmd.Action)).Observe(time.Since(start).Seconds())
		}
	}
	if err := h.storeBatch(ctx, tx, insts, audit, timers, timerInstances, timerOrgs, cancelled); err != nil {
		return err
	}
	if h.States != nil {
		tx.AfterCommit(func() {
			for id, bi := range insts {
				if bi.current != bi.loaded {
					h.States.Put(bi.org, id, bi.current)
				}
			}
		})
	}
	return nil
}

func (h *Handler) storeBatch(ctx context.Context, tx *workers.Tx, insts map[uuid.UUID]*batchInstance, audit dbsqlc.InsertAuditLogsParams,
	timers []flow.Timer, timerInstances []uuid.UUID, timerOrgs []string, cancelled []string) error {
	var created dbsqlc.InsertInstancesParams
	var updated dbsqlc.UpdateInstancesParams
	var tasks dbsqlc.UpsertTasksOfInstancesParams
	var ccs dbsqlc.InsertCCsOfInstancesParams
	for id, bi := range insts {
		in := bi.current
		if in == bi.loaded {
			continue // only read
		}
		state, err := json.Marshal(in)
		if err != nil {
			return err
		}
		if bi.loaded == nil {
			created.Ids = append(created.Ids, id)
			created.OrgIds = append(created.OrgIds, bi.org)
			created.TemplateIds = append(created.TemplateIds, in.TemplateID)
			created.TemplateVersions = append(created.TemplateVersions, int32(in.TemplateVersion))
			created.Initiators = append(created.Initiators, in.Initiator)
			created.Statuses = append(created.Statuses, string(in.Status))
			created.States = append(created.States, state)
			created.Versions = append(created.Versions, int32(in.Version))
			created.Created = append(created.Created, in.CreatedAt)
			created.Updated = append(created.Updated, in.UpdatedAt)
			created.Finished = append(created.Finished, in.FinishedAt)
		} else {
			updated.Ids = append(updated.Ids, id)
			updated.Statuses = append(updated.Statuses, string(in.Status))
			updated.States = append(updated.States, state)
			updated.Versions = append(updated.Versions, int32(in.Version))
			updated.OldVersions = append(updated.OldVersions, int32(bi.oldVersion))
			updated.Updated = append(updated.Updated, in.UpdatedAt)
			updated.Finished = append(updated.Finished, in.FinishedAt)
		}
		before := map[string]flow.Task{}
		prevCCs := 0
		if bi.loaded != nil {
			for _, t := range bi.loaded.Tasks {
				before[t.ID] = t
			}
			prevCCs = len(bi.loaded.CCs)
		}
		for _, t := range in.Tasks {
			if b, ok := before[t.ID]; ok && b.State == t.State && b.Assignee == t.Assignee && b.DecidedAt.Equal(t.DecidedAt) && b.Node == t.Node {
				continue
			}
			tasks.InstanceIds = append(tasks.InstanceIds, id)
			tasks.OrgIds = append(tasks.OrgIds, bi.org)
			tasks.TaskIds = append(tasks.TaskIds, t.ID)
			tasks.Nodes = append(tasks.Nodes, t.Node)
			tasks.Assignees = append(tasks.Assignees, t.Assignee)
			tasks.States = append(tasks.States, string(t.State))
			tasks.Origins = append(tasks.Origins, string(t.Origin))
			tasks.Created = append(tasks.Created, t.CreatedAt)
			tasks.Decided = append(tasks.Decided, t.DecidedAt)
		}
		for _, c := range in.CCs[min(prevCCs, len(in.CCs)):] {
			ccs.InstanceIds = append(ccs.InstanceIds, id)
			ccs.OrgIds = append(ccs.OrgIds, bi.org)
			ccs.People = append(ccs.People, c.Person)
			ccs.Nodes = append(ccs.Nodes, c.Node)
			ccs.Rounds = append(ccs.Rounds, int32(c.Round))
			ccs.Sent = append(ccs.Sent, c.At)
		}
	}
	if len(created.Ids) > 0 {
		// Deferred: a duplicate id is impossible here (the instance was not
		// found above), and the instance rows must precede their projections.
		if _, err := tx.D.InsertInstances(ctx, created); err != nil {
			return err
		}
	}
	if len(updated.Ids) > 0 {
		// Queued: if another command changed one of them first, the commit
		// fails and the batch is applied one by one.
		if err := tx.D.UpdateInstances(ctx, updated); err != nil {
			return err
		}
	}
	if len(tasks.TaskIds) > 0 {
		if err := tx.D.UpsertTasksOfInstances(ctx, tasks); err != nil {
			return err
		}
	}
	if len(ccs.People) > 0 {
		if err := tx.D.InsertCCsOfInstances(ctx, ccs); err != nil {
			return err
		}
	}
	if len(timers) > 0 {
		p := dbsqlc.InsertTimersOfInstancesParams{InstanceIds: timerInstances, OrgIds: timerOrgs}
		for _, t := range timers {
			p.Ids = append(p.Ids, t.ID)
			p.Kinds = append(p.Kinds, string(t.Kind))
			p.TaskIds = append(p.TaskIds, t.TaskID)
			p.Due = append(p.Due, t.DueAt)
		}
		if err := tx.D.InsertTimersOfInstances(ctx, p); err != nil {
			return err
		}
	}
	if len(cancelled) > 0 {
		if err := tx.D.DeleteTimers(ctx, cancelled); err != nil {
			return err
		}
	}
	if len(audit.Actions) > 0 {
		return tx.D.InsertAuditLogs(ctx, audit)
	}
	return nil
}
