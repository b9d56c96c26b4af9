// Package approval adapts the flow engine to shiftflow's pipeline: the
// worker that applies approval commands in Postgres, the durable timer
// scheduler, and the store (templates, people directory) the API shares.
package approval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/flow"
)

// Command types published on COMMANDS (subjects cmd.<type>.<org>).
const (
	TypeSubmit = "approval.instance.submit"
	TypeAct    = "approval.instance.act"
	TypeTimer  = "approval.instance.timer"

	// EventCommandRejected reports a command the engine refused when it was
	// applied (e.g. the loser of an or-sign race).
	EventCommandRejected = "approval.command.rejected"
	// Template lifecycle events, also used to invalidate template caches.
	EventTemplateCreated = "approval.template.created"
	EventTemplateUpdated = "approval.template.updated"
	EventTemplateDeleted = "approval.template.deleted"

	Source = "shiftflow/approval"
)

// EventTypes lists every event type the approval side emits.
var EventTypes = []string{
	flow.EventInstanceSubmitted, flow.EventInstanceApproved, flow.EventInstanceRejected,
	flow.EventInstanceWithdrawn, flow.EventInstanceCancelled, flow.EventInstanceReturned, flow.EventInstanceResubmitted,
	flow.EventTaskCreated, flow.EventTaskApproved, flow.EventTaskRejected, flow.EventTaskTransferred,
	flow.EventTaskDelegated, flow.EventTaskTimedOut, flow.EventTaskReminded, flow.EventTaskUrged,
	flow.EventTaskCancelled, flow.EventTaskWithdrawn, flow.EventCCSent, flow.EventCommentAdded, flow.EventLeaveApproved, flow.EventShiftSwapApproved, EventCommandRejected, EventTemplateCreated, EventTemplateUpdated, EventTemplateDeleted,
}

// CommandData is the data of an approval command envelope.
type CommandData struct {
	flow.Command
	// TemplateID and TemplateVersion pin the template a submit starts on.
	TemplateID      string `json:"template_id,omitempty"`
	TemplateVersion int    `json:"template_version,omitempty"`
	// Audit describes the API request that asked for the command; the worker
	// writes the audit row in the transaction of the effect.
	Audit *AuditInfo `json:"audit,omitempty"`
}

// AuditInfo is who asked, and from where.
type AuditInfo struct {
	Actor     string `json:"actor"` // the API key (or admin token)
	RequestID string `json:"request_id"`
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
}

// EventData is the data of a published approval event: the engine's event
// plus the org and the command that caused it.
type EventData struct {
	flow.Event
	Org       string `json:"org"`
	CommandID string `json:"command_id,omitempty"`
}

// RejectedData is the data of approval.command.rejected.
type RejectedData struct {
	CommandID  string            `json:"command_id"`
	InstanceID string            `json:"instance_id"`
	Action     flow.Action       `json:"action"`
	Actor      string            `json:"actor"`
	Status     int               `json:"status"` // the HTTP status the refusal maps to
	Reason     string            `json:"reason"`
	Fields     []flow.FieldError `json:"fields,omitempty"`
	// RetryAfterS is when a rate-limited action (urge) may be tried again.
	RetryAfterS int `json:"retry_after_s,omitempty"`
}

// StatusOf maps an engine refusal to its HTTP status; 0 means "not a refusal".
func StatusOf(err error) int {
	switch {
	case errors.Is(err, flow.ErrInvalid):
		return 422
	case errors.Is(err, flow.ErrForbidden):
		return 403
	case errors.Is(err, flow.ErrConflict):
		return 409
	case errors.Is(err, flow.ErrNotFound):
		return 404
	case errors.Is(err, flow.ErrRateLimited):
		return 429
	}
	return 0
}

// Templates caches template versions. A version never changes once stored,
// so it is cached without expiry (bounded in size); "latest version" lookups
// expire after TTL and are invalidated by template events.
type Templates struct {
	TTL      time.Duration
	mu       sync.Mutex
	versions map[templateKey]*flow.Template
	latest   map[latestKey]latestEntry
}

type templateKey struct {
	org, id string
	version int
}

type latestKey struct{ org, id string }

type latestEntry struct {
	t       *flow.Template
	row     dbsqlc.ApprovalTemplate
	expires time.Time
}

// NewTemplates returns an empty cache.
func NewTemplates(ttl time.Duration) *Templates {
	if ttl <= 0 {
		ttl = time.Hour
	}
	return &Templates{TTL: ttl, versions: map[templateKey]*flow.Template{}, latest: map[latestKey]latestEntry{}}
}

// ErrTemplateNotFound means no such template (or version) in the org.
var ErrTemplateNotFound = errors.New("template not found")

// Decode parses a stored definition.
func Decode(row dbsqlc.ApprovalTemplate) (*flow.Template, error) {
	var t flow.Template
	if err := json.Unmarshal(row.Definition, &t); err != nil {
		return nil, fmt.Errorf("template %s v%d: stored definition: %w", row.ID, row.Version, err)
	}
	t.ID, t.Version, t.Name, t.Kind = row.ID, int(row.Version), row.Name, flow.Kind(row.Kind)
	return &t, nil
}

// Version returns one version of a template.
func (c *Templates) Version(ctx context.Context, q *dbsqlc.Queries, org, id string, version int) (*flow.Template, error) {
	k := templateKey{org, id, version}
	c.mu.Lock()
	t, ok := c.versions[k]
	c.mu.Unlock()
	if ok {
		return t, nil
	}
	row, err := q.GetTemplateVersion(ctx, dbsqlc.GetTemplateVersionParams{OrgID: org, ID: id, Version: int32(version)})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrTemplateNotFound
	}
	if err != nil {
		return nil, err
	}
	if t, err = Decode(row); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.versions) > 5000 {
		clear(c.versions)
	}
	c.versions[k] = t
	c.mu.Unlock()
	return t, nil
}

// Latest returns the current version of a template that is not deleted.
func (c *Templates) Latest(ctx context.Context, q *dbsqlc.Queries, org, id string) (*flow.Template, dbsqlc.ApprovalTemplate, error) {
	k := latestKey{org, id}
	c.mu.Lock()
	e, ok := c.latest[k]
	c.mu.Unlock()
	if ok && time.Now().Before(e.expires) {
		return e.t, e.row, nil
	}
	row, err := q.LatestTemplate(ctx, dbsqlc.LatestTemplateParams{OrgID: org, ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, row, ErrTemplateNotFound
	}
	if err != nil {
		return nil, row, err
	}
	t, err := Decode(row)
	if err != nil {
		return nil, row, err
	}
	c.mu.Lock()
	if len(c.latest) > 5000 {
		clear(c.latest)
	}
	c.latest[k] = latestEntry{t: t, row: row, expires: time.Now().Add(c.TTL)}
	c.mu.Unlock()
	return t, row, nil
}

// Invalidate forgets the latest version of a template (after an update or
// delete, here or in another process).
func (c *Templates) Invalidate(org, id string) {
	c.mu.Lock()
	delete(c.latest, latestKey{org, id})
	c.mu.Unlock()
}

// Directory answers the engine's people questions from the people table.
type Directory struct {
	Ctx context.Context
	Q   *dbsqlc.Queries
	Org string
}

var _ flow.Directory = (*Directory)(nil)

// Exists implements flow.Directory.
func (d *Directory) Exists(person string) (bool, error) {
	return d.Q.PersonExists(d.Ctx, dbsqlc.PersonExistsParams{OrgID: d.Org, ID: person})
}

// Manager implements flow.Directory.
func (d *Directory) Manager(person string) (string, error) {
	m, err := d.Q.PersonManager(d.Ctx, dbsqlc.PersonManagerParams{OrgID: d.Org, ID: person})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return m, err
}

// DepartmentHead implements flow.Directory.
func (d *Directory) DepartmentHead(person string) (string, error) {
	h, err := d.Q.DepartmentHeadOf(d.Ctx, dbsqlc.DepartmentHeadOfParams{OrgID: d.Org, ID: person})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return h, err
}

// RoleMembers implements flow.Directory.
func (d *Directory) RoleMembers(role string) ([]string, error) {
	return d.Q.RoleMembers(d.Ctx, dbsqlc.RoleMembersParams{OrgID: d.Org, Role: role})
}

// Admin implements flow.Directory: the org setting approval_admin.
func (d *Directory) Admin() (string, error) {
	s, err := OrgSettingsOf(d.Ctx, d.Q, d.Org)
	return s.ApprovalAdmin, err
}

// IsAdmin reports whether person may act as an org admin on approvals: the
// org's approval_admin, or anyone holding the role approval_admin.
func (d *Directory) IsAdmin(person string) (bool, error) {
	admin, err := d.Admin()
	if err != nil || admin == person {
		return admin == person && person != "", err
	}
	p, err := d.Q.GetPerson(d.Ctx, dbsqlc.GetPersonParams{OrgID: d.Org, ID: person})
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, r := range p.Roles {
		if r == AdminRole {
			return true, nil
		}
	}
	return false, nil
}

// AdminRole is the directory role that grants org-admin rights on approvals.
const AdminRole = "approval_admin"

// OrgSettings are per-org settings stored in orgs.settings.
type OrgSettings struct {
	ApprovalAdmin string `json:"approval_admin,omitempty"`
	// AutoPublishReplans publishes the roster a re-plan produces at once.
	AutoPublishReplans bool `json:"auto_publish_replans"`
}

// OrgSettingsOf reads an org's settings.
func OrgSettingsOf(ctx context.Context, q *dbsqlc.Queries, org string) (OrgSettings, error) {
	var s OrgSettings
	raw, err := q.GetOrgSettings(ctx, org)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &s); err != nil {
			return s, fmt.Errorf("org %s settings: %w", org, err)
		}
	}
	return s, nil
}
