package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/internal/testenv"
)

// TestApprovedLeaveBackfill: the migration that adds approved_leave fills it
// with the leave approved before it, and with nothing else.
func TestApprovedLeaveBackfill(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	for { // back to just before migration 7, however many follow it
		v, err := db.MigrateDown(ctx, pool)
		if err != nil || v < 7 {
			t.Fatalf("migrating down: rolled back %d, %v", v, err)
		}
		if v == 7 {
			break
		}
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO orgs (id, name) VALUES ('acme', 'Acme') ON CONFLICT DO NOTHING`)
	for _, tmpl := range [][2]string{{"leave", "leave"}, {"expense", ""}} {
		exec(`INSERT INTO approval_templates (org_id, id, version, name, kind, definition, created_by) VALUES ('acme', $1, 1, $1, $2, '{}', 't')`, tmpl[0], tmpl[1])
	}
	now := time.Now()
	instance := func(tmpl, status, form string) uuid.UUID {
		id := uuid.New()
		exec(`INSERT INTO approval_instances (id, org_id, template_id, template_version, initiator, status, state, version, created_at, updated_at, finished_at)
			VALUES ($1, 'acme', $2, 1, 'ben', $3, $4, 1, $5, $5, $5)`, id, tmpl, status, []byte(`{"form": `+form+`}`), now)
		return id
	}
	leave := instance("leave", "approved", `{"person": "ben", "from_date": "2027-01-04", "to_date": "2027-01-05"}`)
	instance("leave", "running", `{"person": "cai", "from_date": "2027-01-04", "to_date": "2027-01-05"}`)
	instance("leave", "approved", `{"person": "dan", "from_date": "soon", "to_date": "2027-01-05"}`)
	instance("expense", "approved", `{"person": "eva", "from_date": "2027-01-04", "to_date": "2027-01-05"}`)
	if _, err := db.MigrateUp(ctx, pool); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT approval_id, person, from_date::text, to_date::text FROM approved_leave`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id uuid.UUID
		var person, from, to string
		if err := rows.Scan(&id, &person, &from, &to); err != nil {
			t.Fatal(err)
		}
		if id != leave {
			t.Errorf("approval %s backfilled", id)
		}
		got = append(got, person+" "+from+" "+to)
	}
	if len(got) != 1 || got[0] != "ben 2027-01-04 2027-01-05" {
		t.Fatalf("approved_leave after the migration: %v, want ben's leave only", got)
	}
}
