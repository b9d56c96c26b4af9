package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// cpuSample is CPU time used so far by this process and by every PostgreSQL
// process on the machine (the bench's private server), so a phase can be
// reported as CPU per action on each side; and this process's heap
// allocations and GC cycles, which unlike CPU time do not vary with the
// machine's speed from one run to the next.
type cpuSample struct {
	self, postgres time.Duration
	allocBytes     uint64
	allocObjects   uint64
	gcCycles       uint64
}

var allocMetrics = []string{"/gc/heap/allocs:bytes", "/gc/heap/allocs:objects", "/gc/cycles/total:gc-cycles"}

func sampleCPU() cpuSample {
	var s cpuSample
	ms := make([]metrics.Sample, len(allocMetrics))
	for i, name := range allocMetrics {
		ms[i].Name = name
	}
	metrics.Read(ms)
	s.allocBytes, s.allocObjects, s.gcCycles = ms[0].Value.Uint64(), ms[1].Value.Uint64(), ms[2].Value.Uint64()
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15), counted after ")".
		line := string(b)
		open, end := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
		if open < 0 || end < open || line[open+1:end] != "postgres" {
			continue
		}
		f := strings.Fields(line[end+1:])
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		s.postgres += time.Duration(ut+st) * (time.Second / 100) // USER_HZ
	}
	return s
}

// perAction formats the CPU used between two samples per action.
func (s cpuSample) perAction(later cpuSample, n int) string {
	if n <= 0 {
		return ""
	}
	self := (later.self - s.self) / time.Duration(n)
	pg := (later.postgres - s.postgres) / time.Duration(n)
	return "CPU per action: shiftflow " + self.Round(time.Microsecond).String() + ", PostgreSQL " + pg.Round(time.Microsecond).String() +
		fmt.Sprintf("; shiftflow allocated %.1f KB in %.0f objects per action, %d GC cycles",
			float64(later.allocBytes-s.allocBytes)/1024/float64(n), float64(later.allocObjects-s.allocObjects)/float64(n), later.gcCycles-s.gcCycles)
}

// benchPGSettings are extra settings for the bench's private PostgreSQL.
var benchPGSettings map[string]string

// resetStatements starts counting statements (bench -pgstats).
func resetStatements(ctx context.Context) error {
	c, err := pgx.Connect(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		return err
	}
	if _, err := c.Exec(ctx, "SELECT pg_stat_reset_shared('wal')"); err != nil {
		return err
	}
	_, err = c.Exec(ctx, "SELECT pg_stat_statements_reset()")
	return err
}

// printStatements shows what PostgreSQL ran per action since the reset:
// executions (round trips, mostly) and rows, busiest first.
func printStatements(ctx context.Context, actions int) error {
	c, err := pgx.Connect(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	// The write-ahead log written per action: what each commit must flush
	// (and what a standby would replay).
	var walRecords, walFPI, walBytes, walSyncs float64
	if err := c.QueryRow(ctx, `SELECT wal_records, wal_fpi, wal_bytes, wal_sync FROM pg_stat_wal`).Scan(&walRecords, &walFPI, &walBytes, &walSyncs); err != nil {
		return err
	}
	a := float64(actions)
	fmt.Printf("  WAL per action: %.1f records, %.0f bytes, %.2f full-page images; %.2f WAL flushes per action\n",
		walRecords/a, walBytes/a, walFPI/a, walSyncs/a)
	rows, err := c.Query(ctx, `SELECT calls, rows, total_exec_time, coalesce(substring(query FROM '-- name: (\S+)'), left(regexp_replace(query, '\s+', ' ', 'g'), 60))
		FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC LIMIT 15`)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Printf("  %-34s %9s %9s %9s\n", "statement", "calls/act", "rows/act", "ms/act")
	for rows.Next() {
		var calls, n int64
		var ms float64
		var name string
		if err := rows.Scan(&calls, &n, &ms, &name); err != nil {
			return err
		}
		fmt.Printf("  %-34s %9.2f %9.2f %9.3f\n", name, float64(calls)/a, float64(n)/a, ms/a)
	}
	return rows.Err()
}
