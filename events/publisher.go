package events

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shiftflow/shiftflow/internal/metrics"
)

// Publisher publishes envelopes to JetStream with Nats-Msg-Id = envelope id,
// so a retried publish within the duplicate window is stored once.
type Publisher struct {
	js      jetstream.JetStream
	metrics *metrics.Metrics
}

// NewPublisher wraps a JetStream context.
func NewPublisher(js jetstream.JetStream, m *metrics.Metrics) *Publisher {
	return &Publisher{js: js, metrics: m}
}

// Message builds the NATS message of an envelope.
func Message(subject string, e Envelope) (*nats.Msg, error) {
	body, err := e.Encode()
	if err != nil {
		return nil, err
	}
	msg := nats.NewMsg(subject)
	msg.Data = body
	msg.Header.Set(jetstream.MsgIDHeader, e.ID)
	msg.Header.Set(HeaderOrg, e.OrgID)
	msg.Header.Set(HeaderType, e.Type)
	return msg, nil
}

// PublishCommand validates and publishes a command to the COMMANDS stream.
func (p *Publisher) PublishCommand(ctx context.Context, e Envelope) (*jetstream.PubAck, error) {
	msg, err := commandMessage(e)
	if err != nil {
		return nil, err
	}
	ack, err := p.js.PublishMsg(ctx, msg, jetstream.WithMsgID(e.ID), jetstream.WithExpectStream(CommandsStream))
	if err != nil {
		return nil, fmt.Errorf("publish command %s: %w", e.Type, err)
	}
	p.countPublished(e.Type, ack)
	return ack, nil
}

// commandMessage validates a command and builds its message.
func commandMessage(e Envelope) (*nats.Msg, error) {
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("command: %w", err)
	}
	return Message(CommandSubject(e.Type, e.OrgID), e)
}

// countPublished counts a stored command; a duplicate was counted before.
func (p *Publisher) countPublished(typ string, ack *jetstream.PubAck) {
	if p.metrics != nil && !ack.Duplicate {
		p.metrics.CommandsPublished.WithLabelValues(typ).Inc()
	}
}

// publishTimeout bounds PublishCommands' wait when ctx has no deadline
// (jetstream's default for a synchronous publish).
const publishTimeout = 5 * time.Second

// PublishCommands publishes commands at once and waits for every ack (or
// ctx): a batch costs about one round trip to the stream instead of one per
// command. errs[i] is command i's outcome; a failed one may be retried as
// it is (its Nats-Msg-Id makes a second copy a duplicate).
func (p *Publisher) PublishCommands(ctx context.Context, es []Envelope) (errs []error) {
	if _, ok := ctx.Deadline(); !ok {
		// As a synchronous publish without a deadline: the client's default.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, publishTimeout)
		defer cancel()
	}
	errs = make([]error, len(es))
	futures := make([]jetstream.PubAckFuture, len(es))
	for i, e := range es {
		msg, err := commandMessage(e)
		if err != nil {
			errs[i] = err
			continue
		}
		if futures[i], err = p.js.PublishMsgAsync(msg, jetstream.WithMsgID(e.ID), jetstream.WithExpectStream(CommandsStream)); err != nil {
			errs[i] = fmt.Errorf("publish command %s: %w", e.Type, err)
		}
	}
	for i, fu := range futures {
		if fu == nil {
			continue
		}
		select {
		case ack := <-fu.Ok():
			p.countPublished(es[i].Type, ack)
		case err := <-fu.Err():
			errs[i] = fmt.Errorf("publish command %s: %w", es[i].Type, err)
		case <-ctx.Done():
			errs[i] = fmt.Errorf("publish command %s: %w", es[i].Type, ctx.Err())
		}
	}
	return errs
}

// Republish publishes a stored message again under a new message id with a
// Replay-Of header naming the original, for dead-letter replay.
func (p *Publisher) Republish(ctx context.Context, subject string, header nats.Header, data []byte, newID, originalID string) (*jetstream.PubAck, error) {
	msg := nats.NewMsg(subject)
	msg.Data = data
	for k, vs := range header {
		for _, v := range vs {
			msg.Header.Add(k, v)
		}
	}
	msg.Header.Set(jetstream.MsgIDHeader, newID)
	msg.Header.Set(HeaderReplayOf, originalID)
	return p.js.PublishMsg(ctx, msg, jetstream.WithMsgID(newID))
}
