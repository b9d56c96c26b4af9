package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/internal/netguard"
	"github.com/shiftflow/shiftflow/webhook"
	webhooks "github.com/shiftflow/shiftflow/workers/webhook"
)

func init() {
	mounts = append(mounts, func(s *Server, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(requireScope(ScopeWebhooks))
			r.With(s.idempotent).Post("/webhooks", s.createWebhook)
			r.Get("/webhooks", s.listWebhooks)
			r.Get("/webhooks/{id}", s.getWebhook)
			r.Patch("/webhooks/{id}", s.patchWebhook)
			r.Delete("/webhooks/{id}", s.deleteWebhook)
			r.Post("/webhooks/{id}/rotate-secret", s.rotateWebhookSecret)
			r.Get("/webhooks/{id}/deliveries", s.listDeliveries)
			r.Post("/webhooks/{id}/deliveries/{event}/resend", s.resendDelivery)
			r.Post("/webhooks/{id}/recover", s.recoverDeliveries)
		})
	})
}

// SecretOverlap is how long a rotated-out secret keeps signing deliveries.
const SecretOverlap = 24 * time.Hour

// WebhookView is an endpoint as read (never the secret).
type WebhookView struct {
	ID             uuid.UUID  `json:"id"`
	URL            string     `json:"url"`
	EventTypes     []string   `json:"event_types"`
	Description    string     `json:"description"`
	Enabled        bool       `json:"enabled"`
	DisabledReason *string    `json:"disabled_reason"`
	DisabledAt     *time.Time `json:"disabled_at"`
	FailingSince   *time.Time `json:"failing_since"`
	SecretRotating bool       `json:"secret_rotating"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

func webhookView(e dbsqlc.WebhookEndpoint) WebhookView {
	return WebhookView{ID: e.ID, URL: e.Url, EventTypes: e.EventTypes, Description: e.Description, Enabled: e.Enabled,
		DisabledReason: e.DisabledReason, DisabledAt: e.DisabledAt, FailingSince: e.FailingSince,
		SecretRotating: e.PreviousExpiresAt != nil && time.Now().Before(*e.PreviousExpiresAt), CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

// WebhookWithSecret is the one answer that shows a secret.
type WebhookWithSecret struct {
	WebhookView
	Secret string `json:"secret"`
}

type webhookInput struct {
	URL         *string  `json:"url"`
	EventTypes  []string `json:"event_types"`
	Description *string  `json:"description"`
	Enabled     *bool    `json:"enabled"`
}

// checkWebhook validates url and patterns; the URL goes through the SSRF
// guard (DNS resolved here, and again at every delivery).
func (s *Server) checkWebhook(ctx context.Context, url string, types []string) []FieldError {
	var errs []FieldError
	if err := s.webhookPolicy.CheckURL(ctx, url); err != nil {
		reason := err.Error()
		var blocked *netguard.BlockedError
		if errors.As(err, &blocked) {
			reason = "refused: " + blocked.Error() + " (WEBHOOK_ALLOW_CIDRS opens specific ranges)"
		}
		errs = append(errs, FieldError{Field: "url", Reason: reason})
	}
	if len(types) == 0 || len(types) > 50 {
		errs = append(errs, FieldError{Field: "event_types", Reason: "1 to 50 patterns such as approval.instance.* or *"})
	}
	for i, p := range types {
		if err := webhooks.ValidatePattern(p); err != nil {
			errs = append(errs, FieldError{Field: fmt.Sprintf("event_types[%d]", i), Reason: err.Error()})
		}
	}
	return errs
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	setAction(r, "webhooks.create")
	var in webhookInput
	if !decodeJSON(w, r, &in) {
		return
	}
	url := ""
	if in.URL != nil {
		url = *in.URL
	}
	if errs := s.checkWebhook(r.Context(), url, in.EventTypes); len(errs) > 0 {
		problem(w, r, http.StatusUnprocessableEntity, "the webhook is invalid", errs...)
		return
	}
	desc, enabled := "", true
	if in.Description != nil {
		desc = *in.Description
	}
	if in.Enabled != nil {
		enabled = *in.Enabled
	}
	org := principalFrom(r).OrgID
	secret := webhook.NewSecret()
	ep, err := s.writeWebhook(r.Context(), nil, func(q *dbsqlc.Queries) (dbsqlc.WebhookEndpoint, error) {
		return q.CreateWebhookEndpoint(r.Context(), dbsqlc.CreateWebhookEndpointParams{
			ID: uuid.New(), OrgID: org, Url: url, EventTypes: in.EventTypes, Description: desc, Enabled: enabled, Secret: secret,
		})
	})
	if err != nil {
		s.webhookWriteError(w, r, err)
		return
	}
	if err := s.audit(r, org, "webhooks.create", "webhook", ep.ID.String(), map[string]any{"url": url, "event_types": in.EventTypes}); err != nil {
		s.internalError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/webhooks/"+ep.ID.String())
	writeJSON(w, http.StatusCreated, WebhookWithSecret{WebhookView: webhookView(ep), Secret: secret})
}

// errWebhookFilter: the endpoint could not be written because the webhook
// consumer's filter could not be widened for it (see webhooks.SyncFilter).
var errWebhookFilter = errors.New("the event stream is unavailable")

// writeWebhook creates or changes an endpoint (before is its state before a
// change) in a transaction that also widens the webhook consumer's filter
// to it, so the fan-out sees every event created after the commit. A change
// that may narrow the filter narrows it after the commit.
func (s *Server) writeWebhook(ctx context.Context, before *dbsqlc.WebhookEndpoint, write func(q *dbsqlc.Queries) (dbsqlc.WebhookEndpoint, error)) (dbsqlc.WebhookEndpoint, error) {
	tx, err := s.deps.DB.Begin(ctx)
	if err != nil {
		return dbsqlc.WebhookEndpoint{}, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	ep, err := write(dbsqlc.New(tx))
	if err != nil {
		return ep, err
	}
	if s.deps.JS != nil {
		var also []dbsqlc.EnabledEndpointPatternsRow
		if before != nil && before.Enabled {
			also = append(also, dbsqlc.EnabledEndpointPatternsRow{OrgID: before.OrgID, EventTypes: before.EventTypes})
		}
		if err := webhooks.SyncFilter(ctx, tx, s.deps.JS, also...); err != nil {
			return ep, fmt.Errorf("%w: %w", errWebhookFilter, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return ep, err
	}
	if before != nil && before.Enabled {
		s.syncWebhookFilter(ctx)
	}
	return ep, nil
}

// syncWebhookFilter narrows the webhook consumer's filter after a commit;
// on failure it stays wider than needed, which costs only work.
func (s *Server) syncWebhookFilter(ctx context.Context) {
	if s.deps.JS == nil {
		return
	}
	if err := webhooks.SyncFilterNow(ctx, s.deps.DB, s.deps.JS); err != nil {
		s.deps.Log.Warn("webhook consumer filter not narrowed; it stays wider than needed", "error", err)
	}
}

func (s *Server) webhookWriteError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errWebhookFilter) {
		w.Header().Set("Retry-After", "2")
		problem(w, r, http.StatusServiceUnavailable, "the webhook was not saved: "+err.Error()+"; retry")
		return
	}
	s.internalError(w, r, err)
}

func (s *Server) loadWebhook(w http.ResponseWriter, r *http.Request) (dbsqlc.WebhookEndpoint, bool) {
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		problem(w, r, http.StatusNotFound, "no such webhook")
		return dbsqlc.WebhookEndpoint{}, false
	}
	ep, err := dbsqlc.New(s.deps.DB).GetWebhookEndpoint(r.Context(), dbsqlc.GetWebhookEndpointParams{OrgID: principalFrom(r).OrgID, ID: id})
	if s.lookupFailed(w, r, err, "no such webhook") {
		return ep, false
	}
	return ep, true
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) {
	setAction(r, "webhooks.get")
	if ep, ok := s.loadWebhook(w, r); ok {
		writeJSON(w, http.StatusOK, webhookView(ep))
	}
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	setAction(r, "webhooks.list")
	var cur timeIDCursor
	limit, ok := pageParams(w, r, &cur)
	if !ok {
		return
	}
	rows, err := dbsqlc.New(s.deps.DB).ListWebhookEndpoints(r.Context(), dbsqlc.ListWebhookEndpointsParams{
		OrgID: principalFrom(r).OrgID, AfterAt: cur.At, AfterID: cur.ID, MaxRows: int32(limit + 1)})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	page := pageOf(rows, limit, webhookView, func(r dbsqlc.WebhookEndpoint) any { return timeIDCursor{At: r.CreatedAt, ID: r.ID} })
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) patchWebhook(w http.ResponseWriter, r *http.Request) {
	setAction(r, "webhooks.update")
	ep, ok := s.loadWebhook(w, r)
	if !ok {
		return
	}
	before := ep
	var in webhookInput
	if !decodeJSON(w, r, &in) {
		return
	}
	if in.URL != nil {
		ep.Url = *in.URL
	}
	if in.EventTypes != nil {
		ep.EventTypes = in.EventTypes
	}
	if in.Description != nil {
		ep.Description = *in.Description
	}
	if in.Enabled != nil {
		ep.Enabled = *in.Enabled
	}
	if errs := s.checkWebhook(r.Context(), ep.Url, ep.EventTypes); len(errs) > 0 {
		problem(w, r, http.StatusUnprocessableEntity, "the webhook is invalid", errs...)
		return
	}
	updated, err := s.writeWebhook(r.Context(), &before, func(q *dbsqlc.Queries) (dbsqlc.WebhookEndpoint, error) {
		return q.UpdateWebhookEndpoint(r.Context(), dbsqlc.UpdateWebhookEndpointParams{
			OrgID: ep.OrgID, ID: ep.ID, Url: ep.Url, EventTypes: ep.EventTypes, Description: ep.Description, Enabled: ep.Enabled})
	})
	if err != nil {
		s.webhookWriteError(w, r, err)
		return
	}
	if err := s.audit(r, ep.OrgID, "webhooks.update", "webhook", ep.ID.String(), in); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, webhookView(updated))
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	setAction(r, "webhooks.delete")
	ep, ok := s.loadWebhook(w, r)
	if !ok {
		return
	}
	if _, err := dbsqlc.New(s.deps.DB).DeleteWebhookEndpoint(r.Context(), dbsqlc.DeleteWebhookEndpointParams{OrgID: ep.OrgID, ID: ep.ID}); err != nil {
		s.internalError(w, r, err)
		return
	}
	s.syncWebhookFilter(r.Context()) // narrower now
	if err := s.audit(r, ep.OrgID, "webhooks.delete", "webhook", ep.ID.String(), map[string]any{"url": ep.Url}); err != nil {
		s.internalError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	setAction(r, "webhooks.rotate_secret")
	ep, ok := s.loadWebhook(w, r)
	if !ok {
		return
	}
	secret := webhook.NewSecret()
	updated, err := dbsqlc.New(s.deps.DB).RotateWebhookSecret(r.Context(), dbsqlc.RotateWebhookSecretParams{
		OrgID: ep.OrgID, ID: ep.ID, Secret: secret, PreviousExpiresAt: ptr(time.Now().Add(SecretOverlap))})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if err := s.audit(r, ep.OrgID, "webhooks.rotate_secret", "webhook", ep.ID.String(), map[string]any{"previous_valid_until": updated.PreviousExpiresAt}); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, WebhookWithSecret{WebhookView: webhookView(updated), Secret: secret})
}

func ptr[T any](v T) *T { return &v }

type attemptCursor struct {
	At      time.Time `json:"at"`
	Event   uuid.UUID `json:"e"`
	Attempt int32     `json:"n"`
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	setAction(r, "webhooks.deliveries")
	ep, ok := s.loadWebhook(w, r)
	if !ok {
		return
	}
	cur := attemptCursor{At: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), Event: uuid.Max, Attempt: 1 << 30}
	limit, ok := pageParams(w, r, &cur)
	if !ok {
		return
	}
	var eventID *uuid.UUID
	if e := r.URL.Query().Get("event_id"); e != "" {
		id, err := uuid.Parse(e)
		if err != nil {
			problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter", FieldError{Field: "event_id", Reason: "a UUID"})
			return
		}
		eventID = &id
	}
	var nullEvent uuid.NullUUID
	if eventID != nil {
		nullEvent = uuid.NullUUID{UUID: *eventID, Valid: true}
	}
	rows, err := dbsqlc.New(s.deps.DB).ListDeliveryAttempts(r.Context(), dbsqlc.ListDeliveryAttemptsParams{
		EndpointID: ep.ID, EventID: nullEvent, Status: optional(r.URL.Query().Get("status")),
		BeforeAt: cur.At, BeforeEvent: cur.Event, BeforeAttempt: cur.Attempt, MaxRows: int32(limit + 1)})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	page := pageOf(rows, limit, same[dbsqlc.ListDeliveryAttemptsRow], func(r dbsqlc.ListDeliveryAttemptsRow) any {
		return attemptCursor{At: r.AttemptedAt, Event: r.EventID, Attempt: r.Attempt}
	})
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) resendDelivery(w http.ResponseWriter, r *http.Request) {
	setAction(r, "webhooks.resend")
	ep, ok := s.loadWebhook(w, r)
	if !ok {
		return
	}
	eventID, err := uuid.Parse(chi.URLParam(r, "event"))
	if err != nil {
		problem(w, r, http.StatusNotFound, "no delivery of that event to this webhook")
		return
	}
	q := dbsqlc.New(s.deps.DB)
	n, err := q.ResendDelivery(r.Context(), dbsqlc.ResendDeliveryParams{EndpointID: ep.ID, EventID: eventID})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if n == 0 {
		problem(w, r, http.StatusNotFound, "no delivery of that event to this webhook")
		return
	}
	_ = q.NotifyWebhookDue(r.Context())
	if err := s.audit(r, ep.OrgID, "webhooks.resend", "webhook", ep.ID.String(), map[string]any{"event_id": eventID}); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"endpoint_id": ep.ID, "event_id": eventID, "status": "pending"})
}

func (s *Server) recoverDeliveries(w http.ResponseWriter, r *http.Request) {
	setAction(r, "webhooks.recover")
	ep, ok := s.loadWebhook(w, r)
	if !ok {
		return
	}
	since, ok := timeParam(w, r, "since")
	if !ok {
		return
	}
	if since == nil {
		problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter", FieldError{Field: "since", Reason: "required: resend failed deliveries created since this RFC 3339 time"})
		return
	}
	q := dbsqlc.New(s.deps.DB)
	n, err := q.RecoverFailedDeliveries(r.Context(), dbsqlc.RecoverFailedDeliveriesParams{EndpointID: ep.ID, CreatedAt: *since})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	_ = q.NotifyWebhookDue(r.Context())
	if err := s.audit(r, ep.OrgID, "webhooks.recover", "webhook", ep.ID.String(), map[string]any{"since": since, "requeued": n}); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"endpoint_id": ep.ID, "requeued": n, "status": "pending"})
}
