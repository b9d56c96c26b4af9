package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
)

func init() {
	registerBench(command{name: "webhooks", summary: "webhook deliveries per second to a local receiver, and commit-to-receipt latency at a fixed rate", run: runBenchWebhooks})
}

func runBenchWebhooks(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("bench webhooks", flag.ContinueOnError)
	n := fs.Int("n", 20000, "events in the throughput phase")
	rate := fs.Int("rate", 500, "events per second in the latency phase")
	dur := fs.Duration("duration", 10*time.Second, "length of the latency phase")
	durable := fs.Bool("durable", true, "PostgreSQL with fsync on")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the shiftflow process to this file")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return exitUsage
	}
	defer stopProfile()
	// The receiver: records when each event arrived.
	var mu sync.Mutex
	received := map[string]time.Time{}
	var count atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return exitFail
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		id := r.Header.Get("webhook-id")
		mu.Lock()
		if _, dup := received[id]; !dup {
			received[id] = time.Now()
			count.Add(1)
		}
		mu.Unlock()
		w.WriteHeader(204)
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	base, _, token, stop, err := benchEnv(ctx, *durable, map[string]string{
		"WEBHOOK_ALLOW_CIDRS": "127.0.0.1/32", "WORKER_WEBHOOK_CONCURRENCY": "64",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return exitFail
	}
	defer stop()
	c, err := benchKey(base, token, "webhooks")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return exitFail
	}
	if st, body, _ := c.do("POST", "/api/v1/webhooks", map[string]any{"url": "http://" + ln.Addr().String() + "/hook", "event_types": []string{"bench.*"}}); st != 201 {
		fmt.Fprintf(os.Stderr, "bench: webhook: %d %s\n", st, body)
		return exitFail
	}
	// The service's own pool (db.Open), so the writes are encoded as a handler's are.
	pool, err := db.Open(ctx, db.PoolConfig{URL: os.Getenv("DATABASE_URL")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return exitFail
	}
	defer pool.Close()
	// Events are committed straight into the outbox, as a handler would.
	commit := func(ids []string) error {
		tx, err := pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		q := dbsqlc.New(tx)
		for _, id := range ids {
			e := events.Envelope{SpecVersion: events.SpecVersion, ID: id, Source: "bench", Type: "bench.load.tick", Subject: "bench/" + id,
				Time: time.Now().UTC(), OrgID: "bench", Data: json.RawMessage(`{"n":1}`)}
			if err := events.Store(ctx, q, e); err != nil {
				return err
			}
		}
		return tx.Commit(ctx)
	}
	waitCount := func(target int64, limit time.Duration) bool {
		deadline := time.Now().Add(limit)
		for count.Load() < target {
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(5 * time.Millisecond)
		}
		return true
	}

	fmt.Fprintf(os.Stderr, "throughput: %d events...\n", *n)
	start := time.Now()
	for done := 0; done < *n; {
		batch := make([]string, 0, 500)
		for i := 0; i < 500 && done < *n; i++ {
			batch = append(batch, uuid.NewString())
			done++
		}
		if err := commit(batch); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return exitFail
		}
	}
	if !waitCount(int64(*n), 5*time.Minute) {
		fmt.Fprintf(os.Stderr, "bench: only %d of %d deliveries arrived\n", count.Load(), *n)
		return exitFail
	}
	elapsed := time.Since(start)
	fmt.Printf("throughput: %d webhook deliveries in %s = %.0f deliveries/s\n", *n, elapsed.Round(time.Millisecond), float64(*n)/elapsed.Seconds())

	fmt.Fprintf(os.Stderr, "latency at %d events/s for %s...\n", *rate, *dur)
	total := *rate * int(dur.Seconds())
	committed := make(map[string]time.Time, total)
	interval := time.Second / time.Duration(*rate)
	begin := time.Now()
	for k := 0; k < total; k++ {
		if d := time.Until(begin.Add(time.Duration(k) * interval)); d > 0 {
			time.Sleep(d)
		}
		id := uuid.NewString()
		if err := commit([]string{id}); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return exitFail
		}
		committed[id] = time.Now()
	}
	waitCount(int64(*n+total), time.Minute)
	var lat []time.Duration
	mu.Lock()
	for id, at := range committed {
		if got, ok := received[id]; ok {
			lat = append(lat, got.Sub(at))
		}
	}
	mu.Unlock()
	slices.Sort(lat)
	fmt.Printf("commit to receipt at %d events/s: %d events, p50 %s, p90 %s, p99 %s, max %s (missing %d)\n", *rate, len(lat),
		percentile(lat, 0.5).Round(100*time.Microsecond), percentile(lat, 0.9).Round(100*time.Microsecond),
		percentile(lat, 0.99).Round(100*time.Microsecond), percentile(lat, 1).Round(100*time.Microsecond), total-len(lat))
	return exitOK
}
