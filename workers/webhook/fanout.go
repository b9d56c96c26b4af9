package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/workers"
)

// ConsumerName names the durable consumer of the fan-out.
const ConsumerName = "webhook"

// Consumer is the durable consumer that fans events out to endpoints. It
// is created taking every event; SyncFilter then narrows it.
func Consumer(maxDeliver int, ackWait time.Duration) events.ConsumerSpec {
	return events.ConsumerSpec{
		Name: ConsumerName, Stream: events.EventsStream, Filter: "evt.>",
		MaxDeliver: maxDeliver, AckWait: ackWait, MaxAckPending: 8192,
		Description: "records one webhook delivery per event and matching endpoint",
	}
}

// EventEndpointDisabled is emitted when an endpoint is disabled for failing.
const EventEndpointDisabled = "webhook.endpoint.disabled"

// FanOut records deliveries for an event: one per enabled endpoint of the
// org whose patterns match. The sender does the HTTP work. The lookup runs
// before any transaction: most events match no endpoint and cost one read.
func FanOut(pool *pgxpool.Pool) workers.Handler {
	return workers.HandlerFunc(func(ctx context.Context, m *workers.Message) (workers.Commit, error) {
		// The relay puts org, type and id in the headers: no need to decode
		// the body of every event.
		org, typ := m.Header.Get(events.HeaderOrg), m.Header.Get(events.HeaderType)
		if org == "" || typ == "" {
			env, err := m.Envelope()
			if err != nil {
				return nil, workers.Permanent(err)
			}
			org, typ = env.OrgID, env.Type
		}
		id, err := uuid.Parse(m.ID) // the event id (Replay-Of on a replay)
		if err != nil {
			return nil, workers.Permanent(fmt.Errorf("event id %q is not a UUID", m.ID))
		}
		ids, err := EndpointsFor(ctx, dbsqlc.New(pool), org, typ)
		if err != nil || len(ids) == 0 {
			return nil, err
		}
		return func(ctx context.Context, tx *workers.Tx) error {
			return tx.D.InsertDeliveries(ctx, dbsqlc.InsertDeliveriesParams{EndpointIds: ids, EventID: id, OrgID: org, EventType: typ})
		}, nil
	})
}

// EndpointsFor lists the enabled endpoints of org that match an event type.
func EndpointsFor(ctx context.Context, q *dbsqlc.Queries, org, typ string) ([]uuid.UUID, error) {
	eps, err := q.EnabledEndpointsOfOrg(ctx, org)
	if err != nil {
		return nil, err
	}
	var ids []uuid.UUID
	for _, ep := range eps {
		if Match(ep.EventTypes, typ) {
			ids = append(ids, ep.ID)
		}
	}
	return ids, nil
}

// fanOut is FanOut with a set-based batch path.
type fanOut struct {
	workers.Handler
	pool *pgxpool.Pool
}

var _ workers.BatchSkipper = fanOut{}

// FanOutBatched is FanOut that also records the deliveries of a whole
// batch of events with one lookup and one insert, and skips the transaction
// for a batch that matches no endpoint.
func FanOutBatched(pool *pgxpool.Pool) workers.Handler {
	return fanOut{Handler: FanOut(pool), pool: pool}
}

type batchEvent struct {
	id       uuid.UUID
	org, typ string
}

// deliveries matches a batch of events against the enabled endpoints of
// their orgs.
func deliveries(ctx context.Context, q *dbsqlc.Queries, msgs []*workers.Message) (dbsqlc.InsertDeliveriesMultiParams, error) {
	var p dbsqlc.InsertDeliveriesMultiParams
	evs := make([]batchEvent, 0, len(msgs))
	orgs := map[string]bool{}
	for _, m := range msgs {
		org, typ := m.Header.Get(events.HeaderOrg), m.Header.Get(events.HeaderType)
		id, err := uuid.Parse(m.ID)
		if org == "" || typ == "" || err != nil {
			return p, fmt.Errorf("event %q lacks its org, type or id headers", m.ID)
		}
		evs = append(evs, batchEvent{id: id, org: org, typ: typ})
		orgs[org] = true
	}
	list := make([]string, 0, len(orgs))
	for o := range orgs {
		list = append(list, o)
	}
	eps, err := q.EnabledEndpointsOfOrgs(ctx, list)
	if err != nil {
		return p, err
	}
	for _, e := range evs {
		for _, ep := range eps {
			if ep.OrgID == e.org && Match(ep.EventTypes, e.typ) {
				p.EndpointIds = append(p.EndpointIds, ep.ID)
				p.EventIds = append(p.EventIds, e.id)
				p.OrgIds = append(p.OrgIds, e.org)
				p.EventTypes = append(p.EventTypes, e.typ)
			}
		}
	}
	return p, nil
}

// NothingToWrite implements workers.BatchSkipper: one lookup outside any
// transaction; most events of most orgs match no endpoint.
func (f fanOut) NothingToWrite(ctx context.Context, msgs []*workers.Message) (bool, error) {
	p, err := deliveries(ctx, dbsqlc.New(f.pool), msgs)
	return err == nil && len(p.EndpointIds) == 0, err
}

// HandleBatch implements workers.BatchHandler.
func (f fanOut) HandleBatch(ctx context.Context, tx *workers.Tx, msgs []*workers.Message) error {
	p, err := deliveries(ctx, tx.Q, msgs)
	if err != nil || len(p.EndpointIds) == 0 {
		return err
	}
	return tx.D.InsertDeliveriesMulti(ctx, p)
}
