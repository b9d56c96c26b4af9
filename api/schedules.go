package api

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/flow"
	"github.com/shiftflow/shiftflow/roster"
	"github.com/shiftflow/shiftflow/workers/replan"
	"github.com/shiftflow/shiftflow/workers/schedule"
)

func init() {
	mounts = append(mounts, func(s *Server, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(requireScope(ScopeSchedule))
			r.With(s.idempotent).Post("/schedules", s.createSchedule)
			r.Get("/schedules", s.listSchedules)
			r.Post("/schedules/validate", s.validateSchedule)
			r.Get("/schedules/{id}", s.getSchedule)
			r.Get("/schedules/{id}/roster", s.getRoster)
			r.Post("/schedules/{id}/cancel", s.cancelSchedule)
			r.Post("/schedules/{id}/publish", s.publishSchedule)
		})
	})
	submitChecks = append(submitChecks, checkSwap)
}

// EmployeesFrom selects directory people as the employees of a problem.
type EmployeesFrom struct {
	Department string `json:"department,omitempty"`
	Role       string `json:"role,omitempty"`
	Skill      string `json:"skill,omitempty"`
}

type scheduleRequest struct {
	Name          string          `json:"name,omitempty"`
	TimeLimit     string          `json:"time_limit,omitempty"`
	Seed          *uint64         `json:"seed,omitempty"`
	Problem       json.RawMessage `json:"problem"`
	EmployeesFrom *EmployeesFrom  `json:"employees_from,omitempty"`
	// IgnoreApprovedLeave leaves approved leave out of the problem.
	IgnoreApprovedLeave bool `json:"ignore_approved_leave,omitempty"`
}

// modelErrors prefixes the solver model's field errors.
func modelErrors(prefix string, err error) []FieldError {
	var ve roster.ValidationError
	var fe roster.FieldError
	switch {
	case errors.As(err, &ve):
		out := make([]FieldError, 0, len(ve))
		for _, f := range ve {
			out = append(out, FieldError{Field: prefix + f.Field, Reason: f.Reason})
		}
		return out
	case errors.As(err, &fe):
		return []FieldError{{Field: prefix + fe.Field, Reason: fe.Reason}}
	}
	return []FieldError{{Field: strings.TrimSuffix(prefix, "."), Reason: err.Error()}}
}

func (s *Server) createSchedule(w http.ResponseWriter, r *http.Request) {
	setAction(r, "schedules.create")
	org := principalFrom(r).OrgID
	var req scheduleRequest
	var model *roster.Model
	source := "json"
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "text/plain" {
		source = "nrp"
		body, err := io.ReadAll(r.Body)
		if err != nil {
			problem(w, r, http.StatusRequestEntityTooLarge, "the body exceeds the size limit")
			return
		}
		if line := textLine(body); line > 0 {
			problem(w, r, http.StatusUnprocessableEntity, "the NRP text is invalid", FieldError{Field: fmt.Sprintf("body (line %d)", line), Reason: textReason})
			return
		}
		qs := r.URL.Query()
		req.Name, req.TimeLimit = qs.Get("name"), qs.Get("time_limit")
		if sd := qs.Get("seed"); sd != "" {
			v, err := strconv.ParseUint(sd, 10, 64)
			if err != nil {
				problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter", FieldError{Field: "seed", Reason: "a non-negative integer"})
				return
			}
			req.Seed = &v
		}
		inst, err := roster.ParseNRP(req.Name, body)
		if err != nil {
			var pe *roster.ParseError
			field := "body"
			if errors.As(err, &pe) {
				field = fmt.Sprintf("body (line %d)", pe.Line)
			}
			problem(w, r, http.StatusUnprocessableEntity, "the NRP text is invalid: "+err.Error(), FieldError{Field: field, Reason: err.Error()})
			return
		}
		model = inst.Model()
		if req.Name == "" {
			req.Name = "NRP instance"
		}
	} else {
		if !decodeJSON(w, r, &req) {
			return
		}
		if len(req.Problem) == 0 {
			problem(w, r, http.StatusUnprocessableEntity, "the request is invalid", FieldError{Field: "problem", Reason: "required: the rostering problem (see /openapi.json)"})
			return
		}
		raw := req.Problem
		if req.EmployeesFrom != nil {
			var err error
			if raw, err = s.withDirectoryEmployees(r, org, raw, *req.EmployeesFrom); err != nil {
				var fe fieldErr
				if errors.As(err, &fe) {
					problem(w, r, http.StatusUnprocessableEntity, "the request is invalid", FieldError(fe))
					return
				}
				s.internalError(w, r, err)
				return
			}
		}
		var err error
		if model, err = roster.DecodeModel(raw); err != nil {
			problem(w, r, http.StatusUnprocessableEntity, "the problem is invalid", modelErrors("problem.", err)...)
			return
		}
	}
	cfg := s.deps.Config
	var errs []FieldError
	_, days := model.Horizon()
	if len(model.Employees) > cfg.ScheduleMaxEmployees {
		errs = append(errs, FieldError{Field: "problem.employees", Reason: fmt.Sprintf("%d employees; the limit is %d (SCHEDULE_MAX_EMPLOYEES)", len(model.Employees), cfg.ScheduleMaxEmployees)})
	}
	if days > cfg.ScheduleMaxDays {
		errs = append(errs, FieldError{Field: "problem.days", Reason: fmt.Sprintf("a %d-day horizon; the limit is %d (SCHEDULE_MAX_DAYS)", days, cfg.ScheduleMaxDays)})
	}
	if len(model.ShiftTypes) > cfg.ScheduleMaxShiftTypes {
		errs = append(errs, FieldError{Field: "problem.shift_types", Reason: fmt.Sprintf("%d shift types; the limit is %d (SCHEDULE_MAX_SHIFT_TYPES)", len(model.ShiftTypes), cfg.ScheduleMaxShiftTypes)})
	}
	limit := cfg.ScheduleDefaultTimeLimit
	if req.TimeLimit != "" {
		d, err := time.ParseDuration(req.TimeLimit)
		if err != nil || d <= 0 {
			errs = append(errs, FieldError{Field: "time_limit", Reason: "a positive duration such as 30s or 2m"})
		}
		limit = d
	}
	limit = min(limit, cfg.ScheduleMaxTimeLimit)
	if len(errs) > 0 {
		problem(w, r, http.StatusUnprocessableEntity, "the request is too large or invalid; nothing was created", errs...)
		return
	}
	seed := uint64(1)
	if req.Seed != nil {
		seed = *req.Seed
	}
	// Approved leave of the problem's employees becomes fixed days off (an
	// NRP instance is self-contained and left as it is).
	var applied []replan.AppliedLeave
	if source == "json" && !req.IgnoreApprovedLeave {
		var err error
		if applied, err = replan.ApplyApprovedLeave(r.Context(), dbsqlc.New(s.deps.DB), org, model); err != nil {
			s.internalError(w, r, err)
			return
		}
	}
	problemJSON, err := json.Marshal(model)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	id := uuid.New()
	cmd := schedule.SolveCommand{ScheduleID: id.String(), Name: req.Name, Source: source, Problem: problemJSON,
		TimeLimitMS: int(limit.Milliseconds()), Seed: seed, RequestedBy: principalFrom(r).Actor()}
	env, err := events.New(org, "shiftflow/api", schedule.TypeSolve, "schedules/"+id.String(), cmd)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	env.ID = id.String()
	// Prefer: wait=N answers with the finished run when it ends in time.
	ch, wait, unwait := s.waitFor(r, scheduleKey(org, id.String()))
	defer unwait()
	// Publish first: the command carries everything, so if the row below is
	// not written the worker writes it; if publishing fails nothing exists.
	if _, err := s.deps.Publisher.PublishCommand(r.Context(), env); err != nil {
		w.Header().Set("Retry-After", "2")
		problem(w, r, http.StatusServiceUnavailable, "the request could not be queued (messaging unavailable); nothing was accepted, retry")
		return
	}
	row, err := schedule.RowParams(org, cmd, model)
	if err == nil {
		_, err = dbsqlc.New(s.deps.DB).InsertSchedule(r.Context(), row)
	}
	if err != nil {
		s.log(r).Warn("schedule row not written; the worker will write it", "error", err, "schedule_id", id)
	}
	if err := s.audit(r, org, "schedules.create", "schedule", id.String(), map[string]any{"source": source, "employees": len(model.Employees), "days": days, "time_limit_ms": cmd.TimeLimitMS, "approved_leave": len(applied)}); err != nil {
		s.log(r).Warn("audit row not written", "error", err)
	}
	w.Header().Set("Location", "/api/v1/schedules/"+id.String())
	if wait > 0 {
		w.Header().Set("Preference-Applied", "wait="+strconv.Itoa(int(wait.Seconds())))
		if _, ended := s.awaitOutcome(r, ch, wait); ended {
			if sc, err := dbsqlc.New(s.deps.DB).GetSchedule(r.Context(), dbsqlc.GetScheduleParams{OrgID: org, ID: id}); err == nil {
				view := scheduleView(sc)
				view.ApprovedLeave = applied
				writeJSON(w, http.StatusOK, view)
				return
			}
		}
	}
	accepted := map[string]any{"id": id, "status": "queued", "time_limit_ms": cmd.TimeLimitMS, "seed": seed}
	if len(applied) > 0 {
		accepted["approved_leave"] = applied
	}
	writeJSON(w, http.StatusAccepted, accepted)
}

// scheduleEnded reports a run's final status.
func scheduleEnded(status string) bool {
	return status == "completed" || status == "failed" || status == "cancelled"
}

type fieldErr FieldError

func (f fieldErr) Error() string { return f.Field + ": " + f.Reason }

// withDirectoryEmployees fills the problem's employees from the directory.
func (s *Server) withDirectoryEmployees(r *http.Request, org string, raw json.RawMessage, sel EmployeesFrom) (json.RawMessage, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fieldErr{Field: "problem", Reason: "must be a JSON object: " + err.Error()}
	}
	if e, ok := doc["employees"]; ok && string(e) != "null" && string(e) != "[]" {
		return nil, fieldErr{Field: "problem.employees", Reason: "leave it out when employees_from selects them from the directory"}
	}
	var emps []roster.Employee
	after := ""
	q := dbsqlc.New(s.deps.DB)
	for {
		rows, err := q.ListPeople(r.Context(), dbsqlc.ListPeopleParams{OrgID: org, Department: optional(sel.Department), Role: optional(sel.Role),
			Skill: optional(sel.Skill), AfterID: after, MaxRows: 1000})
		if err != nil {
			return nil, err
		}
		for _, p := range rows {
			var c roster.Contract
			if len(p.Contract) > 0 {
				if err := json.Unmarshal(p.Contract, &c); err != nil {
					return nil, fieldErr{Field: "employees_from", Reason: fmt.Sprintf("person %s has an unreadable contract: %v", p.ID, err)}
				}
			}
			emps = append(emps, roster.Employee{ID: p.ID, Name: p.Name, Skills: p.Skills, Contract: c})
		}
		if len(rows) < 1000 {
			break
		}
		after = rows[len(rows)-1].ID
	}
	if len(emps) == 0 {
		return nil, fieldErr{Field: "employees_from", Reason: "selects nobody in the directory"}
	}
	b, _ := json.Marshal(emps)
	doc["employees"] = b
	return json.Marshal(doc)
}

// ScheduleView is a schedule as read by the API.
type ScheduleView struct {
	ID             uuid.UUID         `json:"id"`
	Name           string            `json:"name"`
	Status         string            `json:"status"`
	Source         string            `json:"source"`
	StartDate      string            `json:"start_date"`
	EndDate        string            `json:"end_date"`
	Employees      int32             `json:"employees"`
	ShiftTypes     int32             `json:"shift_types"`
	TimeLimitMS    int32             `json:"time_limit_ms"`
	Seed           int64             `json:"seed"`
	Progress       json.RawMessage   `json:"progress,omitempty"`
	Penalty        *int64            `json:"penalty"`
	Feasible       *bool             `json:"feasible"`
	HardViolations *int32            `json:"hard_violations"`
	Breakdown      json.RawMessage   `json:"breakdown,omitempty"`
	Violations     json.RawMessage   `json:"violations,omitempty"`
	Error          *string           `json:"error,omitempty"`
	Published      bool              `json:"published"`
	PublishedAt    *time.Time        `json:"published_at"`
	SupersededBy   uuid.NullUUID     `json:"superseded_by"`
	ParentID       uuid.NullUUID     `json:"parent_id"`
	ApprovalID     uuid.NullUUID     `json:"approval_id"`
	Diff           json.RawMessage   `json:"diff,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
	StartedAt      *time.Time        `json:"started_at"`
	FinishedAt     *time.Time        `json:"finished_at"`
	Links          map[string]string `json:"links"`
	// Replans (publish only): re-plans started because the published roster
	// breaks approved leave.
	Replans []uuid.UUID `json:"replans,omitempty"`
	// ApprovedLeave (create only): approved leave the problem took as days off.
	ApprovedLeave []replan.AppliedLeave `json:"approved_leave,omitempty"`
}

func scheduleView(sc dbsqlc.Schedule) ScheduleView {
	v := ScheduleView{ID: sc.ID, Name: sc.Name, Status: sc.Status, Source: sc.Source, StartDate: sc.StartDate.Format(roster.DateLayout),
		EndDate: sc.EndDate.Format(roster.DateLayout), Employees: sc.Employees, ShiftTypes: sc.ShiftTypes, TimeLimitMS: sc.TimeLimitMs,
		Seed: sc.Seed, Progress: sc.Progress, Penalty: sc.Penalty, Feasible: sc.Feasible, HardViolations: sc.HardViolations,
		Breakdown: sc.Breakdown, Violations: sc.Violations, Error: sc.Error, Published: sc.Published, PublishedAt: sc.PublishedAt,
		SupersededBy: sc.SupersededBy, ParentID: sc.ParentID, ApprovalID: sc.ApprovalID, Diff: sc.Diff, CreatedAt: sc.CreatedAt,
		StartedAt: sc.StartedAt, FinishedAt: sc.FinishedAt}
	v.Links = map[string]string{"self": "/api/v1/schedules/" + sc.ID.String(), "roster": "/api/v1/schedules/" + sc.ID.String() + "/roster"}
	return v
}

func (s *Server) loadSchedule(w http.ResponseWriter, r *http.Request) (dbsqlc.Schedule, bool) {
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		problem(w, r, http.StatusNotFound, "no such schedule")
		return dbsqlc.Schedule{}, false
	}
	sc, err := dbsqlc.New(s.deps.DB).GetSchedule(r.Context(), dbsqlc.GetScheduleParams{OrgID: principalFrom(r).OrgID, ID: id})
	if s.lookupFailed(w, r, err, "no such schedule") {
		return sc, false
	}
	return sc, true
}

func (s *Server) getSchedule(w http.ResponseWriter, r *http.Request) {
	setAction(r, "schedules.get")
	sc, ok := s.loadSchedule(w, r)
	if !ok {
		return
	}
	// Prefer: wait=N holds a running schedule's answer until its run ends
	// (or N seconds pass).
	if !scheduleEnded(sc.Status) {
		ch, wait, unwait := s.waitFor(r, scheduleKey(sc.OrgID, sc.ID.String()))
		defer unwait()
		if wait > 0 {
			w.Header().Set("Preference-Applied", "wait="+strconv.Itoa(int(wait.Seconds())))
			// The run may have ended before the waiter was registered.
			if sc, ok = s.loadSchedule(w, r); !ok {
				return
			}
			if !scheduleEnded(sc.Status) {
				s.awaitOutcome(r, ch, wait)
				if r.Context().Err() != nil {
					return // the caller has gone
				}
				if sc, ok = s.loadSchedule(w, r); !ok {
					return
				}
			}
		}
	}
	writeJSON(w, http.StatusOK, scheduleView(sc))
}

func scheduleDates(sc dbsqlc.Schedule) []string {
	var out []string
	for d := sc.StartDate; !d.After(sc.EndDate); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(roster.DateLayout))
	}
	return out
}

func (s *Server) getRoster(w http.ResponseWriter, r *http.Request) {
	setAction(r, "schedules.roster")
	sc, ok := s.loadSchedule(w, r)
	if !ok {
		return
	}
	if sc.Status != "completed" && sc.Status != "cancelled" || sc.Penalty == nil {
		problem(w, r, http.StatusConflict, "the schedule has no roster yet (status "+sc.Status+")")
		return
	}
	dates := scheduleDates(sc)
	ro, err := schedule.LoadRoster(r.Context(), dbsqlc.New(s.deps.DB), sc.ID, dates)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	var model roster.Model
	if err := json.Unmarshal(sc.Problem, &model); err == nil {
		for _, e := range model.Employees {
			if ro[e.ID] == nil {
				ro[e.ID] = make([]string, len(dates))
			}
		}
	}
	if strings.Contains(r.Header.Get("Accept"), "text/csv") {
		var buf bytes.Buffer
		cw := csv.NewWriter(&buf)
		_ = cw.Write(append([]string{"employee"}, dates...))
		names := make([]string, 0, len(ro))
		for e := range ro {
			names = append(names, e)
		}
		slices.Sort(names)
		for _, e := range names {
			_ = cw.Write(append([]string{e}, ro[e]...))
		}
		cw.Flush()
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="roster-%s.csv"`, sc.ID))
		_, _ = w.Write(buf.Bytes())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"schedule_id": sc.ID, "dates": dates, "roster": ro, "penalty": sc.Penalty, "feasible": sc.Feasible})
}

func (s *Server) cancelSchedule(w http.ResponseWriter, r *http.Request) {
	setAction(r, "schedules.cancel")
	sc, ok := s.loadSchedule(w, r)
	if !ok {
		return
	}
	if sc.Status != "queued" && sc.Status != "solving" {
		problem(w, r, http.StatusConflict, "the schedule is already "+sc.Status)
		return
	}
	var status string
	err := db.InTx(r.Context(), s.deps.DB, func(tx pgx.Tx, q *dbsqlc.Queries) error {
		var err error
		if status, err = q.RequestScheduleCancel(r.Context(), dbsqlc.RequestScheduleCancelParams{OrgID: sc.OrgID, ID: sc.ID}); err != nil {
			return err
		}
		if status != "cancelled" {
			return nil // solving: the worker stops and stores the best roster found
		}
		e, err := events.New(sc.OrgID, schedule.Source, schedule.EventCancelled, "schedules/"+sc.ID.String(), map[string]any{"schedule_id": sc.ID, "status": "cancelled", "before_start": true})
		if err != nil {
			return err
		}
		return events.Store(r.Context(), q, e)
	})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if err := s.audit(r, sc.OrgID, "schedules.cancel", "schedule", sc.ID.String(), map[string]any{"was": sc.Status}); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"id": sc.ID, "status": status, "cancel_requested": true})
}

func (s *Server) publishSchedule(w http.ResponseWriter, r *http.Request) {
	setAction(r, "schedules.publish")
	sc, ok := s.loadSchedule(w, r)
	if !ok {
		return
	}
	if (sc.Status != "completed" && sc.Status != "cancelled") || sc.Feasible == nil {
		problem(w, r, http.StatusConflict, "only a finished schedule with a roster can be published (status "+sc.Status+")")
		return
	}
	if !*sc.Feasible {
		problem(w, r, http.StatusConflict, "the roster breaks hard rules; it cannot be published (see violations)")
		return
	}
	dates := scheduleDates(sc)
	var stale *Problem
	var replans []uuid.UUID
	err := db.InTx(r.Context(), s.deps.DB, func(tx pgx.Tx, q *dbsqlc.Queries) error {
		// Under the org's publishing lock, so no other publish slips in
		// between the check and this one.
		if err := q.LockPublishing(r.Context(), sc.OrgID); err != nil {
			return err
		}
		// Publishing the published roster again changes nothing and emits
		// nothing: a retried request must not look like a new publication.
		cur, err := q.GetSchedule(r.Context(), dbsqlc.GetScheduleParams{OrgID: sc.OrgID, ID: sc.ID})
		if err != nil || cur.Published {
			return err
		}
		if stale, err = s.staleReplan(r, q, sc); err != nil || stale != nil {
			return err
		}
		if err := schedule.Publish(r.Context(), q, func(e events.Envelope) error { return events.Store(r.Context(), q, e) }, sc.OrgID, sc.ID, dates[0], dates[len(dates)-1]); err != nil {
			return err
		}
		// Approved leave the roster ignores (solved before the approval, or
		// without it) is re-planned on it at once.
		replans, err = s.replanner.HonourLeaves(r.Context(), q, sc.OrgID, sc.ID, dates)
		return err
	})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if stale != nil {
		writeProblem(w, r, stale)
		return
	}
	if err := s.audit(r, sc.OrgID, "schedules.publish", "schedule", sc.ID.String(), map[string]any{"start_date": dates[0], "end_date": dates[len(dates)-1]}); err != nil {
		s.internalError(w, r, err)
		return
	}
	sc, _ = dbsqlc.New(s.deps.DB).GetSchedule(r.Context(), dbsqlc.GetScheduleParams{OrgID: sc.OrgID, ID: sc.ID})
	view := scheduleView(sc)
	view.Replans = replans
	writeJSON(w, http.StatusOK, view)
}

// staleReplan is the 409 for publishing sc when sc re-plans a roster that
// another has replaced since (another request's re-plan, a new roster):
// publishing sc would undo that roster's changes. Its approval is then
// re-planned on the roster published now (in q's transaction), and the
// problem names that re-plan. nil when sc may be published.
func (s *Server) staleReplan(r *http.Request, q *dbsqlc.Queries, sc dbsqlc.Schedule) (*Problem, error) {
	if !sc.ParentID.Valid {
		return nil, nil
	}
	parent, err := q.GetSchedule(r.Context(), dbsqlc.GetScheduleParams{OrgID: sc.OrgID, ID: sc.ParentID.UUID})
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	if err == nil && parent.Published {
		return nil, nil
	}
	ids := []uuid.UUID{}
	if sc.ApprovalID.Valid {
		if ids, err = s.replanner.Rebase(r.Context(), q, sc.OrgID, sc.ApprovalID.UUID); err != nil {
			return nil, err
		}
	}
	detail := "this re-plan changes roster " + sc.ParentID.UUID.String() + ", which is no longer published"
	if parent.SupersededBy.Valid {
		detail += " (" + parent.SupersededBy.UUID.String() + " replaced it)"
	}
	detail += "; publishing it would undo the changes made since"
	if len(ids) > 0 {
		detail += ". Its request is re-planned on the roster published now: publish that re-plan (replans) instead"
	}
	p := NewProblem(http.StatusConflict, detail)
	p.Extensions = map[string]any{"replans": append([]uuid.UUID{}, ids...)}
	return p, nil
}

// ScheduleSummary is one row of GET /schedules.
type ScheduleSummary struct {
	ID           uuid.UUID     `json:"id"`
	Name         string        `json:"name"`
	Status       string        `json:"status"`
	Source       string        `json:"source"`
	StartDate    string        `json:"start_date"`
	EndDate      string        `json:"end_date"`
	Employees    int32         `json:"employees"`
	ShiftTypes   int32         `json:"shift_types"`
	TimeLimitMS  int32         `json:"time_limit_ms"`
	Penalty      *int64        `json:"penalty"`
	Feasible     *bool         `json:"feasible"`
	Published    bool          `json:"published"`
	SupersededBy uuid.NullUUID `json:"superseded_by"`
	ParentID     uuid.NullUUID `json:"parent_id"`
	ApprovalID   uuid.NullUUID `json:"approval_id"`
	CreatedAt    time.Time     `json:"created_at"`
	FinishedAt   *time.Time    `json:"finished_at"`
}

func scheduleSummary(r dbsqlc.ListSchedulesRow) ScheduleSummary {
	return ScheduleSummary{ID: r.ID, Name: r.Name, Status: r.Status, Source: r.Source, StartDate: r.StartDate.Format(roster.DateLayout),
		EndDate: r.EndDate.Format(roster.DateLayout), Employees: r.Employees, ShiftTypes: r.ShiftTypes, TimeLimitMS: r.TimeLimitMs,
		Penalty: r.Penalty, Feasible: r.Feasible, Published: r.Published, SupersededBy: r.SupersededBy, ParentID: r.ParentID,
		ApprovalID: r.ApprovalID, CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt}
}

var scheduleStatuses = []string{"queued", "solving", "completed", "failed", "cancelled"}

func (s *Server) listSchedules(w http.ResponseWriter, r *http.Request) {
	setAction(r, "schedules.list")
	cur := timeIDCursor{At: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), ID: uuid.Max}
	limit, ok := pageParams(w, r, &cur)
	if !ok {
		return
	}
	qs := r.URL.Query()
	p := dbsqlc.ListSchedulesParams{OrgID: principalFrom(r).OrgID, BeforeAt: cur.At, BeforeID: cur.ID, MaxRows: int32(limit + 1)}
	if st := qs.Get("status"); st != "" {
		if !slices.Contains(scheduleStatuses, st) {
			problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter", FieldError{Field: "status", Reason: "one of queued, solving, completed, failed, cancelled"})
			return
		}
		p.Status = &st
	}
	if pub := qs.Get("published"); pub != "" {
		b, err := strconv.ParseBool(pub)
		if err != nil {
			problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter", FieldError{Field: "published", Reason: "true or false"})
			return
		}
		p.Published = &b
	}
	for name, dst := range map[string]*uuid.NullUUID{"approval_id": &p.ApprovalID, "parent_id": &p.ParentID} {
		if v := qs.Get(name); v != "" {
			id, err := uuid.Parse(v)
			if err != nil {
				problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter", FieldError{Field: name, Reason: "a UUID"})
				return
			}
			*dst = uuid.NullUUID{UUID: id, Valid: true}
		}
	}
	rows, err := dbsqlc.New(s.deps.DB).ListSchedules(r.Context(), p)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	page := pageOf(rows, limit, scheduleSummary, func(r dbsqlc.ListSchedulesRow) any { return timeIDCursor{At: r.CreatedAt, ID: r.ID} })
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) validateSchedule(w http.ResponseWriter, r *http.Request) {
	setAction(r, "schedules.validate")
	var req struct {
		Problem json.RawMessage `json:"problem,omitempty"`
		NRP     string          `json:"nrp,omitempty"`
		Roster  json.RawMessage `json:"roster"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	var model *roster.Model
	switch {
	case req.NRP != "" && len(req.Problem) > 0:
		problem(w, r, http.StatusUnprocessableEntity, "give problem or nrp, not both", FieldError{Field: "nrp", Reason: "remove one"})
		return
	case req.NRP != "":
		inst, err := roster.ParseNRP("", []byte(req.NRP))
		if err != nil {
			problem(w, r, http.StatusUnprocessableEntity, "the NRP text is invalid: "+err.Error(), FieldError{Field: "nrp", Reason: err.Error()})
			return
		}
		model = inst.Model()
	case len(req.Problem) > 0:
		var err error
		if model, err = roster.DecodeModel(req.Problem); err != nil {
			problem(w, r, http.StatusUnprocessableEntity, "the problem is invalid", modelErrors("problem.", err)...)
			return
		}
	default:
		problem(w, r, http.StatusUnprocessableEntity, "the request is invalid", FieldError{Field: "problem", Reason: "required (or nrp)"})
		return
	}
	if len(req.Roster) == 0 {
		problem(w, r, http.StatusUnprocessableEntity, "the request is invalid", FieldError{Field: "roster", Reason: "required: {employee: [shift or \"\" per day]}"})
		return
	}
	ro, err := roster.DecodeRoster(req.Roster)
	if err != nil {
		problem(w, r, http.StatusUnprocessableEntity, "the roster is invalid", FieldError{Field: "roster", Reason: err.Error()})
		return
	}
	ev, err := roster.Evaluate(model, ro)
	if err != nil {
		problem(w, r, http.StatusUnprocessableEntity, "the roster does not fit the problem", modelErrors("roster.", err)...)
		return
	}
	writeJSON(w, http.StatusOK, ev)
}

// checkSwap refuses a shift-swap request whose swapped roster would break a
// hard rule, before any approver sees it.
func checkSwap(s *Server, r *http.Request, org string, t *flow.Template, form map[string]any) *Problem {
	if t.Kind != flow.KindShiftSwap {
		return nil
	}
	change, err := replan.ChangeFromForm(t.Kind, form)
	if err != nil {
		return NewProblem(http.StatusUnprocessableEntity, err.Error())
	}
	swap := change.(replan.Swap)
	from, to := swap.Span()
	q := dbsqlc.New(s.deps.DB)
	bases, err := q.PublishedCovering(r.Context(), dbsqlc.PublishedCoveringParams{OrgID: org, FromDate: from, ToDate: to})
	if err != nil {
		return NewProblem(http.StatusServiceUnavailable, "cannot check the swap against the published roster; retry")
	}
	for _, base := range bases {
		model, err := roster.DecodeModel(base.Problem)
		if err != nil {
			continue
		}
		dates := model.Dates()
		current, err := schedule.LoadRoster(r.Context(), q, base.ID, dates)
		if err != nil {
			return NewProblem(http.StatusServiceUnavailable, "cannot read the published roster; retry")
		}
		swapped, ok := swap.Swapped(model, current)
		if !ok {
			continue
		}
		before, err1 := roster.Evaluate(model, current)
		after, err2 := roster.Evaluate(model, swapped)
		if err1 != nil || err2 != nil {
			continue
		}
		var added []roster.Violation
		for _, v := range after.Violations {
			if v.Hard && (v.Employee == swap.Person || v.Employee == swap.Other) && !containsViolation(before.Violations, v) {
				added = append(added, v)
			}
		}
		if len(added) > 0 {
			p := NewProblem(http.StatusUnprocessableEntity, fmt.Sprintf("the swap would break %d hard rule(s) of the published roster %s", len(added), base.ID))
			for _, v := range added {
				p.Errors = append(p.Errors, FieldError{Field: "form", Reason: v.Message})
			}
			p.Extensions = map[string]any{"violations": added, "schedule_id": base.ID}
			return p
		}
	}
	return nil
}

func containsViolation(vs []roster.Violation, v roster.Violation) bool {
	for _, x := range vs {
		if x.Rule == v.Rule && x.Employee == v.Employee && slices.Equal(x.Days, v.Days) && x.Shift == v.Shift {
			return true
		}
	}
	return false
}
