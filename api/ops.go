package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/workers/replay"
)

func init() {
	mounts = append(mounts, func(s *Server, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(requireScope(ScopeOps))
			r.Get("/ops/failed-events", s.listFailedEvents)
			r.With(s.idempotent).Post("/ops/failed-events/replay", s.bulkReplay)
			r.Get("/ops/failed-events/{id}", s.getFailedEvent)
			r.Post("/ops/failed-events/{id}/replay", s.replayFailedEvent)
			r.Delete("/ops/failed-events/{id}", s.discardFailedEvent)
			r.Get("/ops/replay-jobs/{id}", s.getReplayJob)
		})
	})
}

var failedStatuses = []string{"open", "replayed", "resolved", "discarded"}

func (s *Server) listFailedEvents(w http.ResponseWriter, r *http.Request) {
	setAction(r, "ops.failed_events.list")
	cur := timeIDCursor{At: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), ID: uuid.Max}
	limit, ok := pageParams(w, r, &cur)
	if !ok {
		return
	}
	qs := r.URL.Query()
	since, ok := timeParam(w, r, "since")
	if !ok {
		return
	}
	until, ok := timeParam(w, r, "until")
	if !ok {
		return
	}
	status := qs.Get("status")
	if status != "" && !contains(failedStatuses, status) {
		problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter", FieldError{Field: "status", Reason: "one of open, replayed, resolved, discarded"})
		return
	}
	org := principalFrom(r).OrgID
	rows, err := dbsqlc.New(s.deps.DB).ListFailedEvents(r.Context(), dbsqlc.ListFailedEventsParams{
		OrgID: &org, Consumer: optional(qs.Get("consumer")), Type: optional(qs.Get("type")), ErrorText: optional(qs.Get("error")),
		Status: optional(status), Since: since, Until: until, BeforeAt: cur.At, BeforeID: cur.ID, MaxRows: int32(limit + 1),
	})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	page := pageOf(rows, limit, same[dbsqlc.ListFailedEventsRow], func(r dbsqlc.ListFailedEventsRow) any { return timeIDCursor{At: r.CreatedAt, ID: r.ID} })
	writeJSON(w, http.StatusOK, page)
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func (s *Server) loadFailedEvent(w http.ResponseWriter, r *http.Request) (dbsqlc.FailedEvent, bool) {
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		problem(w, r, http.StatusNotFound, "no such failed event")
		return dbsqlc.FailedEvent{}, false
	}
	org := principalFrom(r).OrgID
	fe, err := dbsqlc.New(s.deps.DB).GetFailedEventOfOrg(r.Context(), dbsqlc.GetFailedEventOfOrgParams{ID: id, OrgID: &org})
	if s.lookupFailed(w, r, err, "no such failed event") {
		return fe, false
	}
	return fe, true
}

// FailedEventView shows a dead letter with its payload readable.
type FailedEventView struct {
	dbsqlc.FailedEvent
	Payload any `json:"payload"`
}

func (s *Server) getFailedEvent(w http.ResponseWriter, r *http.Request) {
	setAction(r, "ops.failed_events.get")
	fe, ok := s.loadFailedEvent(w, r)
	if !ok {
		return
	}
	v := FailedEventView{FailedEvent: fe, Payload: fe.Payload}
	if json.Valid(fe.Payload) {
		v.Payload = json.RawMessage(fe.Payload)
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) replayFailedEvent(w http.ResponseWriter, r *http.Request) {
	setAction(r, "ops.failed_events.replay")
	fe, ok := s.loadFailedEvent(w, r)
	if !ok {
		return
	}
	if fe.Status == "discarded" {
		problem(w, r, http.StatusConflict, "this dead letter was discarded")
		return
	}
	if err := s.replayer.One(r.Context(), fe, principalFrom(r).Actor()); err != nil {
		s.internalError(w, r, err)
		return
	}
	if err := s.audit(r, fe.OrgID, "ops.failed_events.replay", "failed_event", fe.ID.String(), map[string]any{"consumer": fe.Consumer, "message_id": fe.MessageID}); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"id": fe.ID, "status": "replayed", "replay_outcome": replay.OutcomePending})
}

func (s *Server) bulkReplay(w http.ResponseWriter, r *http.Request) {
	setAction(r, "ops.failed_events.bulk_replay")
	var f replay.Filter
	if !decodeJSON(w, r, &f) {
		return
	}
	if f.OrgID != "" {
		problem(w, r, http.StatusUnprocessableEntity, "invalid filter", FieldError{Field: "org_id", Reason: "jobs always cover the key's own org; omit it"})
		return
	}
	if f.Consumer == "" && f.Type == "" && f.ErrorText == "" && f.Since == nil {
		problem(w, r, http.StatusUnprocessableEntity, "the filter selects everything; name at least consumer, type, error_text or since",
			FieldError{Field: "consumer", Reason: "or type, error_text, since"})
		return
	}
	org := principalFrom(r).OrgID
	raw, _ := json.Marshal(f)
	job, err := dbsqlc.New(s.deps.DB).InsertReplayJob(r.Context(), dbsqlc.InsertReplayJobParams{ID: uuid.New(), OrgID: &org, Filter: raw, RequestedBy: principalFrom(r).Actor()})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if err := s.audit(r, org, "ops.failed_events.bulk_replay", "replay_job", job.ID.String(), f); err != nil {
		s.internalError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/ops/replay-jobs/"+job.ID.String())
	writeJSON(w, http.StatusAccepted, replayJobView(job))
}

func (s *Server) getReplayJob(w http.ResponseWriter, r *http.Request) {
	setAction(r, "ops.replay_jobs.get")
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		problem(w, r, http.StatusNotFound, "no such replay job")
		return
	}
	org := principalFrom(r).OrgID
	job, err := dbsqlc.New(s.deps.DB).GetReplayJob(r.Context(), dbsqlc.GetReplayJobParams{ID: id, OrgID: &org})
	if s.lookupFailed(w, r, err, "no such replay job") {
		return
	}
	writeJSON(w, http.StatusOK, replayJobView(job))
}

// ReplayJobView is a bulk replay's progress; the ids it works through are
// internal, the counts tell the progress.
type ReplayJobView struct {
	ID             uuid.UUID       `json:"id"`
	OrgID          *string         `json:"org_id"`
	RequestedBy    string          `json:"requested_by"`
	Status         string          `json:"status"`
	Filter         json.RawMessage `json:"filter"`
	Total          int32           `json:"total"`
	Replayed       int32           `json:"replayed"`
	AlreadyApplied int32           `json:"already_applied"`
	FailedAgain    int32           `json:"failed_again"`
	Error          *string         `json:"error"`
	CreatedAt      time.Time       `json:"created_at"`
	StartedAt      *time.Time      `json:"started_at"`
	FinishedAt     *time.Time      `json:"finished_at"`
}

func replayJobView(j dbsqlc.ReplayJob) ReplayJobView {
	return ReplayJobView{ID: j.ID, OrgID: j.OrgID, RequestedBy: j.RequestedBy, Status: j.Status, Filter: j.Filter, Total: j.Total,
		Replayed: j.Replayed, AlreadyApplied: j.AlreadyApplied, FailedAgain: j.FailedAgain, Error: j.Error,
		CreatedAt: j.CreatedAt, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt}
}

func (s *Server) discardFailedEvent(w http.ResponseWriter, r *http.Request) {
	setAction(r, "ops.failed_events.discard")
	fe, ok := s.loadFailedEvent(w, r)
	if !ok {
		return
	}
	org := principalFrom(r).OrgID
	if _, err := dbsqlc.New(s.deps.DB).DiscardFailedEvent(r.Context(), dbsqlc.DiscardFailedEventParams{ID: fe.ID, OrgID: &org}); err != nil {
		s.internalError(w, r, err)
		return
	}
	if err := s.audit(r, org, "ops.failed_events.discard", "failed_event", fe.ID.String(), map[string]any{"consumer": fe.Consumer, "type": fe.Type, "last_error": fe.LastError}); err != nil {
		s.internalError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
