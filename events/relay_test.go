package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/internal/metrics"
	"github.com/shiftflow/shiftflow/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func insertEvents(t *testing.T, ctx context.Context, tx pgx.Tx, n int, tag string) []uuid.UUID {
	t.Helper()
	q := dbsqlc.New(tx)
	var ids []uuid.UUID
	for i := 0; i < n; i++ {
		e, err := New("acme", "test", "test.thing.happened", "things/"+tag, map[string]any{"tag": tag, "i": i})
		if err != nil {
			t.Fatal(err)
		}
		id := uuid.MustParse(e.ID)
		if err := q.InsertEvent(ctx, dbsqlc.InsertEventParams{ID: id, OrgID: e.OrgID, Type: e.Type, Source: e.Source, Subject: e.Subject, Time: e.Time, Data: e.Data}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// (e) Two relays publish every committed event exactly once, even when one
// of them crashes between publishing and marking rows published; events of
// rolled-back transactions are never published.
// relayEnv is a fresh database and a JetStream server with the streams.
func relayEnv(t *testing.T) (*pgxpool.Pool, jetstream.JetStream) {
	t.Helper()
	pool := testenv.Postgres(t)
	_, js := testenv.NATS(t).Connect(t)
	if err := EnsureStreams(context.Background(), js, StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	return pool, js
}

func TestRelaysPublishEachEventOnce(t *testing.T) {
	ctx := context.Background()
	pool, js := relayEnv(t)
	m := metrics.New()
	var crashes atomic.Int32
	r1 := &Relay{Pool: pool, JS: js, Metrics: m, BatchSize: 50, PollInterval: 50 * time.Millisecond}
	r2 := &Relay{Pool: pool, JS: js, Metrics: m, BatchSize: 50, PollInterval: 50 * time.Millisecond,
		publishHook: func(uuid.UUID) error {
			if crashes.Add(1) <= 3 {
				return errors.New("simulated crash after publish")
			}
			return nil
		}}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, r := range []*Relay{r1, r2} {
		wg.Add(1)
		go func() { defer wg.Done(); _ = r.Run(rctx) }()
	}
	defer func() { cancel(); wg.Wait() }()

	// Writers commit events while the relays run; every fifth transaction rolls back.
	const writers, txPerWriter, perTx = 4, 25, 10
	committed := make(chan uuid.UUID, writers*txPerWriter*perTx)
	var ww sync.WaitGroup
	for w := 0; w < writers; w++ {
		ww.Add(1)
		go func() {
			defer ww.Done()
			for i := 0; i < txPerWriter; i++ {
				var ids []uuid.UUID
				rollback := i%5 == 4
				err := db.InTx(ctx, pool, func(tx pgx.Tx, q *dbsqlc.Queries) error {
					ids = insertEvents(t, ctx, tx, perTx, fmt.Sprintf("w%d-%d", w, i))
					if rollback {
						return errors.New("rolled back")
					}
					return nil
				})
				if !rollback {
					if err != nil {
						t.Error(err)
						return
					}
					for _, id := range ids {
						committed <- id
					}
				}
			}
		}()
	}
	ww.Wait()
	close(committed)
	want := map[string]bool{}
	for id := range committed {
		want[id.String()] = true
	}
	waitOutboxEmpty(t, ctx, pool, 30*time.Second)
	if crashes.Load() < 3 {
		t.Fatalf("the crashing relay never ran (%d hook calls)", crashes.Load())
	}

	// Read the whole stream back: every committed event exactly once.
	cons, err := js.OrderedConsumer(ctx, EventsStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	var total int
	for total < len(want)+5 {
		msg, err := cons.Next(jetstream.FetchMaxWait(time.Second))
		if err != nil {
			break
		}
		total++
		var e Envelope
		if err := json.Unmarshal(msg.Data(), &e); err != nil {
			t.Fatal(err)
		}
		if msg.Headers().Get(jetstream.MsgIDHeader) != e.ID {
			t.Fatalf("Nats-Msg-Id %q != event id %q", msg.Headers().Get(jetstream.MsgIDHeader), e.ID)
		}
		if msg.Subject() != "evt.test.thing.happened.acme" {
			t.Fatalf("subject %q", msg.Subject())
		}
		seen[e.ID]++
	}
	if total != len(want) {
		t.Fatalf("stream holds %d messages, want %d committed events", total, len(want))
	}
	for id := range want {
		if seen[id] != 1 {
			t.Fatalf("event %s published %d times", id, seen[id])
		}
	}
	var unpublishedSeq int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE stream_seq IS NULL OR published_at IS NULL`).Scan(&unpublishedSeq); err != nil {
		t.Fatal(err)
	}
	if unpublishedSeq != 0 {
		t.Fatalf("%d published rows lack stream_seq/published_at", unpublishedSeq)
	}
}

func TestEnvelopeValidation(t *testing.T) {
	good := Envelope{SpecVersion: "1.0", ID: "x", Source: "s", Type: "a.b.c", OrgID: "acme", Time: time.Now()}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(e *Envelope){
		"spec":    func(e *Envelope) { e.SpecVersion = "0.3" },
		"id":      func(e *Envelope) { e.ID = "" },
		"source":  func(e *Envelope) { e.Source = "" },
		"type":    func(e *Envelope) { e.Type = "a.b" },
		"typeCap": func(e *Envelope) { e.Type = "A.b.c" },
		"org":     func(e *Envelope) { e.OrgID = "a.b" },
		"time":    func(e *Envelope) { e.Time = time.Time{} },
	}
	for name, mut := range cases {
		e := good
		mut(&e)
		if e.Validate() == nil {
			t.Errorf("%s: invalid envelope accepted", name)
		}
	}
	if got := TypeFromSubject(EventSubject("approval.instance.approved", "acme")); got != "approval.instance.approved" {
		t.Fatalf("TypeFromSubject = %q", got)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"s","type":"a.b.c","orgid":"acme","time":"2026-01-01T00:00:00Z","data":{}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err == nil && e.Validate() != nil {
			t.Fatal("Decode accepted an invalid envelope")
		}
	})
}

func mustUUID(s string) uuid.UUID { return uuid.MustParse(s) }

// waitOutboxEmpty waits until every committed event has been published.
func waitOutboxEmpty(t *testing.T, ctx context.Context, pool *pgxpool.Pool, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		n, err := dbsqlc.New(pool).CountPendingEvents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still pending", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The relay vacuums the outbox while it publishes (a queue table whose
// every row dies within milliseconds), and not when told not to.
func TestRelayVacuumsTheOutbox(t *testing.T) {
	for _, tc := range []struct {
		name  string
		every time.Duration
		want  bool
	}{{"every 50ms", 50 * time.Millisecond, true}, {"never", -1, false}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			pool, js := relayEnv(t)
			r := &Relay{Pool: pool, JS: js, BatchSize: 20, PollInterval: 20 * time.Millisecond, VacuumEvery: tc.every}
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); _ = r.Run(rctx) }()
			defer func() { cancel(); <-done }()
			for i := 0; i < 5; i++ {
				if err := db.InTx(ctx, pool, func(tx pgx.Tx, _ *dbsqlc.Queries) error {
					insertEvents(t, ctx, tx, 30, fmt.Sprint(i))
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				time.Sleep(60 * time.Millisecond)
			}
			vacuums := func() int64 {
				var n int64
				if err := pool.QueryRow(ctx, `SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'event_outbox'`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			pending := func() int {
				var n int
				if err := pool.QueryRow(ctx, `SELECT count(*) FROM event_outbox`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			// On a loaded machine the relay may still be on the last batch.
			deadline := time.Now().Add(5 * time.Second)
			for (pending() != 0 || tc.want && vacuums() == 0) && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if n := pending(); n != 0 {
				t.Fatalf("outbox still holds %d events", n)
			}
			if got := vacuums() > 0; got != tc.want {
				t.Fatalf("outbox vacuumed: %v, want %v", got, tc.want)
			}
		})
	}
}
