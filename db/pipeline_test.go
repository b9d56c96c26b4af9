package db_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestPipelineKeepsOrderAndSurfacesErrors(t *testing.T) {
	pool := testenv.Postgres(t)
	ctx := context.Background()
	err := db.InTx(ctx, pool, func(tx pgx.Tx, _ *dbsqlc.Queries) error {
		p := db.NewPipeline(tx)
		d, q := dbsqlc.New(p.Deferred()), dbsqlc.New(p.Immediate())
		if _, err := d.UpsertOrg(ctx, dbsqlc.UpsertOrgParams{ID: "unused", Name: "x"}); err != nil {
			// UpsertOrg is a query: it runs at once even through Deferred.
			return err
		}
		if err := d.InsertAuditLog(ctx, dbsqlc.InsertAuditLogParams{Actor: "a", Action: "first", ResourceType: "t", ResourceID: "1", Details: []byte(`{}`)}); err != nil {
			return err
		}
		if err := d.InsertAuditLog(ctx, dbsqlc.InsertAuditLogParams{Actor: "a", Action: "second", ResourceType: "t", ResourceID: "2", Details: []byte(`{}`)}); err != nil {
			return err
		}
		if p.Pending() != 2 {
			t.Fatalf("pending = %d, want 2 queued", p.Pending())
		}
		// The next query sees the queued writes (same round trip, in order).
		rows, err := q.ListAuditLogs(ctx, dbsqlc.ListAuditLogsParams{MaxRows: 10})
		if err != nil {
			return err
		}
		if len(rows) != 2 || rows[0].Action != "first" || rows[1].Action != "second" {
			t.Fatalf("rows after flush-with-query = %+v", rows)
		}
		if _, err := q.GetOrg(ctx, "no-such-org"); !errors.Is(err, pgx.ErrNoRows) {
			t.Fatalf("QueryRow with no row = %v, want pgx.ErrNoRows", err)
		}
		// Immediate Exec reports real row counts, after what is queued.
		if err := d.InsertAuditLog(ctx, dbsqlc.InsertAuditLogParams{Actor: "a", Action: "third", ResourceType: "t", ResourceID: "3", Details: []byte(`{}`)}); err != nil {
			return err
		}
		n, err := q.DeleteExpiredIdempotencyKeys(ctx)
		if err != nil || n != 0 || p.Pending() != 0 {
			t.Fatalf("immediate exec: n=%d err=%v pending=%d", n, err, p.Pending())
		}
		return p.Flush(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	var count int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM audit_logs").Scan(&count); err != nil || count != 3 {
		t.Fatalf("committed rows = %d (%v), want 3", count, err)
	}

	// A failing deferred statement fails the next send, and the transaction.
	err = db.InTx(ctx, pool, func(tx pgx.Tx, _ *dbsqlc.Queries) error {
		p := db.NewPipeline(tx)
		d := dbsqlc.New(p.Deferred())
		_ = d.InsertEvent(ctx, dbsqlc.InsertEventParams{OrgID: "x", Type: "a.b.c", Source: "s", Subject: "s", Data: []byte(`{}`)}) // zero id twice: conflict
		_ = d.InsertEvent(ctx, dbsqlc.InsertEventParams{OrgID: "x", Type: "a.b.c", Source: "s", Subject: "s", Data: []byte(`{}`)})
		return p.Flush(ctx)
	})
	if !db.IsUniqueViolation(err) {
		t.Fatalf("deferred error = %v, want the unique violation", err)
	}
}
