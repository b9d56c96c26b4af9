package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shiftflow/shiftflow/api"
	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/internal/pglocal"
)

func init() {
	registerBench(command{name: "approvals", summary: "approval actions end to end: HTTP in, outcome event out (throughput and latency)", run: runBenchApprovals})
}

// benchEnv starts a complete shiftflow (private Postgres, embedded NATS,
// `all`) in this process and returns its HTTP base URL, NATS URL and admin token.
func benchEnv(ctx context.Context, durable bool, extraEnv map[string]string) (base, natsURL, token string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "shiftflow-bench-")
	if err != nil {
		return "", "", "", nil, err
	}
	_ = os.Chmod(dir, 0o755)
	pg, err := pglocal.Start(ctx, pglocal.Options{DataDir: filepath.Join(dir, "pg"), Durable: durable, Settings: benchPGSettings})
	if err != nil {
		return "", "", "", nil, err
	}
	if err := pg.CreateDatabase(ctx, "bench", ""); err != nil {
		pg.Stop()
		return "", "", "", nil, err
	}
	natsPort, _ := pglocal.FreePort()
	httpPort, _ := pglocal.FreePort()
	token = "bench-admin-token"
	env := map[string]string{
		"DATABASE_URL": pg.URL("bench"), "NATS_URL": "", "NATS_STORE_DIR": filepath.Join(dir, "nats"),
		"NATS_EMBEDDED_PORT": strconv.Itoa(natsPort), "APP_PORT": strconv.Itoa(httpPort), "ADMIN_ADDR": "",
		"ADMIN_TOKEN": token, "LOG_LEVEL": "error", "RATE_LIMIT_RPS": "1000000", "RATE_LIMIT_BURST": "1000000",
		"DB_MAX_CONNS": "40",
	}
	for k, v := range extraEnv {
		env[k] = v
	}
	for k, v := range env {
		os.Setenv(k, v)
	}
	a, code := newApp(ctx, false)
	if a == nil {
		pg.Stop()
		return "", "", "", nil, fmt.Errorf("setup failed (exit %d)", code)
	}
	if _, err := migrateUp(ctx, a); err != nil {
		pg.Stop()
		return "", "", "", nil, err
	}
	a.close()
	runCtx, cancel := context.WithCancel(ctx)
	ready := make(chan string, 1)
	done := make(chan int, 1)
	go func() { done <- serve(runCtx, true, nil, func(addr string) { ready <- addr }) }()
	select {
	case <-ready:
	case c := <-done:
		cancel()
		pg.Stop()
		return "", "", "", nil, fmt.Errorf("shiftflow exited %d", c)
	}
	stop = func() {
		cancel()
		<-done
		pg.Stop()
		os.RemoveAll(dir)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", httpPort), fmt.Sprintf("nats://127.0.0.1:%d", natsPort), token, stop, nil
}

type benchClient struct {
	base, token string
	http        *http.Client
}

func (c *benchClient) do(method, path string, body any, headers ...string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// startCPUProfile profiles this process (API, workers and the embedded NATS
// server; Postgres runs apart) until the returned stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// writeAllocsProfile writes the allocations since the process started.
func writeAllocsProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC() // the profile is as of the last GC
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// benchKey creates an API key of org "bench" with scopes and returns a
// client using it.
func benchKey(base, token string, scopes ...string) (*benchClient, error) {
	admin := &benchClient{base: base, token: token, http: &http.Client{
		Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}, Timeout: 60 * time.Second}}
	st, body, err := admin.do("POST", "/api/v1/admin/keys", map[string]any{"name": "bench", "org": "bench", "scopes": scopes})
	if err != nil || st != 201 {
		return nil, fmt.Errorf("create key: %d %s %v", st, body, err)
	}
	var key struct{ Key string }
	if err := json.Unmarshal(body, &key); err != nil {
		return nil, err
	}
	return &benchClient{base: base, token: key.Key, http: admin.http}, nil
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return sorted[i]
}

func runBenchApprovals(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("bench approvals", flag.ContinueOnError)
	n := fs.Int("n", 10000, "approve actions in the throughput phase")
	clients := fs.Int("clients", 64, "concurrent HTTP clients in the throughput phase")
	batch := fs.Int("batch", 0, fmt.Sprintf("approve through POST /api/v1/tasks:batch-approve, this many tasks per request (1 to %d), in the throughput phase; 0: one request per action", api.MaxBatchTasks))
	rate := fs.Int("rate", 1000, "actions per second in the latency phase")
	dur := fs.Duration("duration", 10*time.Second, "length of the latency phase")
	durable := fs.Bool("durable", true, "PostgreSQL with fsync on (off measures the software, not the disk)")
	pgStats := fs.Bool("pgstats", false, "print the statements PostgreSQL ran per action in the latency phase (pg_stat_statements)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the shiftflow process (not Postgres) during the measured phases to this file")
	timeline := fs.String("timeline", "", "write every action of the latency phase to this CSV file: send time, outcome latency, when the API stamped the command, when HTTP answered")
	pgSettings := map[string]string{}
	fs.Func("pg", "a setting for the bench's PostgreSQL, name=value (repeatable), e.g. -pg synchronous_commit=off", func(v string) error {
		name, value, ok := strings.Cut(v, "=")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return fmt.Errorf("want name=value, got %q", v)
		}
		pgSettings[name] = value
		return nil
	})
	memProfile := fs.String("memprofile", "", "write the shiftflow process's allocations to this file at the end and at the start of the measured phases (FILE.start); compare with go tool pprof -sample_index=alloc_space -diff_base FILE.start")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *batch < 0 || *batch > api.MaxBatchTasks {
		fmt.Fprintf(os.Stderr, "bench: -batch %d: want 0 to %d\n", *batch, api.MaxBatchTasks)
		return exitUsage
	}
	if *pgStats {
		pgSettings["shared_preload_libraries"] = "pg_stat_statements"
	}
	benchPGSettings = pgSettings
	base, natsURL, token, stop, err := benchEnv(ctx, *durable, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return exitFail
	}
	defer stop()
	c, err := benchKey(base, token, "approval", "admin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return exitFail
	}
	if st, body, _ := c.do("POST", "/api/v1/people:batch", map[string]any{"people": []any{
		map[string]any{"id": "req", "name": "Requester"}, map[string]any{"id": "boss", "name": "Boss"},
	}}); st != 200 {
		fmt.Fprintf(os.Stderr, "bench: people: %d %s\n", st, body)
		return exitFail
	}
	if st, body, _ := c.do("POST", "/api/v1/approval-templates", json.RawMessage(`{"id": "bench", "name": "Bench", "form": [{"name": "amount", "type": "number"}],
		"nodes": [{"id": "start", "type": "start", "next": "n1"},
		  {"id": "n1", "type": "approval", "next": "end", "approval": {"mode": "single", "approvers": [{"type": "people", "people": ["boss"]}]}},
		  {"id": "end", "type": "end"}]}`)); st != 201 {
		fmt.Fprintf(os.Stderr, "bench: template: %d %s\n", st, body)
		return exitFail
	}

	total := *n + *rate*int(dur.Seconds())
	fmt.Fprintf(os.Stderr, "creating %d approvals...\n", total)
	ids := make([]string, total)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				st, body, err := c.do("POST", "/api/v1/approvals", map[string]any{"template_id": "bench", "initiator": "req", "form": map[string]any{"amount": i}}, "Prefer", "wait=30")
				if err != nil || st != 201 {
					failed.Add(1)
					continue
				}
				var r struct{ ID string }
				_ = json.Unmarshal(body, &r)
				ids[i] = r.ID
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		fmt.Fprintf(os.Stderr, "bench: %d submits failed\n", failed.Load())
		return exitFail
	}

	// The set-up waited for outcomes (Prefer: wait); the measured phases do
	// not, and measure an API no request waits on.
	time.Sleep(api.WaitersLinger + time.Second)

	// Outcomes are observed the way a subscriber sees them: on NATS.
	nc, err := nats.Connect(natsURL)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return exitFail
	}
	defer nc.Close()
	var mu sync.Mutex
	seen := map[string]time.Time{}
	evTime := map[string]time.Time{}
	arrived := make(chan struct{}, total)
	_, err = nc.Subscribe("evt.approval.instance.approved.>", func(m *nats.Msg) {
		var e events.Envelope
		if json.Unmarshal(m.Data, &e) != nil {
			return
		}
		mu.Lock()
		if _, dup := seen[e.Subject]; !dup {
			seen[e.Subject] = time.Now()
			evTime[e.Subject] = e.Time
			arrived <- struct{}{}
		}
		mu.Unlock()
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return exitFail
	}
	_ = nc.Flush()
	measured, err := newKeepAliveClient(c.base, c.token, 1024)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return exitFail
	}
	approveBody := []byte(`{"action":"approve","actor":"boss"}`)
	approve := func(id string) error {
		st, body, err := measured.post("/api/v1/approvals/"+id+"/actions", approveBody)
		if err != nil {
			return err
		}
		if st != 202 {
			return fmt.Errorf("approve: %d %s", st, body)
		}
		return nil
	}

	// The profile covers the measured phases, not the set-up.
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return exitUsage
	}
	defer stopProfile()
	if *memProfile != "" {
		if err := writeAllocsProfile(*memProfile + ".start"); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return exitUsage
		}
		defer func() {
			if err := writeAllocsProfile(*memProfile); err != nil {
				fmt.Fprintln(os.Stderr, "bench:", err)
			}
		}()
	}

	// Batches of approve actions: every item must be accepted.
	approveBatch := func(ids []string) int {
		items := make([]any, len(ids))
		for i, id := range ids {
			items[i] = map[string]any{"instance_id": id}
		}
		req, _ := json.Marshal(map[string]any{"actor": "boss", "items": items})
		st, body, err := measured.post("/api/v1/tasks:batch-approve", req)
		if err != nil || st != 200 {
			return len(ids)
		}
		var r struct{ Results []struct{ Status int } }
		if json.Unmarshal(body, &r) != nil || len(r.Results) != len(ids) {
			return len(ids)
		}
		bad := 0
		for _, res := range r.Results {
			if res.Status != 202 {
				bad++
			}
		}
		return bad
	}

	// Phase 1: as fast as the clients go.
	how := "one request per action"
	if *batch > 0 {
		how = fmt.Sprintf("batches of %d", *batch)
	}
	fmt.Fprintf(os.Stderr, "throughput: %d approvals with %d clients, %s...\n", *n, *clients, how)
	deliveries0, err := consumerDeliveries(ctx, nc)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return exitFail
	}
	lookups0 := stateLookups(c)
	start, cpu0 := time.Now(), sampleCPU()
	next.Store(0)
	step := max(1, *batch)
	for w := 0; w < *clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := (int(next.Add(1)) - 1) * step
				if i >= *n {
					return
				}
				if *batch > 0 {
					failed.Add(int64(approveBatch(ids[i:min(i+step, *n)])))
				} else if err := approve(ids[i]); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	accepted := time.Since(start)
	for i := 0; i < *n-int(failed.Load()); i++ {
		select {
		case <-arrived:
		case <-time.After(60 * time.Second):
			fmt.Fprintf(os.Stderr, "bench: only %d of %d outcomes arrived\n", i, *n)
			return exitFail
		}
	}
	elapsed := time.Since(start)
	fmt.Printf("throughput (%s): %d approve actions end to end in %s = %.0f actions/s (HTTP accepted at %.0f/s; %d failed)\n",
		how, *n, elapsed.Round(time.Millisecond), float64(*n)/elapsed.Seconds(), float64(*n)/accepted.Seconds(), failed.Load())
	fmt.Printf("  %s\n", cpu0.perAction(sampleCPU(), *n))
	lookups1 := stateLookups(c)
	fmt.Printf("  %s\n", lookups1.since(lookups0))

	// Phase 2 measures the steady rate, not the catch-up after phase 1: the
	// event consumers (webhook fan-out, re-plan) finish its backlog first.
	if err := waitConsumersIdle(ctx, nc, 60*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return exitFail
	}
	deliveries1, err := consumerDeliveries(ctx, nc)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return exitFail
	}
	var perConsumer []string
	for _, name := range slices.Sorted(maps.Keys(deliveries1)) {
		perConsumer = append(perConsumer, fmt.Sprintf("%s %.2f", name, float64(deliveries1[name]-deliveries0[name])/float64(*n)))
	}
	fmt.Printf("  JetStream deliveries per action: %s\n", strings.Join(perConsumer, ", "))
	// Phase 2: fixed rate, latency from send to outcome event.
	fmt.Fprintf(os.Stderr, "latency at %d actions/s for %s...\n", *rate, *dur)
	sent, acceptedAt := make([]time.Time, total), make([]time.Time, total)
	count := *rate * int(dur.Seconds())
	interval := time.Second / time.Duration(*rate)
	if *pgStats {
		if err := resetStatements(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "bench: pg_stat_statements:", err)
			return exitFail
		}
	}
	begin, cpu1 := time.Now(), sampleCPU()
	for k := 0; k < count; k++ {
		i := *n + k
		if d := time.Until(begin.Add(time.Duration(k) * interval)); d > 0 {
			time.Sleep(d)
		}
		sent[i] = time.Now()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := approve(ids[i]); err != nil {
				failed.Add(1)
			}
			acceptedAt[i] = time.Now()
		}()
	}
	wg.Wait()
	deadline := time.After(60 * time.Second)
	for got := 0; got < count; {
		select {
		case <-arrived:
			got++
		case <-deadline:
			got = count
		}
	}
	cpu2 := sampleCPU()
	var lat []time.Duration
	mu.Lock()
	for k := 0; k < count; k++ {
		i := *n + k
		if at, ok := seen["approvals/"+ids[i]]; ok {
			lat = append(lat, at.Sub(sent[i]))
		}
	}
	mu.Unlock()
	// Where the time goes: sent → command stamped by the API (its time,
	// which the worker gives the outcome event) → event received: the
	// command's publish, the worker's transaction and the event's publish.
	var stamped, delivered []time.Duration
	for k := 0; k < count; k++ {
		i := *n + k
		if at, ok := seen["approvals/"+ids[i]]; ok {
			stamped = append(stamped, evTime["approvals/"+ids[i]].Sub(sent[i]))
			delivered = append(delivered, at.Sub(evTime["approvals/"+ids[i]]))
		}
	}
	if *timeline != "" {
		if err := writeTimeline(*timeline, sent[*n:*n+count], acceptedAt[*n:*n+count], ids[*n:*n+count], seen, evTime); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return exitFail
		}
	}
	slices.Sort(stamped)
	slices.Sort(delivered)
	var acc []time.Duration
	for k := 0; k < count; k++ {
		acc = append(acc, acceptedAt[*n+k].Sub(sent[*n+k]))
	}
	slices.Sort(acc)
	slices.Sort(lat)
	fmt.Printf("latency at %d/s: %d actions, p50 %s, p90 %s, p99 %s, max %s (missing %d)\n", *rate, len(lat),
		percentile(lat, 0.5).Round(time.Microsecond*100), percentile(lat, 0.9).Round(time.Microsecond*100),
		percentile(lat, 0.99).Round(time.Microsecond*100), percentile(lat, 1).Round(time.Microsecond*100), count-len(lat))
	if gap, at := longestPause(seen, ids[*n:*n+count], begin); gap > 0 {
		fmt.Printf("  longest pause between outcomes: %s, %s into the phase\n", gap.Round(time.Millisecond), at.Round(10*time.Millisecond))
	}
	fmt.Printf("  HTTP 202 after p50 %s, p99 %s\n", percentile(acc, 0.5).Round(time.Microsecond*100), percentile(acc, 0.99).Round(time.Microsecond*100))
	fmt.Printf("  command stamped by the API after p50 %s, p99 %s; from there to the outcome event p50 %s, p99 %s\n",
		percentile(stamped, 0.5).Round(time.Microsecond*100), percentile(stamped, 0.99).Round(time.Microsecond*100),
		percentile(delivered, 0.5).Round(time.Microsecond*100), percentile(delivered, 0.99).Round(time.Microsecond*100))
	fmt.Printf("  %s\n", cpu1.perAction(cpu2, count))
	fmt.Printf("  %s\n", stateLookups(c).since(lookups1))
	if *pgStats {
		if err := printStatements(ctx, count); err != nil {
			fmt.Fprintln(os.Stderr, "bench: pg_stat_statements:", err)
		}
	}

	return exitOK
}

// waitConsumersIdle waits until no durable consumer of the streams has
// messages pending or awaiting acknowledgement.
// consumerInfos lists the durable consumers of the commands and events
// streams.
func consumerInfos(ctx context.Context, nc *nats.Conn) ([]*jetstream.ConsumerInfo, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	var out []*jetstream.ConsumerInfo
	for _, name := range []string{events.CommandsStream, events.EventsStream} {
		st, err := js.Stream(ctx, name)
		if err != nil {
			return nil, err
		}
		lister := st.ListConsumers(ctx)
		for ci := range lister.Info() {
			out = append(out, ci)
		}
		if err := lister.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// consumerDeliveries is how many messages each durable consumer has been
// handed so far.
func consumerDeliveries(ctx context.Context, nc *nats.Conn) (map[string]uint64, error) {
	infos, err := consumerInfos(ctx, nc)
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for _, ci := range infos {
		out[ci.Name] = ci.Delivered.Consumer
	}
	return out, nil
}

func waitConsumersIdle(ctx context.Context, nc *nats.Conn, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		infos, err := consumerInfos(ctx, nc)
		if err != nil {
			return err
		}
		busy := ""
		for _, ci := range infos {
			if ci.NumPending+uint64(ci.NumAckPending) > 0 {
				busy = ci.Name
			}
		}
		if busy == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("consumer %s still busy after %s", busy, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lookupCounts are approval_state_cache_lookups_total by "reader result".
type lookupCounts map[string]float64

var lookupLine = regexp.MustCompile(`^approval_state_cache_lookups_total\{reader="(\w+)",result="(\w+)"\} (\S+)$`)

// stateLookups reads the state cache counters from /metrics (nil when they
// cannot be read: the report then says so).
func stateLookups(c *benchClient) lookupCounts {
	st, body, err := c.do("GET", "/metrics", nil)
	if err != nil || st != 200 {
		return nil
	}
	out := lookupCounts{}
	for _, line := range strings.Split(string(body), "\n") {
		if m := lookupLine.FindStringSubmatch(line); m != nil {
			v, _ := strconv.ParseFloat(m[3], 64)
			out[m[1]+" "+m[2]] = v
		}
	}
	return out
}

// since reports the hit ratio of each reader between two readings: the
// numbers above depend on it, as every miss reads the instance back.
func (l lookupCounts) since(before lookupCounts) string {
	if l == nil || before == nil {
		return "approval state cache: lookups not readable from /metrics"
	}
	var parts []string
	for _, reader := range []string{"api", "worker"} {
		hit, miss := l[reader+" hit"]-before[reader+" hit"], l[reader+" miss"]-before[reader+" miss"]
		if hit+miss == 0 {
			parts = append(parts, reader+" no lookups")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.1f%% of %.0f", reader, 100*hit/(hit+miss), hit+miss))
	}
	return "approval state cache hits (APPROVAL_STATE_CACHE): " + strings.Join(parts, ", ")
}

// longestPause is the longest time no outcome arrived while the latency
// phase ran, and when it began: a stall of the pipeline shows here as one
// long pause rather than as many slow actions.
func longestPause(seen map[string]time.Time, ids []string, begin time.Time) (gap, at time.Duration) {
	var times []time.Time
	for _, id := range ids {
		if t, ok := seen["approvals/"+id]; ok {
			times = append(times, t)
		}
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(times); i++ {
		if d := times[i].Sub(times[i-1]); d > gap {
			gap, at = d, times[i-1].Sub(begin)
		}
	}
	return gap, at
}

// writeTimeline writes one CSV row per action of the latency phase, in
// send order, times in milliseconds after its send (empty when the outcome
// never arrived).
func writeTimeline(path string, sent, accepted []time.Time, ids []string, seen, stamped map[string]time.Time) error {
	var b strings.Builder
	b.WriteString("sent_unix_us,outcome_ms,stamped_ms,http_ms\n")
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 3, 64) }
	for i, id := range ids {
		out, st := "", ""
		if t, ok := seen["approvals/"+id]; ok {
			out, st = ms(t.Sub(sent[i])), ms(stamped["approvals/"+id].Sub(sent[i]))
		}
		fmt.Fprintf(&b, "%d,%s,%s,%s\n", sent[i].UnixMicro(), out, st, ms(accepted[i].Sub(sent[i])))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
