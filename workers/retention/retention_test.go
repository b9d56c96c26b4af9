package retention

import (
	"context"
	"testing"
	"time"

	"github.com/shiftflow/shiftflow/internal/metrics"
	"github.com/shiftflow/shiftflow/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestCleanupDeletesOnlyWhatThePolicySays(t *testing.T) {
	pool := testenv.Postgres(t)
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	old, recent := time.Now().Add(-100*24*time.Hour), time.Now().Add(-time.Hour)
	for i, at := range []time.Time{old, old, recent} {
		exec(`INSERT INTO events (id, org_id, type, source, subject, time, data, status, created_at)
		      VALUES (gen_random_uuid(), 'acme', 'a.b.c', 's', 's', now(), '{}', 'published', $1)`, at)
		_ = i
	}
	// A pending event is the outbox: never deleted, however old.
	exec(`INSERT INTO events (id, org_id, type, source, subject, time, data, status, created_at)
	      VALUES (gen_random_uuid(), 'acme', 'a.b.c', 's', 's', now(), '{}', 'pending', $1)`, old)
	exec(`INSERT INTO audit_logs (actor, action, resource_type, resource_id, created_at) VALUES ('a', 'x', 't', '1', $1), ('a', 'x', 't', '2', $2)`, old, recent)
	for i, st := range []string{"resolved", "discarded", "open"} {
		exec(`INSERT INTO failed_events (id, consumer, stream, stream_seq, message_id, subject, headers, payload, reason, last_error,
		      attempts, first_failed_at, last_failed_at, status, created_at)
		      VALUES (gen_random_uuid(), 'c', 'S', $1, 'm', 's', '{}', '', 'terminated', 'e', 1, now(), now(), $2, $3)`, i+1, st, old)
	}
	exec(`INSERT INTO processed_messages (consumer, message_id, processed_at) VALUES ('c', 'old', $1), ('c', 'new', $2)`, old, recent)

	m := metrics.New()
	c := &Cleaner{DB: pool, Metrics: m, Policy: Policy{Events: 30 * 24 * time.Hour, Audit: 90 * 24 * time.Hour,
		DeadLetters: 30 * 24 * time.Hour, Processed: 7 * 24 * time.Hour, Deliveries: 30 * 24 * time.Hour, BatchSize: 1}}
	dry, err := c.RunOnce(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"events": 2, "audit_logs": 1, "failed_events": 2, "processed_messages": 1}
	for table, n := range want {
		if dry[table] != n {
			t.Fatalf("dry run %s = %d, want %d (all: %v)", table, dry[table], n, dry)
		}
	}
	var before int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&before)
	if before != 4 {
		t.Fatalf("the dry run deleted rows: %d events left", before)
	}
	got, err := c.RunOnce(ctx, false) // batch size 1: several batches per table
	if err != nil {
		t.Fatal(err)
	}
	for table, n := range want {
		if got[table] != n {
			t.Fatalf("deleted %s = %d, want %d", table, got[table], n)
		}
	}
	var pending, open int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE status = 'pending'`).Scan(&pending)
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM failed_events WHERE status = 'open'`).Scan(&open)
	if pending != 1 || open != 1 {
		t.Fatalf("pending events %d, open dead letters %d: both must survive", pending, open)
	}
	if v := testCounter(m, "events"); v != 2 {
		t.Fatalf("cleanup_deleted_rows_total{table=events} = %v", v)
	}
}

// Only one process cleans at a time.
func TestCleanupTakesTheLock(t *testing.T) {
	pool := testenv.Postgres(t)
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(727274001)`); err != nil {
		t.Fatal(err)
	}
	c := &Cleaner{DB: pool, Policy: Policy{Events: time.Hour, Audit: time.Hour, DeadLetters: time.Hour, Processed: time.Hour, Deliveries: time.Hour}}
	if _, err := c.RunOnce(ctx, false); err != ErrLocked {
		t.Fatalf("RunOnce while another holds the lock = %v, want ErrLocked", err)
	}
}
