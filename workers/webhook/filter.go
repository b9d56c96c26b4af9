package webhook

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
)

// The webhook consumer takes only the events some enabled endpoint wants:
// an event no endpoint matches would cost a delivery, an acknowledgement
// and a lookup for nothing (most events, where few integrators subscribe).
// Its filter is widened in the transaction that enables an endpoint or
// widens its types, before that commits, so every event created after the
// endpoint exists reaches the fan-out; it is narrowed after an endpoint goes
// away, and when the fan-out pool (re)creates the consumer, which takes
// every event until then. A transaction-scoped lock orders these updates,
// so a filter computed from older endpoints never replaces a newer one.

// NoEvents is the filter when no endpoint is enabled: a subject no event is
// published on (type tokens and org ids start with a letter or a digit).
const NoEvents = "evt._._._._"

// maxFilterSubjects bounds the filter; beyond it the consumer takes every
// event and the fan-out's lookup does all the matching, as before.
const maxFilterSubjects = 256

// FilterSubjects is the consumer filter for the enabled endpoints: every
// event some endpoint matches, in as few subjects as it takes. JetStream
// refuses overlapping filters, so a subject covered by another is dropped,
// and an org whose subjects still overlap gets all its events instead.
func FilterSubjects(endpoints []dbsqlc.EnabledEndpointPatternsRow) []string {
	byOrg := map[string][]string{}
	for _, ep := range endpoints {
		byOrg[ep.OrgID] = append(byOrg[ep.OrgID], Subjects(ep.EventTypes, ep.OrgID)...)
	}
	var out []string
	for _, org := range slices.Sorted(maps.Keys(byOrg)) {
		subs := uncovered(byOrg[org])
		if overlapping(subs) {
			subs = []string{"evt.*.*.*." + org}
		}
		out = append(out, subs...)
	}
	switch {
	case len(out) == 0:
		return []string{NoEvents}
	case len(out) > maxFilterSubjects:
		return []string{"evt.>"}
	}
	return out
}

// uncovered drops duplicates and the subjects another one covers; sorted.
func uncovered(subs []string) []string {
	slices.Sort(subs)
	subs = slices.Compact(subs)
	var out []string
	for i, s := range subs {
		covered := false
		for j, o := range subs {
			if i != j && covers(o, s) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, s)
		}
	}
	return out
}

// covers reports whether every subject matching b matches a, and collide
// whether some subject matches both (event subjects of five tokens, "*"
// the only wildcard).
func covers(a, b string) bool {
	return tokenwise(a, b, func(x, y string) bool { return x == "*" || x == y })
}

func collide(a, b string) bool {
	return tokenwise(a, b, func(x, y string) bool { return x == "*" || y == "*" || x == y })
}

func tokenwise(a, b string, ok func(x, y string) bool) bool {
	at, bt := strings.Split(a, "."), strings.Split(b, ".")
	if len(at) != len(bt) {
		return false
	}
	for i := range at {
		if !ok(at[i], bt[i]) {
			return false
		}
	}
	return true
}

// overlapping reports whether some subject matches two of subs.
func overlapping(subs []string) bool {
	for i := range subs {
		for j := i + 1; j < len(subs); j++ {
			if collide(subs[i], subs[j]) {
				return true
			}
		}
	}
	return false
}

// SyncFilter sets the webhook consumer's filter to the endpoints enabled
// as tx sees them, holding the filter lock until tx ends (see above). also
// adds an endpoint's state before a change tx has not committed yet: until
// then, narrowing would be premature. A consumer that does not exist yet
// is left to the fan-out pool.
func SyncFilter(ctx context.Context, tx dbsqlc.DBTX, js jetstream.JetStream, also ...dbsqlc.EnabledEndpointPatternsRow) error {
	q := dbsqlc.New(tx)
	if err := q.LockWebhookFilter(ctx); err != nil {
		return err
	}
	eps, err := q.EnabledEndpointPatterns(ctx)
	if err != nil {
		return err
	}
	want := FilterSubjects(append(eps, also...))
	cons, err := js.Consumer(ctx, events.EventsStream, ConsumerName)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg := cons.CachedInfo().Config
	if slices.Equal(filterOf(cfg), want) {
		return nil
	}
	cfg.FilterSubject, cfg.FilterSubjects = "", want
	_, err = js.UpdateConsumer(ctx, events.EventsStream, cfg)
	return err
}

// filterOf is a consumer's filter as a list.
func filterOf(cfg jetstream.ConsumerConfig) []string {
	if cfg.FilterSubject != "" {
		return []string{cfg.FilterSubject}
	}
	return cfg.FilterSubjects
}

// SyncFilterNow is SyncFilter in a transaction of its own: after an
// endpoint was deleted or disabled, or the consumer was (re)created.
func SyncFilterNow(ctx context.Context, pool *pgxpool.Pool, js jetstream.JetStream) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := SyncFilter(ctx, tx, js); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
