package events

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/internal/metrics"
	"github.com/shiftflow/shiftflow/internal/testenv"
)

// BenchmarkPublishCommand measures the API's publish path: one command,
// synchronously acknowledged by JetStream (file store, de-duplication on).
func BenchmarkPublishCommand(b *testing.B) {
	ns := testenv.NATS(b)
	_, js := ns.Connect(b)
	ctx := context.Background()
	if err := EnsureStreams(ctx, js, StreamOptions{}); err != nil {
		b.Fatal(err)
	}
	pub := NewPublisher(js, metrics.New())
	data := map[string]any{"instance": "3f1c", "action": "approve", "actor": "u-17", "comment": "ok"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e, err := New("acme", "bench", "approval.instance.act", "approvals/3f1c", data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := pub.PublishCommand(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkRelay measures the outbox relay: events committed in the
// database, published to EVENTS and marked published.
func BenchmarkRelay(b *testing.B) {
	pool := testenv.Postgres(b)
	ns := testenv.NATS(b)
	_, js := ns.Connect(b)
	ctx := context.Background()
	if err := EnsureStreams(ctx, js, StreamOptions{}); err != nil {
		b.Fatal(err)
	}
	// Commit b.N events in batches first; only the relay is timed.
	for done := 0; done < b.N; {
		n := min(500, b.N-done)
		err := db.InTx(ctx, pool, func(tx pgx.Tx, q *dbsqlc.Queries) error {
			for i := 0; i < n; i++ {
				e, _ := New("acme", "bench", "approval.task.approved", "approvals/x", map[string]int{"i": done + i})
				if err := q.InsertEvent(ctx, dbsqlc.InsertEventParams{ID: mustUUID(e.ID), OrgID: e.OrgID, Type: e.Type, Source: e.Source, Subject: e.Subject, Time: e.Time, Data: e.Data}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		done += n
	}
	r := &Relay{Pool: pool, JS: js, BatchSize: 256, PollInterval: time.Second}
	b.ResetTimer()
	published := 0
	for published < b.N {
		n, err := r.PublishBatch(ctx)
		if err != nil {
			b.Fatal(err)
		}
		published += n
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDuplicateWindowMemory measures what the embedded server keeps
// per message while its Nats-Msg-Id is inside the duplicate window
// (NATS_DUPLICATE_WINDOW): the heap retained per stored message with ids,
// against the same messages without.
func BenchmarkDuplicateWindowMemory(b *testing.B) {
	for _, withID := range []bool{false, true} {
		name := map[bool]string{false: "without-ids", true: "with-ids"}[withID]
		b.Run(name, func(b *testing.B) {
			_, js := testenv.NATS(b).Connect(b)
			ctx := context.Background()
			if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "DEDUP", Subjects: []string{"dedup.>"},
				Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute}); err != nil {
				b.Fatal(err)
			}
			heap := func() uint64 {
				runtime.GC()
				runtime.GC()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				return m.HeapAlloc
			}
			before := heap()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var opts []jetstream.PublishOpt
				if withID {
					opts = append(opts, jetstream.WithMsgID(uuid.Must(uuid.NewV7()).String()))
				}
				if _, err := js.PublishAsync("dedup.x", []byte(`{"a":1}`), opts...); err != nil {
					b.Fatal(err)
				}
				if i%4096 == 4095 {
					<-js.PublishAsyncComplete()
				}
			}
			<-js.PublishAsyncComplete()
			b.StopTimer()
			b.ReportMetric(float64(int64(heap())-int64(before))/float64(b.N), "retained-B/msg")
		})
	}
}
