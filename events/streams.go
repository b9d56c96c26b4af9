package events

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Stream names.
const (
	CommandsStream   = "COMMANDS"
	EventsStream     = "EVENTS"
	AdvisoriesStream = "DEAD_LETTER_ADVISORIES"
)

// Header names set on every published message.
const (
	HeaderOrg      = "Shiftflow-Org"
	HeaderType     = "Shiftflow-Type"
	HeaderReplayOf = "Replay-Of"
)

// StreamOptions size the streams; Replicas is 3 on a 3-node cluster.
type StreamOptions struct {
	Replicas     int
	EventsMaxAge time.Duration
	// DuplicateWindow bounds Nats-Msg-Id de-duplication; a relay or API retry
	// within it is dropped by the server.
	DuplicateWindow time.Duration
}

func (o StreamOptions) withDefaults() StreamOptions {
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.EventsMaxAge == 0 {
		o.EventsMaxAge = 7 * 24 * time.Hour
	}
	if o.DuplicateWindow == 0 {
		o.DuplicateWindow = 10 * time.Minute
	}
	return o
}

// StreamConfigs are the declared streams.
func StreamConfigs(o StreamOptions) []jetstream.StreamConfig {
	o = o.withDefaults()
	return []jetstream.StreamConfig{
		{
			Name:        CommandsStream,
			Description: "Work to do: a message is removed once a worker acknowledges it.",
			Subjects:    []string{"cmd.>"},
			Retention:   jetstream.WorkQueuePolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    o.Replicas,
			Duplicates:  o.DuplicateWindow,
			Discard:     jetstream.DiscardNew,
		},
		{
			Name:        EventsStream,
			Description: "Domain events published from the outbox, retained by age.",
			Subjects:    []string{"evt.>"},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    o.Replicas,
			MaxAge:      o.EventsMaxAge,
			Duplicates:  o.DuplicateWindow,
		},
		{
			// The server announces messages that exhausted MaxDeliver only as
			// advisories; capturing them in a stream means none is missed while
			// no process is listening.
			Name:        AdvisoriesStream,
			Description: "MAX_DELIVERIES advisories, turned into failed_events rows.",
			Subjects:    []string{"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>"},
			Retention:   jetstream.WorkQueuePolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    o.Replicas,
			MaxAge:      30 * 24 * time.Hour,
		},
	}
}

// ConsumerSpec declares a durable pull consumer.
type ConsumerSpec struct {
	Name          string
	Stream        string
	Filter        string
	MaxDeliver    int
	AckWait       time.Duration
	MaxAckPending int
	Description   string
}

// Config is the JetStream consumer configuration of the spec.
func (s ConsumerSpec) Config() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       s.Name,
		Description:   s.Description,
		FilterSubject: s.Filter,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.AckWait,
		MaxDeliver:    s.MaxDeliver,
		MaxAckPending: s.MaxAckPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
}

// EnsureStreams creates or updates every declared stream; safe to run at
// every start from every process.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, o StreamOptions) error {
	for _, cfg := range StreamConfigs(o) {
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("stream %s: %w", cfg.Name, err)
		}
	}
	return nil
}

// EnsureConsumer creates or updates a durable consumer.
func EnsureConsumer(ctx context.Context, js jetstream.JetStream, s ConsumerSpec) (jetstream.Consumer, error) {
	c, err := js.CreateOrUpdateConsumer(ctx, s.Stream, s.Config())
	if err != nil {
		return nil, fmt.Errorf("consumer %s on %s: %w", s.Name, s.Stream, err)
	}
	return c, nil
}
