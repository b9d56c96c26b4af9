package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

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
// org whose patterns match. The sender does the HTTP work.
func FanOut() workers.Handler {
	return workers.TxHandler(func(ctx context.Context, tx *workers.Tx, m *workers.Message) error {
		env, err := m.Envelope()
		if err != nil {
			return workers.Permanent(err)
		}
		id, err := uuid.Parse(env.ID)
		if err != nil {
			return workers.Permanent(fmt.Errorf("event id %q is not a UUID", env.ID))
		}
		eps, err := tx.Q.EnabledEndpointsOfOrg(ctx, env.OrgID)
		if err != nil {
			return err
		}
		var ids []uuid.UUID
		for _, ep := range eps {
			if Match(ep.EventTypes, env.Type) {
				ids = append(ids, ep.ID)
			}
		}
		if len(ids) == 0 {
			return nil
		}
		return tx.D.InsertDeliveries(ctx, dbsqlc.InsertDeliveriesParams{EndpointIds: ids, EventID: id, OrgID: env.OrgID, EventType: env.Type})
	})
}
