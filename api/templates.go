package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/flow"
	"github.com/shiftflow/shiftflow/workers/approval"
)

func init() {
	mounts = append(mounts, func(s *Server, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(requireScope(ScopeApproval))
			r.With(s.idempotent).Post("/approval-templates", s.createTemplate)
			r.Get("/approval-templates", s.listTemplates)
			r.Get("/approval-templates/{id}", s.getTemplate)
			r.Get("/approval-templates/{id}/versions", s.listTemplateVersions)
			r.Put("/approval-templates/{id}", s.updateTemplate)
			r.Delete("/approval-templates/{id}", s.deleteTemplate)
		})
	})
}

var templateIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// TemplateView is one template version as returned by the API.
type TemplateView struct {
	flow.Template
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

func templateView(row dbsqlc.ApprovalTemplate) (TemplateView, error) {
	t, err := approval.Decode(row)
	if err != nil {
		return TemplateView{}, err
	}
	return TemplateView{Template: *t, CreatedBy: row.CreatedBy, CreatedAt: row.CreatedAt}, nil
}

// templateProblems turns engine validation problems into field errors named
// by node id.
func templateProblems(ps []flow.Problem) []FieldError {
	out := make([]FieldError, 0, len(ps))
	for _, p := range ps {
		field := p.Field
		if p.Node != "" {
			field = "nodes[" + p.Node + "]"
			if p.Field != "" {
				field += "." + p.Field
			}
		}
		if field == "" {
			field = "(template)"
		}
		out = append(out, FieldError{Field: field, Reason: p.Reason})
	}
	return out
}

// decodeTemplate reads and validates a template body; it answers errors itself.
func decodeTemplate(w http.ResponseWriter, r *http.Request) (*flow.Template, bool) {
	var t flow.Template
	if !decodeJSON(w, r, &t) {
		return nil, false
	}
	if t.Version != 0 {
		problem(w, r, http.StatusUnprocessableEntity, "versions are assigned by the server", FieldError{Field: "version", Reason: "omit it; every create or update makes the next version"})
		return nil, false
	}
	if ps := flow.ValidateTemplate(&t); len(ps) > 0 {
		p := NewProblem(http.StatusUnprocessableEntity, fmt.Sprintf("the template has %d problem(s)", len(ps)), templateProblems(ps)...)
		p.Extensions = map[string]any{"problems": ps}
		writeProblem(w, r, p)
		return nil, false
	}
	return &t, true
}

// storeTemplateVersion inserts a version and its event in one transaction.
func (s *Server) storeTemplateVersion(r *http.Request, tx pgx.Tx, q *dbsqlc.Queries, org string, t *flow.Template, eventType string) (dbsqlc.ApprovalTemplate, error) {
	def, err := json.Marshal(t)
	if err != nil {
		return dbsqlc.ApprovalTemplate{}, err
	}
	row, err := q.InsertTemplateVersion(r.Context(), dbsqlc.InsertTemplateVersionParams{
		OrgID: org, ID: t.ID, Version: int32(t.Version), Name: t.Name, Kind: string(t.Kind), Definition: def,
		CreatedBy: principalFrom(r).Actor(),
	})
	if err != nil {
		return row, err
	}
	e, err := events.New(org, approval.Source, eventType, "approval-templates/"+t.ID,
		map[string]any{"template_id": t.ID, "version": t.Version, "name": t.Name, "kind": t.Kind})
	if err != nil {
		return row, err
	}
	return row, events.Store(r.Context(), q, e)
}

func (s *Server) createTemplate(w http.ResponseWriter, r *http.Request) {
	setAction(r, "templates.create")
	t, ok := decodeTemplate(w, r)
	if !ok {
		return
	}
	if t.ID == "" {
		t.ID = uuid.NewString()
	} else if !templateIDPattern.MatchString(t.ID) {
		problem(w, r, http.StatusUnprocessableEntity, "invalid template id", FieldError{Field: "id", Reason: "letters, digits and . _ -, at most 128 characters"})
		return
	}
	t.Version = 1
	org := principalFrom(r).OrgID
	var row dbsqlc.ApprovalTemplate
	err := db.InTx(r.Context(), s.deps.DB, func(tx pgx.Tx, q *dbsqlc.Queries) error {
		existing, err := q.MaxTemplateVersion(r.Context(), dbsqlc.MaxTemplateVersionParams{OrgID: org, ID: t.ID})
		if err != nil {
			return err
		}
		if existing > 0 {
			return errValidation
		}
		row, err = s.storeTemplateVersion(r, tx, q, org, t, approval.EventTemplateCreated)
		return err
	})
	if errors.Is(err, errValidation) || db.IsUniqueViolation(err) {
		problem(w, r, http.StatusConflict, fmt.Sprintf("template %q exists; PUT /api/v1/approval-templates/%s creates a new version", t.ID, t.ID))
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	s.finishTemplateWrite(w, r, org, row, http.StatusCreated, "templates.create")
}

func (s *Server) finishTemplateWrite(w http.ResponseWriter, r *http.Request, org string, row dbsqlc.ApprovalTemplate, status int, action string) {
	s.templates.Invalidate(org, row.ID)
	if err := s.audit(r, org, action, "approval_template", row.ID, map[string]any{"version": row.Version, "name": row.Name}); err != nil {
		s.internalError(w, r, err)
		return
	}
	v, err := templateView(row)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/approval-templates/"+row.ID+"?version="+strconv.Itoa(int(row.Version)))
	writeJSON(w, status, v)
}

func (s *Server) updateTemplate(w http.ResponseWriter, r *http.Request) {
	setAction(r, "templates.update")
	t, ok := decodeTemplate(w, r)
	if !ok {
		return
	}
	id := chi.URLParam(r, "id")
	if t.ID != "" && t.ID != id {
		problem(w, r, http.StatusUnprocessableEntity, "the body's id differs from the path", FieldError{Field: "id", Reason: "must equal the id in the path or be omitted"})
		return
	}
	t.ID = id
	org := principalFrom(r).OrgID
	var row dbsqlc.ApprovalTemplate
	err := db.InTx(r.Context(), s.deps.DB, func(tx pgx.Tx, q *dbsqlc.Queries) error {
		latest, err := q.LatestTemplate(r.Context(), dbsqlc.LatestTemplateParams{OrgID: org, ID: id})
		if err != nil {
			return err
		}
		t.Version = int(latest.Version) + 1
		row, err = s.storeTemplateVersion(r, tx, q, org, t, approval.EventTemplateUpdated)
		return err
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		problem(w, r, http.StatusNotFound, "no such template")
		return
	case db.IsUniqueViolation(err):
		problem(w, r, http.StatusConflict, "another update created this version at the same time; retry")
		return
	case err != nil:
		s.internalError(w, r, err)
		return
	}
	s.finishTemplateWrite(w, r, org, row, http.StatusOK, "templates.update")
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request) {
	setAction(r, "templates.get")
	org, id := principalFrom(r).OrgID, chi.URLParam(r, "id")
	q := dbsqlc.New(s.deps.DB)
	var row dbsqlc.ApprovalTemplate
	var err error
	if vs := r.URL.Query().Get("version"); vs != "" {
		v, convErr := strconv.Atoi(vs)
		if convErr != nil || v < 1 {
			problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter", FieldError{Field: "version", Reason: "a positive integer"})
			return
		}
		row, err = q.GetTemplateVersion(r.Context(), dbsqlc.GetTemplateVersionParams{OrgID: org, ID: id, Version: int32(v)})
	} else {
		row, err = q.LatestTemplate(r.Context(), dbsqlc.LatestTemplateParams{OrgID: org, ID: id})
	}
	if s.lookupFailed(w, r, err, "no such template (or version)") {
		return
	}
	v, err := templateView(row)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request) {
	setAction(r, "templates.list")
	var after string
	limit, ok := pageParams(w, r, &after)
	if !ok {
		return
	}
	if k := flow.Kind(r.URL.Query().Get("kind")); k != "" && k != flow.KindLeave && k != flow.KindShiftSwap {
		problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter", FieldError{Field: "kind", Reason: fmt.Sprintf("one of %q, %q", flow.KindLeave, flow.KindShiftSwap)})
		return
	}
	rows, err := dbsqlc.New(s.deps.DB).ListTemplates(r.Context(), dbsqlc.ListTemplatesParams{
		OrgID: principalFrom(r).OrgID, AfterID: after, Kind: optional(r.URL.Query().Get("kind")), MaxRows: int32(limit + 1),
	})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	page := Page[TemplateView]{Items: []TemplateView{}}
	for i, row := range rows {
		if i == limit {
			page.NextCursor = encodeCursor(rows[i-1].ID)
			break
		}
		v, err := templateView(row)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		page.Items = append(page.Items, v)
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) listTemplateVersions(w http.ResponseWriter, r *http.Request) {
	setAction(r, "templates.versions")
	rows, err := dbsqlc.New(s.deps.DB).ListTemplateVersions(r.Context(), dbsqlc.ListTemplateVersionsParams{OrgID: principalFrom(r).OrgID, ID: chi.URLParam(r, "id")})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if len(rows) == 0 {
		problem(w, r, http.StatusNotFound, "no such template")
		return
	}
	type version struct {
		Version   int32      `json:"version"`
		Name      string     `json:"name"`
		CreatedBy string     `json:"created_by"`
		CreatedAt time.Time  `json:"created_at"`
		DeletedAt *time.Time `json:"deleted_at"`
	}
	out := make([]version, 0, len(rows))
	for _, row := range rows {
		out = append(out, version{Version: row.Version, Name: row.Name, CreatedBy: row.CreatedBy, CreatedAt: row.CreatedAt, DeletedAt: row.DeletedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (s *Server) deleteTemplate(w http.ResponseWriter, r *http.Request) {
	setAction(r, "templates.delete")
	org, id := principalFrom(r).OrgID, chi.URLParam(r, "id")
	var running int64
	err := db.InTx(r.Context(), s.deps.DB, func(tx pgx.Tx, q *dbsqlc.Queries) error {
		var err error
		if running, err = q.CountRunningInstancesOfTemplate(r.Context(), dbsqlc.CountRunningInstancesOfTemplateParams{OrgID: org, TemplateID: id}); err != nil {
			return err
		}
		if running > 0 {
			return errValidation
		}
		n, err := q.DeleteTemplate(r.Context(), dbsqlc.DeleteTemplateParams{OrgID: org, ID: id})
		if err != nil {
			return err
		}
		if n == 0 {
			return pgx.ErrNoRows
		}
		e, err := events.New(org, approval.Source, approval.EventTemplateDeleted, "approval-templates/"+id, map[string]any{"template_id": id})
		if err != nil {
			return err
		}
		return events.Store(r.Context(), q, e)
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		problem(w, r, http.StatusNotFound, "no such template")
		return
	case errors.Is(err, errValidation):
		problem(w, r, http.StatusConflict, fmt.Sprintf("%d approval(s) of this template are still running; finish or cancel them first", running))
		return
	case err != nil:
		s.internalError(w, r, err)
		return
	}
	s.templates.Invalidate(org, id)
	if err := s.audit(r, org, "templates.delete", "approval_template", id, map[string]any{}); err != nil {
		s.internalError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
