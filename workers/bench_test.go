package workers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"
)

// BenchmarkWorkerLoop measures the whole consume path per message: fetch,
// idempotency check, handler transaction (one effect row, one outbox event,
// the processed row), commit, double ack.
func BenchmarkWorkerLoop(b *testing.B) {
	for _, conc := range []int{1, 16} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			f := newBenchFixture(b)
			for i := 0; i < b.N; i++ {
				f.publishB(b, fmt.Sprint(i))
			}
			p := f.pool(effectHandler(f), testSpec, conc)
			p.Metrics = nil
			p.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
			ctx, cancel := context.WithCancel(context.Background())
			b.ResetTimer()
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx) }()
			for {
				var n int
				if err := f.db.QueryRow(context.Background(), `SELECT count(*) FROM test_effects`).Scan(&n); err != nil {
					b.Fatal(err)
				}
				if n >= b.N {
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			cancel()
			<-done
		})
	}
}
