// Package replan closes the loop between approvals and scheduling: when a
// leave or shift-swap request is approved, every published roster it
// touches is re-planned with the smallest disruption (the old roster is the
// "previous" roster, each change costs a penalty) and the request's days
// fixed, and the result is a new schedule linked to the approval.
package replan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/flow"
	"github.com/shiftflow/shiftflow/internal/config"
	"github.com/shiftflow/shiftflow/roster"
	"github.com/shiftflow/shiftflow/workers"
	"github.com/shiftflow/shiftflow/workers/approval"
	"github.com/shiftflow/shiftflow/workers/schedule"
)

// Consumer reads approved leave and shift-swap requests from the EVENTS
// stream. Until 2026-12 it read every approved instance
// (evt.approval.instance.approved.>) and looked up each template's kind:
// one delivery per approval, where most change no roster.
func Consumer(maxDeliver int, ackWait time.Duration) events.ConsumerSpec {
	return events.ConsumerSpec{
		Name: "replan", Stream: events.EventsStream,
		Filters: []string{
			events.EventSubject(flow.EventLeaveApproved, "*"),
			events.EventSubject(flow.EventShiftSwapApproved, "*"),
		},
		Superseded: []string{"evt.approval.instance.approved.>"},
		MaxDeliver: maxDeliver, AckWait: ackWait, MaxAckPending: 256,
		Description: "turns approved leave and shift-swap requests into re-plans of the published rosters",
	}
}

// Handler creates re-plan requests.
type Handler struct {
	DB        *pgxpool.Pool
	Publisher *events.Publisher
	TimeLimit time.Duration
	// ChangeWeight is the penalty per changed assignment; AutoChangeWeight
	// derives it from each roster (ChangeWeightFor).
	ChangeWeight int

	mu    sync.Mutex
	kinds map[string]flow.Kind // template versions never change
}

// kindOf is the kind of a template version ("" when it no longer exists).
func (h *Handler) kindOf(ctx context.Context, org, id string, version int) (flow.Kind, error) {
	key := fmt.Sprintf("%s/%s/%d", org, id, version)
	h.mu.Lock()
	k, ok := h.kinds[key]
	h.mu.Unlock()
	if ok {
		return k, nil
	}
	tmpl, err := dbsqlc.New(h.DB).GetTemplateVersion(ctx, dbsqlc.GetTemplateVersionParams{OrgID: org, ID: id, Version: int32(version)})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	if h.kinds == nil || len(h.kinds) > 10000 {
		h.kinds = map[string]flow.Kind{}
	}
	h.kinds[key] = flow.Kind(tmpl.Kind)
	h.mu.Unlock()
	return flow.Kind(tmpl.Kind), nil
}

// FromConfig is the handler REPLAN_TIME_LIMIT and REPLAN_CHANGE_WEIGHT
// describe (the configuration is validated at start-up).
func FromConfig(db *pgxpool.Pool, pub *events.Publisher, c *config.Config) *Handler {
	w, auto, _ := c.ReplanChangeWeightValue()
	if auto {
		w = AutoChangeWeight
	}
	return &Handler{DB: db, Publisher: pub, TimeLimit: c.ReplanTimeLimit, ChangeWeight: w}
}

// AutoChangeWeight as Handler.ChangeWeight prices changes per roster.
const AutoChangeWeight = -1

// ChangeWeightFor is the change penalty of a re-plan of m: configured, or
// for AutoChangeWeight a quarter of m's smallest under-cover weight (at
// least 1). A fixed weight at or above the under-cover weight keeps every
// shift the leave frees uncovered, since filling it costs at least one
// change; a quarter fills it whenever three changes or fewer do, while a
// change still costs more than the requests and preferences of typical
// rosters (the benchmark's weigh 1-3 against a hole's 100), so the rest
// of the roster stays as published.
func ChangeWeightFor(m *roster.Model, configured int) int {
	if configured >= 0 {
		return configured
	}
	under := 0
	for _, c := range m.Cover {
		if c.UnderWeight > 0 && (under == 0 || c.UnderWeight < under) {
			under = c.UnderWeight
		}
	}
	if under == 0 {
		return 100 // no cover to fill: changes only trade against preferences
	}
	return max(1, under/4)
}

// replanNamespace derives a re-plan's schedule id from the approval and the
// base roster: the same approval event, however often delivered, creates
// one re-plan per roster.
var replanNamespace = uuid.MustParse("2d6a4c1e-8f0b-4a3c-9e7d-5b1f0a2c3d4e")

// ReplanID is the schedule id of the re-plan of base for an approval.
func ReplanID(approvalID, base uuid.UUID) uuid.UUID {
	return uuid.NewSHA1(replanNamespace, []byte(approvalID.String()+"/"+base.String()))
}

// approvedHead is what tells whether an approval changes a roster. Most
// do not, so Handle decodes only this first: the whole envelope and form
// of every approved instance cost about 3% of the CPU at full load.
type approvedHead struct {
	OrgID string `json:"orgid"`
	Data  struct {
		InstanceID      string `json:"instance_id"`
		TemplateID      string `json:"template_id"`
		TemplateVersion int    `json:"template_version"`
	} `json:"data"`
}

// Handle implements workers.Handler.
func (h *Handler) Handle(ctx context.Context, m *workers.Message) (workers.Commit, error) {
	var head approvedHead
	if err := json.Unmarshal(m.Data, &head); err != nil {
		return nil, workers.Permanent(fmt.Errorf("envelope: %w", err))
	}
	if head.OrgID == "" {
		return nil, workers.Permanent(errors.New("approved event: no orgid"))
	}
	approvalID, err := uuid.Parse(head.Data.InstanceID)
	if err != nil {
		return nil, workers.Permanent(fmt.Errorf("approved event: instance id %q", head.Data.InstanceID))
	}
	kind, err := h.kindOf(ctx, head.OrgID, head.Data.TemplateID, head.Data.TemplateVersion)
	if err != nil {
		return nil, err
	}
	if kind != flow.KindLeave && kind != flow.KindShiftSwap {
		return nil, nil // most approvals change no roster: nothing to write
	}
	env, err := m.Envelope()
	if err != nil {
		return nil, workers.Permanent(err)
	}
	var ev approval.EventData
	if err := json.Unmarshal(env.Data, &ev); err != nil {
		return nil, workers.Permanent(fmt.Errorf("approved event: %w", err))
	}
	org := env.OrgID
	return func(ctx context.Context, tx *workers.Tx) error {
		// Every re-plan of an approval is created in one transaction: if any
		// exists, this event was handled (even if it arrives with another id).
		done, err := tx.Q.CountReplansOfApproval(ctx, approvalID)
		if err != nil || done > 0 {
			return err
		}
		change, err := ChangeFromForm(kind, ev.Form)
		if err != nil {
			return workers.Permanent(err)
		}
		if leave, ok := change.(Leave); ok {
			// New schedules take it as days off; published ones are checked.
			if err := tx.Q.InsertApprovedLeave(ctx, dbsqlc.InsertApprovedLeaveParams{ApprovalID: approvalID, OrgID: org,
				Person: leave.Person, FromDate: leave.From, ToDate: leave.To}); err != nil {
				return err
			}
		}
		_, err = h.replanPublished(ctx, tx.Q, org, approvalID, change)
		return err
	}, nil
}

// Rebase re-plans an approved request on the rosters published for its
// dates now. A re-plan made from a roster that another has replaced since
// (another request's re-plan, a new roster) would undo that roster's
// changes if it were published; this is the re-plan to publish instead. It
// returns the re-plans' ids, none when the approval changes no roster, and
// is idempotent per roster.
func (h *Handler) Rebase(ctx context.Context, q *dbsqlc.Queries, org string, approvalID uuid.UUID) ([]uuid.UUID, error) {
	row, err := q.GetInstance(ctx, dbsqlc.GetInstanceParams{OrgID: org, ID: approvalID})
	if err != nil {
		return nil, err
	}
	var st flow.Instance
	if err := json.Unmarshal(row.State, &st); err != nil {
		return nil, fmt.Errorf("approval %s: stored state: %w", approvalID, err)
	}
	if st.Status != flow.StatusApproved {
		return nil, nil
	}
	kind, err := h.kindOf(ctx, org, row.TemplateID, int(row.TemplateVersion))
	if err != nil || (kind != flow.KindLeave && kind != flow.KindShiftSwap) {
		return nil, err
	}
	change, err := ChangeFromForm(kind, st.Form)
	if err != nil {
		return nil, err
	}
	return h.replanPublished(ctx, q, org, approvalID, change)
}

// approvedLeaves lists the org's approved leave overlapping from..to,
// oldest first.
func approvedLeaves(ctx context.Context, q *dbsqlc.Queries, org string, from, to time.Time) ([]dbsqlc.ApprovedLeave, error) {
	return q.ListApprovedLeave(ctx, dbsqlc.ListApprovedLeaveParams{OrgID: org, FromDate: from, ToDate: to})
}

// leaveOf is the change an approved leave makes.
func leaveOf(a dbsqlc.ApprovedLeave) Leave {
	return Leave{Person: a.Person, From: a.FromDate, To: a.ToDate}
}

// AppliedLeave is an approved leave a new problem takes as days off.
type AppliedLeave struct {
	ApprovalID uuid.UUID `json:"approval_id"`
	Person     string    `json:"person"`
	From       string    `json:"from_date"`
	To         string    `json:"to_date"`
}

// ApplyApprovedLeave makes the approved leave of m's employees within its
// horizon fixed days off in m (a pin on such a day is dropped), so a new
// roster respects what was approved before it.
func ApplyApprovedLeave(ctx context.Context, q *dbsqlc.Queries, org string, m *roster.Model) ([]AppliedLeave, error) {
	start, days := m.Horizon()
	leaves, err := approvedLeaves(ctx, q, org, start, start.AddDate(0, 0, days-1))
	if err != nil {
		return nil, err
	}
	var applied []AppliedLeave
	for _, a := range leaves {
		if leaveOf(a).Apply(m, nil) {
			applied = append(applied, AppliedLeave{ApprovalID: a.ApprovalID, Person: a.Person,
				From: a.FromDate.Format(roster.DateLayout), To: a.ToDate.Format(roster.DateLayout)})
		}
	}
	return applied, nil
}

// HonourLeaves re-plans every approved leave that the roster just published
// as id breaks: a roster solved before the leave was approved, or without
// it, may roster the person on those days. It runs in the publishing
// transaction, so the re-plans start from id (and from any other roster
// published over the leave). It returns the re-plans.
func (h *Handler) HonourLeaves(ctx context.Context, q *dbsqlc.Queries, org string, id uuid.UUID, dates []string) ([]uuid.UUID, error) {
	from, err := time.Parse(roster.DateLayout, dates[0])
	if err != nil {
		return nil, err
	}
	to, err := time.Parse(roster.DateLayout, dates[len(dates)-1])
	if err != nil {
		return nil, err
	}
	leaves, err := approvedLeaves(ctx, q, org, from, to)
	if err != nil || len(leaves) == 0 {
		return nil, err
	}
	ro, err := schedule.LoadRoster(ctx, q, id, dates)
	if err != nil {
		return nil, err
	}
	day := make(map[string]int, len(dates))
	for i, d := range dates {
		day[d] = i
	}
	var ids []uuid.UUID
	for _, a := range leaves {
		row := ro[a.Person]
		works := false
		for d := a.FromDate; row != nil && !works && !d.After(a.ToDate); d = d.AddDate(0, 0, 1) {
			i, ok := day[d.Format(roster.DateLayout)]
			works = ok && row[i] != ""
		}
		if !works {
			continue
		}
		got, err := h.replanPublished(ctx, q, org, a.ApprovalID, leaveOf(a))
		if err != nil {
			return nil, err
		}
		ids = append(ids, got...)
	}
	return ids, nil
}

// replanPublished re-plans every roster published over the change's dates.
func (h *Handler) replanPublished(ctx context.Context, q *dbsqlc.Queries, org string, approvalID uuid.UUID, change Change) ([]uuid.UUID, error) {
	from, to := change.Span()
	bases, err := q.PublishedCovering(ctx, dbsqlc.PublishedCoveringParams{OrgID: org, FromDate: from, ToDate: to})
	if err != nil {
		return nil, err
	}
	var ids []uuid.UUID
	for _, base := range bases {
		id, ok, err := h.replan(ctx, q, org, approvalID, base, change)
		if err != nil {
			return nil, err
		}
		if ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// replan creates the re-plan of base for an approval (or finds it, made
// before); ok is false when the change does not concern base.
func (h *Handler) replan(ctx context.Context, q *dbsqlc.Queries, org string, approvalID uuid.UUID, base dbsqlc.Schedule, change Change) (uuid.UUID, bool, error) {
	model, err := roster.DecodeModel(base.Problem)
	if err != nil {
		return uuid.UUID{}, false, workers.Permanent(fmt.Errorf("published schedule %s: stored problem: %w", base.ID, err))
	}
	dates := model.Dates()
	current, err := schedule.LoadRoster(ctx, q, base.ID, dates)
	if err != nil {
		return uuid.UUID{}, false, err
	}
	if !change.Apply(model, current) {
		return uuid.UUID{}, false, nil // the roster does not involve these people or dates
	}
	model.Previous = &roster.Previous{ChangeWeight: ChangeWeightFor(model, h.ChangeWeight), Roster: current}
	problem, err := json.Marshal(model)
	if err != nil {
		return uuid.UUID{}, false, err
	}
	id := ReplanID(approvalID, base.ID)
	n, err := q.InsertReplan(ctx, dbsqlc.InsertReplanParams{ApprovalID: approvalID, BaseScheduleID: base.ID, ReplanScheduleID: id, OrgID: org})
	if err != nil || n == 0 {
		return id, err == nil, err // n == 0: this approval already re-planned this roster
	}
	cmd := schedule.SolveCommand{ScheduleID: id.String(), Name: fmt.Sprintf("re-plan of %s for approval %s", base.ID, approvalID),
		Source: "replan", Problem: problem, TimeLimitMS: int(h.TimeLimit.Milliseconds()), Seed: 1,
		ParentID: base.ID.String(), ApprovalID: approvalID.String(), RequestedBy: "replan"}
	row, err := schedule.RowParams(org, cmd, model)
	if err != nil {
		return uuid.UUID{}, false, err
	}
	if _, err := q.InsertSchedule(ctx, row); err != nil {
		return uuid.UUID{}, false, err
	}
	e, err := events.New(org, "shiftflow/replan", schedule.TypeSolve, "schedules/"+id.String(), cmd)
	if err != nil {
		return uuid.UUID{}, false, err
	}
	// The command id is the schedule id: published again after a rollback,
	// it is the same command, and the solver's idempotency covers it.
	e.ID = id.String()
	_, err = h.Publisher.PublishCommand(ctx, e)
	return id, err == nil, err
}

// Change is what an approved request does to a roster.
type Change interface {
	// Span is the date range the change touches.
	Span() (from, to time.Time)
	// Apply adds the change to a model re-planning current; false when the
	// roster is not concerned.
	Apply(m *roster.Model, current roster.Roster) bool
}

// ChangeFromForm reads the change from an approved form.
func ChangeFromForm(kind flow.Kind, form map[string]any) (Change, error) {
	str := func(name string) (string, error) {
		v, ok := form[name].(string)
		if !ok || v == "" {
			return "", fmt.Errorf("%s form lacks %s", kind, name)
		}
		return v, nil
	}
	date := func(name string) (time.Time, error) {
		s, err := str(name)
		if err != nil {
			return time.Time{}, err
		}
		return time.Parse(roster.DateLayout, s)
	}
	switch kind {
	case flow.KindLeave:
		person, err := str(flow.FieldPerson)
		if err != nil {
			return nil, err
		}
		from, err := date(flow.FieldFromDate)
		if err != nil {
			return nil, err
		}
		to, err := date(flow.FieldToDate)
		if err != nil {
			return nil, err
		}
		return Leave{Person: person, From: from, To: to}, nil
	case flow.KindShiftSwap:
		a, err := str(flow.FieldPerson)
		if err != nil {
			return nil, err
		}
		b, err := str(flow.FieldOtherPerson)
		if err != nil {
			return nil, err
		}
		da, err := date(flow.FieldDate)
		if err != nil {
			return nil, err
		}
		db, err := date(flow.FieldOtherDate)
		if err != nil {
			return nil, err
		}
		return Swap{Person: a, Date: da, Other: b, OtherDate: db}, nil
	}
	return nil, fmt.Errorf("kind %q changes no roster", kind)
}

// Leave makes a person's days in [From, To] fixed days off.
type Leave struct {
	Person   string
	From, To time.Time
}

// Span implements Change.
func (l Leave) Span() (time.Time, time.Time) { return l.From, l.To }

// Apply implements Change.
func (l Leave) Apply(m *roster.Model, _ roster.Roster) bool {
	i := slices.IndexFunc(m.Employees, func(e roster.Employee) bool { return e.ID == l.Person })
	if i < 0 {
		return false
	}
	inHorizon := map[string]bool{}
	for _, d := range m.Dates() {
		inHorizon[d] = true
	}
	touched := false
	for d := l.From; !d.After(l.To); d = d.AddDate(0, 0, 1) {
		ds := d.Format(roster.DateLayout)
		if !inHorizon[ds] {
			continue
		}
		touched = true
		if !slices.Contains(m.Employees[i].FixedDaysOff, ds) {
			m.Employees[i].FixedDaysOff = append(m.Employees[i].FixedDaysOff, ds)
		}
		// A pinned shift on a leave day would contradict the leave.
		m.Pinned = slices.DeleteFunc(m.Pinned, func(a roster.Assignment) bool { return a.Employee == l.Person && a.Date == ds && a.Shift != "" })
	}
	return touched
}

// Swap exchanges shifts: Person gives their shift on Date to Other and
// takes Other's shift on OtherDate (on the same date they simply trade).
type Swap struct {
	Person    string
	Date      time.Time
	Other     string
	OtherDate time.Time
}

// Span implements Change.
func (s Swap) Span() (time.Time, time.Time) {
	if s.OtherDate.Before(s.Date) {
		return s.OtherDate, s.Date
	}
	return s.Date, s.OtherDate
}

// Pins are the assignments a swap fixes in a roster.
func (s Swap) Pins(m *roster.Model, current roster.Roster) ([]roster.Assignment, bool) {
	dates := m.Dates()
	di := slices.Index(dates, s.Date.Format(roster.DateLayout))
	oi := slices.Index(dates, s.OtherDate.Format(roster.DateLayout))
	if di < 0 || oi < 0 || current[s.Person] == nil || current[s.Other] == nil {
		return nil, false
	}
	mine, theirs := current[s.Person][di], current[s.Other][oi]
	d, o := dates[di], dates[oi]
	if di == oi {
		return []roster.Assignment{{Employee: s.Person, Date: d, Shift: theirs}, {Employee: s.Other, Date: d, Shift: mine}}, true
	}
	return []roster.Assignment{
		{Employee: s.Person, Date: d, Shift: ""}, {Employee: s.Other, Date: d, Shift: mine},
		{Employee: s.Other, Date: o, Shift: ""}, {Employee: s.Person, Date: o, Shift: theirs},
	}, true
}

// Apply implements Change.
func (s Swap) Apply(m *roster.Model, current roster.Roster) bool {
	pins, ok := s.Pins(m, current)
	if !ok {
		return false
	}
	for _, p := range pins {
		m.Pinned = slices.DeleteFunc(m.Pinned, func(a roster.Assignment) bool { return a.Employee == p.Employee && a.Date == p.Date })
	}
	m.Pinned = append(m.Pinned, pins...)
	return true
}

// Swapped returns current with the swap's pins applied (for checking a
// request before anyone approves it).
func (s Swap) Swapped(m *roster.Model, current roster.Roster) (roster.Roster, bool) {
	pins, ok := s.Pins(m, current)
	if !ok {
		return nil, false
	}
	dates := m.Dates()
	out := roster.Roster{}
	for e, row := range current {
		out[e] = slices.Clone(row)
	}
	for _, p := range pins {
		out[p.Employee][slices.Index(dates, p.Date)] = p.Shift
	}
	return out, true
}
