package api

import (
	"encoding/json"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/workers/approval"
)

func init() {
	mounts = append(mounts, func(s *Server, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(requireScope(ScopeAdmin))
			r.Get("/settings", s.getSettings)
			r.Put("/settings", s.putSettings)
		})
	})
}

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) {
	setAction(r, "settings.get")
	p := principalFrom(r)
	if p.AdminToken {
		problem(w, r, http.StatusForbidden, "settings belong to an org; use an admin-scoped key of that org")
		return
	}
	st, err := approval.OrgSettingsOf(r.Context(), dbsqlc.New(s.deps.DB), p.OrgID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) putSettings(w http.ResponseWriter, r *http.Request) {
	setAction(r, "settings.put")
	p := principalFrom(r)
	if p.AdminToken {
		problem(w, r, http.StatusForbidden, "settings belong to an org; use an admin-scoped key of that org")
		return
	}
	var in approval.OrgSettings
	if !decodeJSON(w, r, &in) {
		return
	}
	q := dbsqlc.New(s.deps.DB)
	if in.ApprovalAdmin != "" {
		ok, err := q.PersonExists(r.Context(), dbsqlc.PersonExistsParams{OrgID: p.OrgID, ID: in.ApprovalAdmin})
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		if !ok {
			problem(w, r, http.StatusUnprocessableEntity, "unknown person", FieldError{Field: "approval_admin", Reason: "no such person in the directory"})
			return
		}
	}
	raw, _ := json.Marshal(in)
	if _, err := q.UpdateOrgSettings(r.Context(), dbsqlc.UpdateOrgSettingsParams{ID: p.OrgID, Settings: raw}); err != nil {
		s.internalError(w, r, err)
		return
	}
	if err := s.audit(r, p.OrgID, "settings.put", "org", p.OrgID, in); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, in)
}
