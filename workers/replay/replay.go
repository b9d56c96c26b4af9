// Package replay sends dead letters (failed_events) through their consumer
// again: a command or event is republished with a new message id and a
// Replay-Of header naming the original, so handler idempotency keeps effects
// that were already applied from repeating; a webhook delivery is queued
// again. Outcomes are recorded on the failed_events row.
package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/workers/webhook"
)

// Outcomes of a replay, as stored in failed_events.replay_outcome.
const (
	OutcomePending        = "pending"
	OutcomeApplied        = "applied"
	OutcomeAlreadyApplied = "already_applied"
	OutcomeFailedAgain    = "failed_again"
)

// Replayer replays dead letters.
type Replayer struct {
	DB        *pgxpool.Pool
	Publisher *events.Publisher
}

// webhookPrefix marks dead letters of webhook deliveries ("webhook:<endpoint>").
const webhookPrefix = "webhook:"

// One replays a single dead letter; by names who asked (for the record).
func (r *Replayer) One(ctx context.Context, fe dbsqlc.FailedEvent, by string) error {
	if fe.Status == "discarded" {
		return fmt.Errorf("dead letter %s was discarded", fe.ID)
	}
	q := dbsqlc.New(r.DB)
	newID := uuid.NewString()
	if endpoint, ok := strings.CutPrefix(fe.Consumer, webhookPrefix); ok {
		epID, err := uuid.Parse(endpoint)
		if err != nil {
			return fmt.Errorf("dead letter %s: consumer %q names no endpoint", fe.ID, fe.Consumer)
		}
		eventID, err := uuid.Parse(fe.MessageID)
		if err != nil {
			return fmt.Errorf("dead letter %s: message id %q is not an event id", fe.ID, fe.MessageID)
		}
		// Mark first: the sender records the outcome against the pending mark.
		if err := q.MarkFailedEventReplayed(ctx, dbsqlc.MarkFailedEventReplayedParams{ID: fe.ID, ReplayMessageID: "resend:" + newID, ReplayedBy: by}); err != nil {
			return err
		}
		n, err := q.ResendDelivery(ctx, dbsqlc.ResendDeliveryParams{EndpointID: epID, EventID: eventID, ReplayedFrom: uuid.NullUUID{UUID: fe.ID, Valid: true}})
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("dead letter %s: the delivery no longer exists (endpoint deleted?)", fe.ID)
		}
		return q.NotifyWebhookDue(ctx)
	}
	if fe.Consumer == webhook.ConsumerName {
		// The fan-out is handed only the events some enabled endpoint wants
		// (webhook.SyncFilter), so an event no endpoint matches now would never
		// reach it. Replaying it has nothing to deliver: record it applied, as
		// the fan-out would.
		org := fe.Subject[strings.LastIndexByte(fe.Subject, '.')+1:] // evt.<type>.<org>
		eps, err := webhook.EndpointsFor(ctx, q, org, events.TypeFromSubject(fe.Subject))
		if err != nil {
			return err
		}
		if len(eps) == 0 {
			if err := q.MarkFailedEventReplayed(ctx, dbsqlc.MarkFailedEventReplayedParams{ID: fe.ID, ReplayMessageID: "none:" + newID, ReplayedBy: by}); err != nil {
				return err
			}
			return q.RecordReplayOutcome(ctx, dbsqlc.RecordReplayOutcomeParams{Consumer: fe.Consumer, MessageID: fe.MessageID, Outcome: OutcomeApplied})
		}
	}
	var header map[string][]string
	if err := json.Unmarshal(fe.Headers, &header); err != nil {
		return fmt.Errorf("dead letter %s: stored headers: %w", fe.ID, err)
	}
	if err := q.MarkFailedEventReplayed(ctx, dbsqlc.MarkFailedEventReplayedParams{ID: fe.ID, ReplayMessageID: newID, ReplayedBy: by}); err != nil {
		return err
	}
	// The original id travels in Replay-Of; the worker keys idempotency on it.
	if _, err := r.Publisher.Republish(ctx, fe.Subject, header, fe.Payload, newID, fe.MessageID); err != nil {
		return fmt.Errorf("dead letter %s: republish: %w", fe.ID, err)
	}
	return nil
}

// Filter selects dead letters for a bulk replay.
type Filter struct {
	OrgID     string     `json:"org_id,omitempty"`
	Consumer  string     `json:"consumer,omitempty"`
	Type      string     `json:"type,omitempty"`
	ErrorText string     `json:"error_text,omitempty"`
	Since     *time.Time `json:"since,omitempty"`
	Until     *time.Time `json:"until,omitempty"`
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Select lists the open dead letters matching f (oldest last), at most limit.
func (r *Replayer) Select(ctx context.Context, f Filter, limit int) ([]dbsqlc.ListFailedEventsRow, error) {
	open := "open"
	var out []dbsqlc.ListFailedEventsRow
	beforeAt, beforeID := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), uuid.Max
	for len(out) < limit {
		page, err := dbsqlc.New(r.DB).ListFailedEvents(ctx, dbsqlc.ListFailedEventsParams{
			OrgID: opt(f.OrgID), Consumer: opt(f.Consumer), Type: opt(f.Type), ErrorText: opt(f.ErrorText), Status: &open,
			Since: f.Since, Until: f.Until, BeforeAt: beforeAt, BeforeID: beforeID, MaxRows: int32(min(500, limit-len(out))),
		})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < 500 {
			break
		}
		last := page[len(page)-1]
		beforeAt, beforeID = last.CreatedAt, last.ID
	}
	return out, nil
}

// Counts summarises the outcomes of a set of replays.
type Counts struct {
	Replayed       int `json:"replayed"`
	AlreadyApplied int `json:"already_applied"`
	FailedAgain    int `json:"failed_again"`
	Pending        int `json:"pending"`
}

// Outcomes reads the current outcome of each replayed dead letter.
func (r *Replayer) Outcomes(ctx context.Context, ids []uuid.UUID) (Counts, error) {
	var c Counts
	rows, err := dbsqlc.New(r.DB).GetFailedEventsByID(ctx, ids)
	if err != nil {
		return c, err
	}
	for _, fe := range rows {
		if fe.ReplayOutcome == nil {
			continue
		}
		c.Replayed++
		switch *fe.ReplayOutcome {
		case OutcomeAlreadyApplied:
			c.AlreadyApplied++
		case OutcomeFailedAgain:
			c.FailedAgain++
		case OutcomePending:
			c.Pending++
		}
	}
	return c, nil
}
