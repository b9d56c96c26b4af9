package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The approvals benchmark runs end to end on a small load: every action's
// outcome event arrives, in both phases (its numbers are measured by hand;
// here only that it works), with the statements and the WAL PostgreSQL
// wrote per action.
func TestBenchApprovalsRuns(t *testing.T) {
	// benchEnv configures the process through the environment: restore it.
	for _, k := range []string{"DATABASE_URL", "NATS_URL", "NATS_STORE_DIR", "NATS_EMBEDDED_PORT", "APP_PORT", "ADMIN_ADDR",
		"ADMIN_TOKEN", "LOG_LEVEL", "RATE_LIMIT_RPS", "RATE_LIMIT_BURST", "DB_MAX_CONNS"} {
		if v, ok := os.LookupEnv(k); ok {
			t.Setenv(k, v)
		} else {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	run := func(args ...string) string {
		t.Helper()
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout := os.Stdout
		os.Stdout = w
		outc := make(chan string)
		go func() { b, _ := io.ReadAll(r); outc <- string(b) }()
		code := runBenchApprovals(context.Background(), args)
		os.Stdout = stdout
		w.Close()
		out := <-outc
		if code != exitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, out)
		}
		return out
	}
	// Through the batch endpoint: 60 actions in batches of 25, 25 and 10,
	// with the allocation profiles written (gzipped protobuf).
	mem := filepath.Join(t.TempDir(), "allocs.pprof")
	if out := run("-n", "60", "-clients", "2", "-batch", "25", "-duration", "0s", "-durable=false", "-memprofile", mem); !regexp.MustCompile(`throughput \(batches of 25\): 60 approve actions end to end .*; 0 failed\)`).MatchString(out) {
		t.Fatalf("no complete batched throughput phase in:\n%s", out)
	}
	for _, f := range []string{mem + ".start", mem} {
		if b, err := os.ReadFile(f); err != nil || len(b) < 100 || b[0] != 0x1f || b[1] != 0x8b {
			t.Fatalf("allocation profile %s: %d bytes, %v", f, len(b), err)
		}
	}
	if code := runBenchApprovals(context.Background(), []string{"-pg", "no-equals-sign"}); code != exitUsage {
		t.Fatalf("-pg without name=value: exit %d", code)
	}
	timeline := filepath.Join(t.TempDir(), "timeline.csv")
	out := run("-n", "60", "-clients", "4", "-rate", "50", "-duration", "1s", "-durable=false", "-pgstats",
		"-timeline", timeline, "-pg", "log_min_duration_statement=10000")
	if m := regexp.MustCompile(`throughput \(one request per action\): 60 approve actions end to end .*; 0 failed\)`).FindString(out); m == "" {
		t.Fatalf("no complete throughput phase in:\n%s", out)
	}
	// Each approve is one command delivery; the re-planner takes only leave
	// and swap requests, and with no webhook endpoint the fan-out is handed
	// nothing.
	if !strings.Contains(out, "JetStream deliveries per action: approval 1.00, replan 0.00, schedule 0.00, webhook 0.00") {
		t.Fatalf("deliveries per action not as expected in:\n%s", out)
	}
	// Every approve looks its state up once in the API (and the worker).
	if !regexp.MustCompile(`approval state cache hits \(APPROVAL_STATE_CACHE\): api [\d.]+% of 60, worker [\d.]+% of \d+\n`).MatchString(out) {
		t.Fatalf("no state cache report for the throughput phase in:\n%s", out)
	}
	m := regexp.MustCompile(`latency at 50/s: (\d+) actions, .*\(missing (\d+)\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no latency phase in:\n%s", out)
	}
	if n, _ := strconv.Atoi(m[1]); n != 50 || m[2] != "0" {
		t.Fatalf("latency phase observed %s outcomes, %s missing:\n%s", m[1], m[2], out)
	}
	if !regexp.MustCompile(`longest pause between outcomes: \d+ms, [\d.]+m?s into the phase`).MatchString(out) {
		t.Fatalf("no longest pause in:\n%s", out)
	}
	rows, err := os.ReadFile(timeline)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(rows)), "\n")
	if len(lines) != 51 || lines[0] != "sent_unix_us,outcome_ms,stamped_ms,http_ms" {
		t.Fatalf("timeline: %d lines, header %q", len(lines), lines[0])
	}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) != 4 || f[1] == "" {
			t.Fatalf("timeline row %q: want four fields with the outcome", l)
		}
	}
	// Both phases report their allocations; an action decodes, stores and
	// forwards JSON, so it allocates something.
	allocs := regexp.MustCompile(`allocated ([0-9.]+) KB in (\d+) objects per action`).FindAllStringSubmatch(out, -1)
	if len(allocs) != 2 {
		t.Fatalf("want the allocations of both phases in:\n%s", out)
	}
	for _, a := range allocs {
		if kb, _ := strconv.ParseFloat(a[1], 64); kb <= 0 || a[2] == "0" {
			t.Fatalf("allocations per action %s KB, %s objects:\n%s", a[1], a[2], out)
		}
	}
	wal := regexp.MustCompile(`WAL per action: ([0-9.]+) records, (\d+) bytes`).FindStringSubmatch(out)
	if wal == nil {
		t.Fatalf("no WAL line in:\n%s", out)
	}
	if r, _ := strconv.ParseFloat(wal[1], 64); r < 1 {
		t.Fatalf("%s WAL records per action: every action commits at least one write:\n%s", wal[1], out)
	}
	if !regexp.MustCompile(`(?m)^  UpdateInstances +\d`).MatchString(out) {
		t.Fatalf("the worker's UpdateInstances is not among the statements:\n%s", out)
	}
}
