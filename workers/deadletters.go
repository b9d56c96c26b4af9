package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
)

// DeadLetterConsumer consumes MAX_DELIVERIES advisories captured in the
// advisories stream: a message whose worker died on every delivery (so no
// handler could record it) is copied to failed_events and removed from its
// work queue.
var DeadLetterConsumer = events.ConsumerSpec{
	Name: "dead-letters", Stream: events.AdvisoriesStream, Filter: "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>",
	MaxDeliver: 20, AckWait: 30 * time.Second, MaxAckPending: 64,
	Description: "records messages that exhausted MaxDeliver without a handler outcome",
}

// maxDeliveriesAdvisory is io.nats.jetstream.advisory.v1.max_deliver.
type maxDeliveriesAdvisory struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// DeadLetterHandler turns advisories into failed_events rows.
func DeadLetterHandler(pool *pgxpool.Pool, js jetstream.JetStream) Handler {
	return HandlerFunc(func(ctx context.Context, m *Message) (Commit, error) {
		var adv maxDeliveriesAdvisory
		if err := json.Unmarshal(m.Data, &adv); err != nil || adv.Stream == "" || adv.StreamSeq == 0 {
			return nil, Permanent(fmt.Errorf("undecodable max-deliveries advisory: %s", truncate(string(m.Data), 200)))
		}
		stream, err := js.Stream(ctx, adv.Stream)
		if err != nil {
			return nil, err
		}
		raw, err := stream.GetMsg(ctx, adv.StreamSeq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			// Already settled (acked late, or recorded by its worker).
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		msgID := raw.Header.Get(events.HeaderReplayOf)
		if msgID == "" {
			msgID = raw.Header.Get(jetstream.MsgIDHeader)
		}
		if msgID == "" {
			msgID = fmt.Sprintf("%s:%d", adv.Stream, adv.StreamSeq)
		}
		last := fmt.Sprintf("no outcome after %d deliveries: the worker crashed or exceeded AckWait each time", adv.Deliveries)
		prior, err := dbsqlc.New(pool).IsMessageProcessed(ctx, dbsqlc.IsMessageProcessedParams{Consumer: adv.Consumer, MessageID: msgID})
		if err != nil {
			return nil, err
		}
		if !prior {
			if _, err := RecordDeadLetter(ctx, pool, DeadLetter{
				Consumer: adv.Consumer, Stream: adv.Stream, StreamSeq: adv.StreamSeq, MessageID: msgID,
				Subject: raw.Subject, Header: raw.Header, Payload: raw.Data, Reason: "max_deliver",
				LastError: last, Attempts: int(adv.Deliveries),
			}); err != nil {
				return nil, err
			}
		}
		info, err := stream.Info(ctx)
		if err != nil {
			return nil, err
		}
		if info.Config.Retention == jetstream.WorkQueuePolicy {
			if err := stream.DeleteMsg(ctx, adv.StreamSeq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
				return nil, err
			}
		}
		return nil, nil
	})
}
