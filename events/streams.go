package events

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
		o.DuplicateWindow = 2 * time.Minute // NATS_DUPLICATE_WINDOW's default
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
	Name   string
	Stream string
	Filter string
	// Filters, when set, are the consumer's subjects instead of Filter.
	Filters []string
	// Superseded are subjects an earlier release filtered on. A durable that
	// still has one and messages pending on it keeps it, next to the new
	// subjects, until a start finds it drained: no message it matched is
	// skipped, and the handler takes both.
	Superseded    []string
	MaxDeliver    int
	AckWait       time.Duration
	MaxAckPending int
	Description   string
}

// Config is the JetStream consumer configuration of the spec.
func (s ConsumerSpec) Config() jetstream.ConsumerConfig {
	c := jetstream.ConsumerConfig{
		Durable:       s.Name,
		Description:   s.Description,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.AckWait,
		MaxDeliver:    s.MaxDeliver,
		MaxAckPending: s.MaxAckPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
	switch len(s.Filters) {
	case 0:
		c.FilterSubject = s.Filter
	case 1:
		c.FilterSubject = s.Filters[0]
	default:
		c.FilterSubjects = s.Filters
	}
	return c
}

// Subjects are the configured filter subjects of a consumer.
func Subjects(c jetstream.ConsumerConfig) []string {
	if c.FilterSubject != "" {
		return []string{c.FilterSubject}
	}
	return c.FilterSubjects
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
	cfg := s.Config()
	if len(s.Superseded) > 0 {
		kept, err := supersededPending(ctx, js, s)
		if err != nil {
			return nil, fmt.Errorf("consumer %s on %s: %w", s.Name, s.Stream, err)
		}
		if len(kept) > 0 {
			cfg.FilterSubject, cfg.FilterSubjects = "", append(kept, Subjects(cfg)...)
		}
	}
	c, err := js.CreateOrUpdateConsumer(ctx, s.Stream, cfg)
	if err != nil {
		return nil, fmt.Errorf("consumer %s on %s: %w", s.Name, s.Stream, err)
	}
	return c, nil
}

// supersededPending are the superseded subjects the existing durable still
// filters on while a message on them is pending (delivered or not); none
// when it is drained or does not exist. The stream is asked for the last
// message on each subject and compared with the durable's ack floor: the
// consumer's own pending count is updated after the publish is
// acknowledged, so a message published just before could be missed.
func supersededPending(ctx context.Context, js jetstream.JetStream, s ConsumerSpec) ([]string, error) {
	cons, err := js.Consumer(ctx, s.Stream, s.Name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	info := cons.CachedInfo()
	var kept []string
	var stream jetstream.Stream
	for _, sub := range Subjects(info.Config) {
		if !slices.Contains(s.Superseded, sub) {
			continue
		}
		if stream == nil {
			if stream, err = js.Stream(ctx, s.Stream); err != nil {
				return nil, err
			}
		}
		last, err := stream.GetLastMsgForSubject(ctx, sub)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if last.Sequence > info.AckFloor.Stream {
			kept = append(kept, sub)
		}
	}
	return kept, nil
}
