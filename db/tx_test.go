package db_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/internal/testenv"
)

// roundTrips counts what a connection sends to the server: each query or
// batch outside a batch is one round trip.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	if ctx.Value(inBatch{}) == nil {
		r.n.Add(1)
	}
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return context.WithValue(ctx, inBatch{}, true)
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

type inBatch struct{}

func tracedPool(t *testing.T) (*pgxpool.Pool, *roundTrips) {
	t.Helper()
	url := testenv.PostgresURL(t)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	rt := &roundTrips{}
	cfg.ConnConfig.Tracer = rt
	cfg.MaxConns = 1 // every transaction reuses one connection: a leaked transaction would show
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	// Warm the statement cache so preparing does not count.
	if _, err := pool.Exec(context.Background(), "select 1"); err != nil {
		t.Fatal(err)
	}
	return pool, rt
}

func audit(action string) dbsqlc.InsertAuditLogParams {
	return dbsqlc.InsertAuditLogParams{Actor: "a", Action: action, ResourceType: "t", ResourceID: "1", Details: []byte(`{}`)}
}

func countAudit(t *testing.T, pool *pgxpool.Pool, action string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_logs WHERE action = $1", action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTxReadThenWriteInTwoRoundTrips(t *testing.T) {
	pool, rt := tracedPool(t)
	ctx := context.Background()
	run := func() {
		tx, err := db.Begin(ctx, pool)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		d, q := dbsqlc.New(tx.Pipeline().Deferred()), dbsqlc.New(tx)
		if err := d.InsertAuditLog(ctx, audit("lazy")); err != nil {
			t.Fatal(err)
		}
		// The read goes out with BEGIN and the queued write, and sees it.
		rows, err := q.ListAuditLogs(ctx, dbsqlc.ListAuditLogsParams{MaxRows: 1000})
		if err != nil {
			t.Fatal(err)
		}
		seen := false
		for _, r := range rows {
			seen = seen || r.Action == "lazy"
		}
		if !seen {
			t.Fatal("the queued write is not visible to the next read")
		}
		if err := d.InsertAuditLog(ctx, audit("lazy")); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(ctx); !errors.Is(err, pgx.ErrTxClosed) {
			t.Fatalf("rollback after commit = %v, want ErrTxClosed", err)
		}
	}
	run() // prepares the statements once
	before := rt.n.Load()
	run()
	if got := rt.n.Load() - before; got != 2 {
		t.Fatalf("read-then-write transaction took %d round trips, want 2", got)
	}
	if n := countAudit(t, pool, "lazy"); n != 4 {
		t.Fatalf("committed rows = %d, want 4", n)
	}
}

func TestTxFailuresRollBackAndFreeTheConnection(t *testing.T) {
	pool, _ := tracedPool(t)
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(tx *db.Tx) error
	}{
		{"deferred statement fails at commit", func(tx *db.Tx) error {
			d := dbsqlc.New(tx.Pipeline().Deferred())
			_ = d.InsertAuditLog(ctx, audit("doomed"))
			_, _ = tx.Pipeline().Deferred().Exec(ctx, "SELECT 1/0")
			return tx.Commit(ctx)
		}},
		{"query fails, commit refused", func(tx *db.Tx) error {
			_ = dbsqlc.New(tx.Pipeline().Deferred()).InsertAuditLog(ctx, audit("doomed"))
			if _, err := tx.Exec(ctx, "SELECT 1/0"); err == nil {
				t.Fatal("division by zero did not fail")
			}
			return tx.Commit(ctx)
		}},
		{"explicit rollback", func(tx *db.Tx) error {
			_ = dbsqlc.New(tx.Pipeline().Deferred()).InsertAuditLog(ctx, audit("doomed"))
			if _, err := tx.Exec(ctx, "SELECT 1"); err != nil {
				t.Fatal(err)
			}
			if err := tx.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
			return errors.New("rolled back")
		}},
		{"rollback before anything was sent", func(tx *db.Tx) error {
			_ = dbsqlc.New(tx.Pipeline().Deferred()).InsertAuditLog(ctx, audit("doomed"))
			_ = tx.Rollback(ctx)
			return errors.New("rolled back")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := db.Begin(ctx, pool)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.run(tx); err == nil {
				t.Fatal("the transaction reported success")
			}
			if _, err := tx.Exec(ctx, "SELECT 1"); !errors.Is(err, pgx.ErrTxClosed) {
				t.Fatalf("use after the end = %v, want ErrTxClosed", err)
			}
			if n := countAudit(t, pool, "doomed"); n != 0 {
				t.Fatalf("%d rows of a failed transaction were committed", n)
			}
			// The only connection is back in the pool, outside any transaction.
			c, err := pool.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Release()
			if st := c.Conn().PgConn().TxStatus(); st != 'I' {
				t.Fatalf("pool connection after the failure has transaction status %q", st)
			}
		})
	}
}

// A batch update queued with the commit still enforces the optimistic lock:
// one stale version fails the whole transaction with SQLSTATE 40001.
func TestUpdateInstancesFailsOnALostLock(t *testing.T) {
	pool := testenv.Postgres(t)
	ctx := context.Background()
	q := dbsqlc.New(pool)
	if _, err := q.UpsertOrg(ctx, dbsqlc.UpsertOrgParams{ID: "acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	a, b := uuid.New(), uuid.New()
	if _, err := q.InsertInstances(ctx, dbsqlc.InsertInstancesParams{
		Ids: []uuid.UUID{a, b}, OrgIds: []string{"acme", "acme"}, TemplateIds: []string{"t", "t"}, TemplateVersions: []int32{1, 1},
		Initiators: []string{"x", "x"}, Statuses: []string{"running", "running"}, States: [][]byte{[]byte("{}"), []byte("{}")},
		Versions: []int32{1, 1}, Created: []time.Time{now, now}, Updated: []time.Time{now, now}, Finished: []time.Time{{}, {}},
	}); err != nil {
		t.Fatal(err)
	}
	update := func(oldB int32) error {
		tx, err := db.Begin(ctx, pool)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if err := dbsqlc.New(tx.Pipeline().Deferred()).UpdateInstances(ctx, dbsqlc.UpdateInstancesParams{
			Ids: []uuid.UUID{a, b}, Statuses: []string{"approved", "approved"}, States: [][]byte{[]byte("{}"), []byte("{}")},
			Versions: []int32{2, oldB + 1}, OldVersions: []int32{1, oldB}, Updated: []time.Time{now, now}, Finished: []time.Time{now, now},
		}); err != nil {
			t.Fatal(err) // queued: nothing is sent yet
		}
		return tx.Commit(ctx)
	}
	var pgErr *pgconn.PgError
	if err := update(7); !errors.As(err, &pgErr) || pgErr.Code != "40001" {
		t.Fatalf("stale version: err = %v, want SQLSTATE 40001", err)
	}
	var approved int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM approval_instances WHERE status = 'approved'").Scan(&approved); err != nil || approved != 0 {
		t.Fatalf("after the lost lock %d instances changed (%v), want none", approved, err)
	}
	if err := update(1); err != nil {
		t.Fatalf("current versions: %v", err)
	}
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM approval_instances WHERE status = 'approved' AND version = 2").Scan(&approved); err != nil || approved != 2 {
		t.Fatalf("after the update %d instances approved (%v), want 2", approved, err)
	}
}

// SkipCommitFlush applies to its own transaction only.
func TestTxSkipCommitFlush(t *testing.T) {
	pool, _ := tracedPool(t)
	ctx := context.Background()
	// The test server runs without fsync; its one connection waits for flushes.
	if _, err := pool.Exec(ctx, "set synchronous_commit = on"); err != nil {
		t.Fatal(err)
	}
	setting := func(skip bool) string {
		tx, err := db.Begin(ctx, pool)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if skip {
			tx.SkipCommitFlush()
		}
		var v string
		if err := tx.QueryRow(ctx, "show synchronous_commit").Scan(&v); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := setting(true); v != "off" {
		t.Fatalf("synchronous_commit = %q in a transaction that skips the flush", v)
	}
	// The pool has one connection: the next transaction runs on it.
	if v := setting(false); v != "on" {
		t.Fatalf("synchronous_commit = %q after it, want on", v)
	}
}
