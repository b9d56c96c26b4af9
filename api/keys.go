package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/jackc/pgx/v5/pgxpool"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/db/dbsqlc"
)

var orgIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

type createKeyRequest struct {
	Name    string   `json:"name"`
	Org     string   `json:"org"`
	OrgName string   `json:"org_name,omitempty"`
	Scopes  []string `json:"scopes"`
}

// KeyView is an API key as listed (never the secret or its hash).
type KeyView struct {
	ID         uuid.UUID  `json:"id"`
	Name       string     `json:"name"`
	Org        string     `json:"org"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

func keyView(k dbsqlc.ApiKey) KeyView {
	return KeyView{ID: k.ID, Name: k.Name, Org: k.OrgID, Prefix: k.Prefix, Scopes: k.Scopes, CreatedBy: k.CreatedBy,
		CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
}

// ValidateKeyRequest checks a key creation request; the CLI uses it too.
func ValidateKeyRequest(name, org string, scopes []string) []FieldError {
	var errs []FieldError
	if strings.TrimSpace(name) == "" || len(name) > 100 {
		errs = append(errs, FieldError{Field: "name", Reason: "required, at most 100 characters"})
	}
	if !orgIDPattern.MatchString(org) {
		errs = append(errs, FieldError{Field: "org", Reason: "required: lowercase letters, digits, - and _, starting with a letter or digit, at most 63 characters"})
	}
	if len(scopes) == 0 {
		errs = append(errs, FieldError{Field: "scopes", Reason: "at least one of " + strings.Join(AllScopes, ", ")})
	}
	seen := map[string]bool{}
	for i, sc := range scopes {
		switch {
		case !slices.Contains(AllScopes, sc):
			errs = append(errs, FieldError{Field: fmt.Sprintf("scopes[%d]", i), Reason: fmt.Sprintf("unknown scope %q; valid: %s", sc, strings.Join(AllScopes, ", "))})
		case seen[sc]:
			errs = append(errs, FieldError{Field: fmt.Sprintf("scopes[%d]", i), Reason: fmt.Sprintf("duplicate scope %q", sc)})
		}
		seen[sc] = true
	}
	return errs
}

// CreatedKey is the one response that shows the secret.
type CreatedKey struct {
	KeyView
	Key string `json:"key"`
}

// CreateKey stores a new key for org (created if new) and returns the secret once.
func CreateKey(ctx context.Context, pool *pgxpool.Pool, name, org, orgName string, scopes []string, createdBy string) (CreatedKey, error) {
	gen := GenerateKey()
	sort.Strings(scopes)
	var created dbsqlc.ApiKey
	err := db.InTx(ctx, pool, func(tx pgx.Tx, q *dbsqlc.Queries) error {
		if orgName == "" {
			orgName = org
		}
		if _, err := q.UpsertOrg(ctx, dbsqlc.UpsertOrgParams{ID: org, Name: orgName}); err != nil {
			return err
		}
		var err error
		created, err = q.CreateAPIKey(ctx, dbsqlc.CreateAPIKeyParams{
			ID: uuid.New(), OrgID: org, Name: name, Prefix: gen.Prefix, KeyHash: gen.Hash, Scopes: scopes, CreatedBy: createdBy,
		})
		return err
	})
	if err != nil {
		return CreatedKey{}, err
	}
	return CreatedKey{KeyView: keyView(created), Key: gen.Secret}, nil
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) {
	setAction(r, "keys.create")
	var req createKeyRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	if errs := ValidateKeyRequest(req.Name, req.Org, req.Scopes); len(errs) > 0 {
		problem(w, r, http.StatusUnprocessableEntity, "the key request is invalid", errs...)
		return
	}
	p := principalFrom(r)
	if !p.AdminToken && req.Org != p.OrgID {
		problem(w, r, http.StatusForbidden, "an admin-scoped key manages keys of its own org only; use ADMIN_TOKEN for other orgs",
			FieldError{Field: "org", Reason: "must be " + p.OrgID})
		return
	}
	created, err := CreateKey(r.Context(), s.deps.DB, req.Name, req.Org, req.OrgName, req.Scopes, p.Actor())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if err := s.audit(r, req.Org, "keys.create", "api_key", created.ID.String(), map[string]any{"name": req.Name, "scopes": created.Scopes, "prefix": created.Prefix}); err != nil {
		s.internalError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/admin/keys/"+created.ID.String())
	writeJSON(w, http.StatusCreated, created)
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) {
	setAction(r, "keys.list")
	p := principalFrom(r)
	var org *string
	if o := r.URL.Query().Get("org"); o != "" {
		if !orgIDPattern.MatchString(o) {
			problem(w, r, http.StatusUnprocessableEntity, "invalid filter", FieldError{Field: "org", Reason: "not a valid org id"})
			return
		}
		org = &o
	}
	if !p.AdminToken {
		org = &p.OrgID // an org's admin key sees its own org only
	}
	keys, err := dbsqlc.New(s.deps.DB).ListAPIKeys(r.Context(), org)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := make([]KeyView, 0, len(keys))
	for _, k := range keys {
		out = append(out, keyView(k))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) {
	setAction(r, "keys.revoke")
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		problem(w, r, http.StatusNotFound, "no such key")
		return
	}
	p := principalFrom(r)
	q := dbsqlc.New(s.deps.DB)
	key, err := q.GetAPIKey(r.Context(), id)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !p.AdminToken && key.OrgID != p.OrgID) {
		problem(w, r, http.StatusNotFound, "no such key")
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if key.RevokedAt == nil {
		if _, err := q.RevokeAPIKey(r.Context(), id); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			s.internalError(w, r, err)
			return
		}
		if err := s.audit(r, key.OrgID, "keys.revoke", "api_key", id.String(), map[string]any{"name": key.Name, "prefix": key.Prefix}); err != nil {
			s.internalError(w, r, err)
			return
		}
	}
	s.keys.evict(id)
	w.WriteHeader(http.StatusNoContent)
}

// audit writes an audit_logs row for a mutating call.
func (s *Server) audit(r *http.Request, orgID, action, resourceType, resourceID string, details any) error {
	info := requestInfoFrom(r.Context())
	d, err := json.Marshal(details)
	if err != nil {
		return err
	}
	var org *string
	if orgID != "" {
		org = &orgID
	}
	return dbsqlc.New(s.deps.DB).InsertAuditLog(r.Context(), dbsqlc.InsertAuditLogParams{
		OrgID: org, Actor: info.Actor, Action: action, ResourceType: resourceType, ResourceID: resourceID,
		RequestID: info.RequestID, Ip: clientIP(r), UserAgent: truncateString(r.UserAgent(), 512), Details: d,
	})
}

func truncateString(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func joinSorted(xs []string) string {
	sort.Strings(xs)
	return strings.Join(xs, ", ")
}
