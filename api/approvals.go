package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/flow"
	"github.com/shiftflow/shiftflow/workers/approval"
)

func init() {
	mounts = append(mounts, func(s *Server, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(requireScope(ScopeApproval))
			r.With(s.idempotent).Post("/approvals", s.submitApproval)
			r.Get("/approvals", s.listApprovals)
			r.Get("/approvals/{id}", s.getApproval)
			r.Get("/approvals/{id}/history", s.approvalHistory)
			r.With(s.idempotent).Post("/approvals/{id}/actions", s.approvalAction)
			r.With(s.idempotent).Post("/tasks:batch-approve", s.batchApprove)
			r.With(s.idempotent).Post("/tasks:batch-transfer", s.batchTransfer)
			r.Get("/tasks", s.listTasks)
			r.Get("/cc", s.listCC)
		})
	})
}

// refusal answers an engine refusal with its status and reason.
func refusal(w http.ResponseWriter, r *http.Request, err error) {
	status := approval.StatusOf(err)
	var fe *flow.Error
	p := NewProblem(status, err.Error())
	if errors.As(err, &fe) {
		p.Detail = fe.Reason
		for _, f := range fe.Fields {
			p.Errors = append(p.Errors, FieldError{Field: "form." + f.Field, Reason: f.Reason})
		}
		if fe.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(fe.RetryAfter.Seconds()+0.999)))
		}
	}
	writeProblem(w, r, p)
}

type submitRequest struct {
	TemplateID      string              `json:"template_id"`
	TemplateVersion int                 `json:"template_version,omitempty"`
	Initiator       string              `json:"initiator"`
	Form            map[string]any      `json:"form"`
	Chosen          map[string][]string `json:"chosen,omitempty"`
}

// Accepted is the 202 answer of an asynchronous command.
type Accepted struct {
	ID        string `json:"id"`
	CommandID string `json:"command_id"`
	Status    string `json:"status"`
}

func (s *Server) submitApproval(w http.ResponseWriter, r *http.Request) {
	setAction(r, "approvals.submit")
	var req submitRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	var errs []FieldError
	if req.TemplateID == "" {
		errs = append(errs, FieldError{Field: "template_id", Reason: "required"})
	}
	if req.Initiator == "" {
		errs = append(errs, FieldError{Field: "initiator", Reason: "required: the person id of who submits"})
	}
	if req.TemplateVersion < 0 {
		errs = append(errs, FieldError{Field: "template_version", Reason: "a positive version, or omit it for the latest"})
	}
	if len(errs) > 0 {
		problem(w, r, http.StatusUnprocessableEntity, "the approval request is invalid", errs...)
		return
	}
	org := principalFrom(r).OrgID
	q := dbsqlc.New(s.deps.DB)
	var tmpl *flow.Template
	var err error
	if req.TemplateVersion > 0 {
		tmpl, err = s.templates.Version(r.Context(), q, org, req.TemplateID, req.TemplateVersion)
	} else {
		tmpl, _, err = s.templates.Latest(r.Context(), q, org, req.TemplateID)
	}
	if errors.Is(err, approval.ErrTemplateNotFound) {
		problem(w, r, http.StatusUnprocessableEntity, "unknown template", FieldError{Field: "template_id", Reason: "no such template (or version) in this org"})
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if req.Form == nil {
		req.Form = map[string]any{}
	}
	if fe := flow.ValidateForm(tmpl, req.Form); len(fe) > 0 {
		out := make([]FieldError, 0, len(fe))
		for _, f := range fe {
			out = append(out, FieldError{Field: "form." + f.Field, Reason: f.Reason})
		}
		problem(w, r, http.StatusUnprocessableEntity, "the form does not match the template's schema", out...)
		return
	}
	instanceID := uuid.Must(uuid.NewV7()).String()
	cmd := flow.Command{Action: flow.ActSubmit, Actor: req.Initiator, At: time.Now().UTC(), InstanceID: instanceID,
		Org: org, Form: req.Form, Chosen: req.Chosen}
	dir := &approval.Directory{Ctx: r.Context(), Q: q, Org: org}
	if err := flow.Check(tmpl, nil, cmd, dir); err != nil {
		if approval.StatusOf(err) != 0 {
			refusal(w, r, err)
			return
		}
		s.internalError(w, r, err)
		return
	}
	for _, hook := range submitChecks {
		if p := hook(s, r, org, tmpl, req.Form); p != nil {
			writeProblem(w, r, p)
			return
		}
	}
	data := approval.CommandData{Command: cmd, TemplateID: tmpl.ID, TemplateVersion: tmpl.Version}
	s.publishApprovalCommand(w, r, approval.TypeSubmit, instanceID, data, http.StatusCreated, "approvals.submit")
}

// submitChecks are extra submission checks other features add (the
// shift-swap feasibility check); a non-nil problem refuses the submit.
var submitChecks []func(s *Server, r *http.Request, org string, t *flow.Template, form map[string]any) *Problem

// publishApprovalCommand publishes the command and answers 202, or with
// Prefer: wait the outcome (okStatus and the instance, or the refusal).
// auditInfo describes the request for an audit row written by a worker.
func (s *Server) auditInfo(r *http.Request) *approval.AuditInfo {
	info := requestInfoFrom(r.Context())
	return &approval.AuditInfo{Actor: info.Actor, RequestID: info.RequestID, IP: clientIP(r), UserAgent: truncateString(r.UserAgent(), 512)}
}

func (s *Server) publishApprovalCommand(w http.ResponseWriter, r *http.Request, typ, instanceID string, data approval.CommandData, okStatus int, action string) {
	org := principalFrom(r).OrgID
	// The worker writes the audit row with the effect, in one transaction.
	data.Audit = s.auditInfo(r)
	env, err := events.New(org, "shiftflow/api", typ, "approvals/"+instanceID, data)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	env.Actor = data.Actor
	// Without a subscription the command is accepted all the same and
	// answered without waiting.
	ch, wait, unwait := s.waitFor(r, env.ID)
	defer unwait()
	if _, err := s.deps.Publisher.PublishCommand(r.Context(), env); err != nil {
		s.log(r).Error("publish failed", "error", err)
		w.Header().Set("Retry-After", "2")
		problem(w, r, http.StatusServiceUnavailable, "the command could not be queued (messaging unavailable); nothing was accepted, retry")
		return
	}
	loc := "/api/v1/approvals/" + instanceID
	if wait > 0 {
		w.Header().Set("Preference-Applied", "wait="+strconv.Itoa(int(wait.Seconds())))
		if o, ok := s.awaitOutcome(r, ch, wait); ok {
			if rej, isRej := rejectedOutcome(o); isRej {
				p := NewProblem(rej.Status, rej.Reason)
				for _, f := range rej.Fields {
					p.Errors = append(p.Errors, FieldError{Field: "form." + f.Field, Reason: f.Reason})
				}
				p.Extensions = map[string]any{"command_id": env.ID}
				if rej.RetryAfterS > 0 {
					w.Header().Set("Retry-After", strconv.Itoa(rej.RetryAfterS))
				}
				writeProblem(w, r, p)
				return
			}
			if view, err := s.loadInstanceView(r, org, instanceID); err == nil {
				w.Header().Set("Location", loc)
				writeJSON(w, okStatus, view)
				return
			}
		}
	}
	w.Header().Set("Location", loc)
	writeJSON(w, http.StatusAccepted, Accepted{ID: instanceID, CommandID: env.ID, Status: "accepted"})
}

// actionRequest is the body of POST /approvals/{id}/actions.
type actionRequest struct {
	Action      flow.Action         `json:"action"`
	Actor       string              `json:"actor"`
	TaskID      string              `json:"task_id,omitempty"`
	Comment     string              `json:"comment,omitempty"`
	Attachments []string            `json:"attachments,omitempty"`
	To          string              `json:"to,omitempty"`
	Signers     []string            `json:"signers,omitempty"`
	Position    string              `json:"position,omitempty"`
	RejectTo    string              `json:"reject_to,omitempty"`
	Form        map[string]any      `json:"form,omitempty"`
	Chosen      map[string][]string `json:"chosen,omitempty"`
}

// userActions are the actions callers may send (timers fire the others).
var userActions = []flow.Action{flow.ActApprove, flow.ActReject, flow.ActTransfer, flow.ActDelegate, flow.ActAddSigner,
	flow.ActRemoveSigner, flow.ActWithdraw, flow.ActResubmit, flow.ActUrge, flow.ActComment, flow.ActCancel}

// checkAction validates an action against the current state, as the worker
// will; it returns the command to publish or answers the refusal itself.
func (s *Server) checkAction(w http.ResponseWriter, r *http.Request, instanceID string, req actionRequest) (approval.CommandData, bool) {
	var data approval.CommandData
	if !slices.Contains(userActions, req.Action) {
		names := make([]string, len(userActions))
		for i, a := range userActions {
			names[i] = string(a)
		}
		problem(w, r, http.StatusUnprocessableEntity, "unknown action", FieldError{Field: "action", Reason: fmt.Sprintf("%q is not one of %v", req.Action, names)})
		return data, false
	}
	if req.Actor == "" {
		problem(w, r, http.StatusUnprocessableEntity, "the action is invalid", FieldError{Field: "actor", Reason: "required: the person id acting"})
		return data, false
	}
	id, err := uuid.Parse(instanceID)
	if err != nil {
		problem(w, r, http.StatusNotFound, "no such approval")
		return data, false
	}
	org := principalFrom(r).OrgID
	q := dbsqlc.New(s.deps.DB)
	dir := &approval.Directory{Ctx: r.Context(), Q: q, Org: org}
	admin := false
	if approval.AdminMatters(req.Action) {
		var err error
		if admin, err = dir.IsAdmin(req.Actor); err != nil {
			s.internalError(w, r, err)
			return data, false
		}
	}
	cmd := flow.Command{Action: req.Action, Actor: req.Actor, At: time.Now().UTC(), Admin: admin, InstanceID: instanceID, Org: org,
		Form: req.Form, Chosen: req.Chosen, TaskID: req.TaskID, Comment: req.Comment, Attachments: req.Attachments,
		To: req.To, Signers: req.Signers, Position: req.Position, RejectTo: req.RejectTo}
	// A state this process's worker committed lately may let the command
	// through without a read (the worker decides anyway); a refusal is only
	// ever given on the state read from the database.
	if st, ok := s.deps.ApprovalStates.Get(approval.ReaderAPI, org, id); ok {
		// An approve needs no trial run (which would resolve the next
		// node's approvers, reading the directory): MayApprove is what
		// Check would say.
		if req.Action == flow.ActApprove {
			if st.MayApprove(req.Actor, req.TaskID) {
				return approval.CommandData{Command: cmd}, true
			}
		} else {
			tmpl, err := s.templates.Version(r.Context(), q, org, st.TemplateID, st.TemplateVersion)
			if err != nil {
				s.internalError(w, r, err)
				return data, false
			}
			if flow.Check(tmpl, st, cmd, dir) == nil {
				return approval.CommandData{Command: cmd}, true
			}
		}
	}
	// Without a cached state, the task projection answers the same question
	// (MayApprove) without reading and decoding the state. Anything else is
	// decided on the whole state below, which also words the refusal.
	if req.Action == flow.ActApprove {
		tasks, err := q.TasksOfRunningInstance(r.Context(), dbsqlc.TasksOfRunningInstanceParams{InstanceID: id, OrgID: org})
		if err != nil {
			s.internalError(w, r, err)
			return data, false
		}
		projected := flow.Instance{Status: flow.StatusRunning, Tasks: make([]flow.Task, len(tasks))}
		for i, t := range tasks {
			projected.Tasks[i] = flow.Task{ID: t.TaskID, Assignee: t.Assignee, State: flow.TaskState(t.State)}
		}
		if len(tasks) > 0 && projected.MayApprove(req.Actor, req.TaskID) {
			return approval.CommandData{Command: cmd}, true
		}
	}
	row, err := q.GetInstance(r.Context(), dbsqlc.GetInstanceParams{OrgID: org, ID: id})
	if s.lookupFailed(w, r, err, "no such approval (a just-submitted approval appears once its worker has created it)") {
		return data, false
	}
	st := new(flow.Instance)
	if err := json.Unmarshal(row.State, st); err != nil {
		s.internalError(w, r, err)
		return data, false
	}
	s.deps.ApprovalStates.Put(org, id, st)
	tmpl, err := s.templates.Version(r.Context(), q, org, row.TemplateID, int(row.TemplateVersion))
	if err != nil {
		s.internalError(w, r, err)
		return data, false
	}
	if err := flow.Check(tmpl, st, cmd, dir); err != nil {
		if approval.StatusOf(err) != 0 {
			refusal(w, r, err)
			return data, false
		}
		s.internalError(w, r, err)
		return data, false
	}
	return approval.CommandData{Command: cmd}, true
}

func (s *Server) approvalAction(w http.ResponseWriter, r *http.Request) {
	var req actionRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	setAction(r, "approvals."+string(req.Action))
	id := chi.URLParam(r, "id")
	data, ok := s.checkAction(w, r, id, req)
	if !ok {
		return
	}
	s.publishApprovalCommand(w, r, approval.TypeAct, id, data, http.StatusOK, "approvals."+string(req.Action))
}

// batchItem names one task of a batch.
type batchItem struct {
	InstanceID string `json:"instance_id"`
	TaskID     string `json:"task_id,omitempty"`
}

type batchResult struct {
	InstanceID string       `json:"instance_id"`
	TaskID     string       `json:"task_id,omitempty"`
	Status     int          `json:"status"`
	CommandID  string       `json:"command_id,omitempty"`
	Error      string       `json:"error,omitempty"`
	Errors     []FieldError `json:"errors,omitempty"`
}

// MaxBatchTasks bounds the batch task endpoints.
const MaxBatchTasks = 100

func (s *Server) batchApprove(w http.ResponseWriter, r *http.Request) {
	setAction(r, "tasks.batch_approve")
	var req struct {
		Actor   string      `json:"actor"`
		Comment string      `json:"comment,omitempty"`
		Items   []batchItem `json:"items"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	s.runBatch(w, r, req.Items, func(it batchItem) actionRequest {
		return actionRequest{Action: flow.ActApprove, Actor: req.Actor, TaskID: it.TaskID, Comment: req.Comment}
	})
}

func (s *Server) batchTransfer(w http.ResponseWriter, r *http.Request) {
	setAction(r, "tasks.batch_transfer")
	var req struct {
		Actor   string      `json:"actor"`
		To      string      `json:"to"`
		Comment string      `json:"comment,omitempty"`
		Items   []batchItem `json:"items"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	if req.To == "" {
		problem(w, r, http.StatusUnprocessableEntity, "the batch is invalid", FieldError{Field: "to", Reason: "required: the person receiving the tasks"})
		return
	}
	s.runBatch(w, r, req.Items, func(it batchItem) actionRequest {
		return actionRequest{Action: flow.ActTransfer, Actor: req.Actor, TaskID: it.TaskID, To: req.To, Comment: req.Comment}
	})
}

// runBatch checks and publishes each item independently; the answer lists
// every item's outcome (202 accepted, or the refusal).
func (s *Server) runBatch(w http.ResponseWriter, r *http.Request, items []batchItem, build func(batchItem) actionRequest) {
	if len(items) == 0 || len(items) > MaxBatchTasks {
		problem(w, r, http.StatusUnprocessableEntity, "the batch is invalid", FieldError{Field: "items", Reason: fmt.Sprintf("1 to %d items", MaxBatchTasks)})
		return
	}
	// What is wrong with the whole request is refused as a whole; the
	// results are for what each task's state decides.
	var errs []FieldError
	if build(batchItem{}).Actor == "" {
		errs = append(errs, FieldError{Field: "actor", Reason: "required: the person id acting"})
	}
	for i, it := range items {
		if it.InstanceID == "" {
			errs = append(errs, FieldError{Field: fmt.Sprintf("items[%d].instance_id", i), Reason: "required"})
		}
	}
	if len(errs) > 0 {
		problem(w, r, http.StatusUnprocessableEntity, "the batch is invalid", errs...)
		return
	}
	org := principalFrom(r).OrgID
	results := make([]batchResult, len(items))
	// Every item is checked first; the accepted ones are then published
	// together, so a batch waits for the stream about once, not per item.
	var envs []events.Envelope
	var slot []int
	for i, it := range items {
		rec := &bufferedWriter{header: http.Header{}}
		req := build(it)
		results[i] = batchResult{InstanceID: it.InstanceID, TaskID: it.TaskID}
		data, ok := s.checkAction(rec, r, it.InstanceID, req)
		if !ok {
			var p Problem
			_ = json.Unmarshal(rec.body, &p)
			results[i].Status, results[i].Error, results[i].Errors = rec.status, p.Detail, p.Errors
			continue
		}
		data.Audit = s.auditInfo(r)
		env, err := events.New(org, "shiftflow/api", approval.TypeAct, "approvals/"+it.InstanceID, data)
		if err != nil {
			results[i].Status, results[i].Error = http.StatusServiceUnavailable, "could not be queued; retry this item"
			continue
		}
		env.Actor = data.Actor
		envs = append(envs, env)
		slot = append(slot, i)
	}
	for k, err := range s.deps.Publisher.PublishCommands(r.Context(), envs) {
		res := &results[slot[k]]
		if err != nil {
			s.log(r).Warn("batch item not queued", "instance_id", res.InstanceID, "error", err)
			res.Status, res.Error = http.StatusServiceUnavailable, "could not be queued; retry this item"
		} else {
			res.Status, res.CommandID = http.StatusAccepted, envs[k].ID
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

// bufferedWriter captures a problem answer for a batch item.
type bufferedWriter struct {
	header http.Header
	status int
	body   []byte
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.body = append(b.body, p...)
	return len(p), nil
}
func (b *bufferedWriter) WriteHeader(code int) { b.status = code }

// InstanceView is an approval as read by the API.
type InstanceView struct {
	ID              string              `json:"id"`
	TemplateID      string              `json:"template_id"`
	TemplateVersion int                 `json:"template_version"`
	Initiator       string              `json:"initiator"`
	Status          flow.Status         `json:"status"`
	Form            map[string]any      `json:"form"`
	Chosen          map[string][]string `json:"chosen,omitempty"`
	Round           int                 `json:"round"`
	CurrentNodes    []string            `json:"current_nodes"`
	OpenTasks       []TaskView          `json:"open_tasks"`
	Tasks           []TaskView          `json:"tasks"`
	CCs             []flow.CC           `json:"ccs"`
	Version         int                 `json:"version"`
	CreatedAt       time.Time           `json:"created_at"`
	UpdatedAt       time.Time           `json:"updated_at"`
	FinishedAt      *time.Time          `json:"finished_at"`
}

// TaskView is a task as read: the engine's bookkeeping for taking a
// decision back (decided_seq, touched, undo) stays inside.
type TaskView struct {
	ID              string           `json:"id"`
	Node            string           `json:"node"`
	Run             int              `json:"run"`
	Order           int              `json:"order"`
	Assignee        string           `json:"assignee"`
	State           flow.TaskState   `json:"state"`
	Origin          flow.Origin      `json:"origin"`
	AddedBy         string           `json:"added_by,omitempty"`
	DelegatedFrom   string           `json:"delegated_from,omitempty"`
	TransferredFrom string           `json:"transferred_from,omitempty"`
	Resume          string           `json:"resume,omitempty"`
	Then            []flow.Signer    `json:"then,omitempty"`
	Delegation      *flow.Delegation `json:"delegation,omitempty"`
	Comment         string           `json:"comment,omitempty"`
	Attachments     []string         `json:"attachments,omitempty"`
	CreatedAt       time.Time        `json:"created_at"`
	DecidedAt       time.Time        `json:"decided_at,omitzero"`
	DecidedBy       string           `json:"decided_by,omitempty"`
}

func taskViews(ts []flow.Task) []TaskView {
	out := make([]TaskView, len(ts))
	for i, t := range ts {
		out[i] = TaskView{ID: t.ID, Node: t.Node, Run: t.Run, Order: t.Order, Assignee: t.Assignee, State: t.State, Origin: t.Origin,
			AddedBy: t.AddedBy, DelegatedFrom: t.DelegatedFrom, TransferredFrom: t.TransferredFrom, Resume: t.Resume, Then: t.Then,
			Delegation: t.Delegation, Comment: t.Comment, Attachments: t.Attachments, CreatedAt: t.CreatedAt, DecidedAt: t.DecidedAt, DecidedBy: t.DecidedBy}
	}
	return out
}

func instanceView(st *flow.Instance) InstanceView {
	v := InstanceView{ID: st.ID, TemplateID: st.TemplateID, TemplateVersion: st.TemplateVersion, Initiator: st.Initiator,
		Status: st.Status, Form: st.Form, Chosen: st.Chosen, Round: st.Round, CurrentNodes: st.Active, OpenTasks: taskViews(st.OpenTasks()),
		Tasks: taskViews(st.Tasks), CCs: st.CCs, Version: st.Version, CreatedAt: st.CreatedAt, UpdatedAt: st.UpdatedAt}
	if v.CurrentNodes == nil {
		v.CurrentNodes = []string{}
	}
	if v.CCs == nil {
		v.CCs = []flow.CC{}
	}
	if !st.FinishedAt.IsZero() {
		f := st.FinishedAt
		v.FinishedAt = &f
	}
	return v
}

func (s *Server) loadInstance(r *http.Request, org, id string) (*flow.Instance, error) {
	uid, err := uuid.Parse(id)
	if err != nil {
		return nil, pgx.ErrNoRows
	}
	row, err := dbsqlc.New(s.deps.DB).GetInstance(r.Context(), dbsqlc.GetInstanceParams{OrgID: org, ID: uid})
	if err != nil {
		return nil, err
	}
	var st flow.Instance
	if err := json.Unmarshal(row.State, &st); err != nil {
		return nil, err
	}
	// A caller who saw this state (a GET, or the outcome of its own action)
	// has its next action checked against it or a newer one.
	s.deps.ApprovalStates.Put(org, uid, &st)
	return &st, nil
}

func (s *Server) loadInstanceView(r *http.Request, org, id string) (InstanceView, error) {
	st, err := s.loadInstance(r, org, id)
	if err != nil {
		return InstanceView{}, err
	}
	return instanceView(st), nil
}

func (s *Server) getApproval(w http.ResponseWriter, r *http.Request) {
	setAction(r, "approvals.get")
	v, err := s.loadInstanceView(r, principalFrom(r).OrgID, chi.URLParam(r, "id"))
	if s.lookupFailed(w, r, err, "no such approval") {
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) approvalHistory(w http.ResponseWriter, r *http.Request) {
	setAction(r, "approvals.history")
	st, err := s.loadInstance(r, principalFrom(r).OrgID, chi.URLParam(r, "id"))
	if s.lookupFailed(w, r, err, "no such approval") {
		return
	}
	items := st.History
	if items == nil {
		items = []flow.Entry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// InstanceSummary is one row of GET /approvals.
type InstanceSummary struct {
	ID              uuid.UUID  `json:"id"`
	TemplateID      string     `json:"template_id"`
	TemplateVersion int32      `json:"template_version"`
	Initiator       string     `json:"initiator"`
	Status          string     `json:"status"`
	Version         int32      `json:"version"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	FinishedAt      *time.Time `json:"finished_at"`
}

type timeIDCursor struct {
	At time.Time `json:"at"`
	ID uuid.UUID `json:"id"`
}

var statuses = []string{"running", "returned", "approved", "rejected", "withdrawn", "cancelled"}

func (s *Server) listApprovals(w http.ResponseWriter, r *http.Request) {
	setAction(r, "approvals.list")
	cur := timeIDCursor{At: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), ID: uuid.Max}
	limit, ok := pageParams(w, r, &cur)
	if !ok {
		return
	}
	qs := r.URL.Query()
	status := qs.Get("status")
	if status != "" && !slices.Contains(statuses, status) {
		problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter", FieldError{Field: "status", Reason: fmt.Sprintf("one of %v", statuses)})
		return
	}
	from, ok := timeParam(w, r, "created_from")
	if !ok {
		return
	}
	to, ok := timeParam(w, r, "created_to")
	if !ok {
		return
	}
	rows, err := dbsqlc.New(s.deps.DB).ListInstances(r.Context(), dbsqlc.ListInstancesParams{
		OrgID: principalFrom(r).OrgID, Status: optional(status), TemplateID: optional(qs.Get("template_id")),
		Initiator: optional(qs.Get("initiator")), CreatedFrom: from, CreatedTo: to,
		BeforeAt: cur.At, BeforeID: cur.ID, MaxRows: int32(limit + 1),
	})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	page := Page[InstanceSummary]{Items: []InstanceSummary{}}
	for i, row := range rows {
		if i == limit {
			page.NextCursor = encodeCursor(timeIDCursor{At: rows[i-1].CreatedAt, ID: rows[i-1].ID})
			break
		}
		page.Items = append(page.Items, InstanceSummary{ID: row.ID, TemplateID: row.TemplateID, TemplateVersion: row.TemplateVersion,
			Initiator: row.Initiator, Status: row.Status, Version: row.Version, CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt, FinishedAt: row.FinishedAt})
	}
	writeJSON(w, http.StatusOK, page)
}

type taskCursor struct {
	At       time.Time `json:"at"`
	Instance uuid.UUID `json:"i"`
	Task     string    `json:"t"`
}

var taskStates = []string{"open", "waiting", "delegated", "approved", "rejected", "transferred", "cancelled", "all"}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) {
	setAction(r, "tasks.list")
	var cur taskCursor
	limit, ok := pageParams(w, r, &cur)
	if !ok {
		return
	}
	qs := r.URL.Query()
	assignee := qs.Get("assignee")
	if assignee == "" {
		problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter", FieldError{Field: "assignee", Reason: "required: whose inbox"})
		return
	}
	state := qs.Get("state")
	if state == "" {
		state = "open"
	}
	if !slices.Contains(taskStates, state) {
		problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter", FieldError{Field: "state", Reason: fmt.Sprintf("one of %v", taskStates)})
		return
	}
	if state == "all" {
		state = ""
	}
	rows, err := dbsqlc.New(s.deps.DB).ListInbox(r.Context(), dbsqlc.ListInboxParams{
		OrgID: principalFrom(r).OrgID, Assignee: assignee, State: optional(state),
		AfterAt: cur.At, AfterInstance: cur.Instance, AfterTask: cur.Task, MaxRows: int32(limit + 1),
	})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	page := pageOf(rows, limit, same[dbsqlc.ListInboxRow], func(r dbsqlc.ListInboxRow) any {
		return taskCursor{At: r.CreatedAt, Instance: r.InstanceID, Task: r.TaskID}
	})
	writeJSON(w, http.StatusOK, page)
}

type ccCursor struct {
	At       time.Time `json:"at"`
	Instance uuid.UUID `json:"i"`
	Node     string    `json:"n"`
}

func (s *Server) listCC(w http.ResponseWriter, r *http.Request) {
	setAction(r, "cc.list")
	cur := ccCursor{At: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), Instance: uuid.Max, Node: "\U0010FFFF"}
	limit, ok := pageParams(w, r, &cur)
	if !ok {
		return
	}
	person := r.URL.Query().Get("person")
	if person == "" {
		problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter", FieldError{Field: "person", Reason: "required: whose copies"})
		return
	}
	rows, err := dbsqlc.New(s.deps.DB).ListCCs(r.Context(), dbsqlc.ListCCsParams{
		OrgID: principalFrom(r).OrgID, Person: person, BeforeAt: cur.At, BeforeInstance: cur.Instance, BeforeNode: cur.Node, MaxRows: int32(limit + 1),
	})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	page := pageOf(rows, limit, same[dbsqlc.ListCCsRow], func(r dbsqlc.ListCCsRow) any { return ccCursor{At: r.SentAt, Instance: r.InstanceID, Node: r.Node} })
	writeJSON(w, http.StatusOK, page)
}
