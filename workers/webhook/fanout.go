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

// Consumer is the durable consumer that fans events out to endpoints.
func Consumer(maxDeliver int, ackWait time.Duration) events.ConsumerSpec {
	return events.ConsumerSpec{
		Name: "webhook", Stream: events.EventsStream, Filter: "evt.>",
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
		env := events.Envelope{OrgID: org, Type: typ}
		eps, err := dbsqlc.New(pool).EnabledEndpointsOfOrg(ctx, env.OrgID)
		if err != nil {
			return nil, err
		}
		var ids []uuid.UUID
		for _, ep := range eps {
			if Match(ep.EventTypes, env.Type) {
				ids = append(ids, ep.ID)
			}
		}
		if len(ids) == 0 {
			return nil, nil
		}
		return func(ctx context.Context, tx *workers.Tx) error {
			return tx.D.InsertDeliveries(ctx, dbsqlc.InsertDeliveriesParams{EndpointIds: ids, EventID: id, OrgID: env.OrgID, EventType: env.Type})
		}, nil
	})
}
