package events

import (
	"context"
	"encoding/json"
	"fmt"

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
	body, err := json.Marshal(e)
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
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("command: %w", err)
	}
	msg, err := Message(CommandSubject(e.Type, e.OrgID), e)
	if err != nil {
		return nil, err
	}
	ack, err := p.js.PublishMsg(ctx, msg, jetstream.WithMsgID(e.ID), jetstream.WithExpectStream(CommandsStream))
	if err != nil {
		return nil, fmt.Errorf("publish command %s: %w", e.Type, err)
	}
	if p.metrics != nil && !ack.Duplicate {
		p.metrics.CommandsPublished.WithLabelValues(e.Type).Inc()
	}
	return ack, nil
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
