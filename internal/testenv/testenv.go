// Package testenv gives tests real infrastructure with nothing installed as
// a service: one private PostgreSQL server per test binary (a fresh database
// per test, cloned from a migrated template) and embedded JetStream servers.
//
// Packages that use it call testenv.Main from TestMain so the server stops
// when the tests end.
package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/internal/natslocal"
	"github.com/shiftflow/shiftflow/internal/pglocal"
)

const templateDB = "shiftflow_template"

var (
	pgOnce   sync.Once
	pgServer *pglocal.Server
	pgDir    string
	pgErr    error
	createMu sync.Mutex
	dbCount  atomic.Int64
)

// Main runs the tests and stops the shared PostgreSQL server afterwards.
func Main(m *testing.M) {
	code := m.Run()
	if pgServer != nil {
		_ = pgServer.Stop()
		_ = os.RemoveAll(pgDir)
	}
	os.Exit(code)
}

func startPostgres() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pgDir, pgErr = os.MkdirTemp("", "shiftflow-pg-")
	if pgErr != nil {
		return
	}
	// The server may run as the postgres user, which must reach the data dir.
	if pgErr = os.Chmod(pgDir, 0o755); pgErr != nil {
		return
	}
	pgServer, pgErr = pglocal.Start(ctx, pglocal.Options{DataDir: filepath.Join(pgDir, "data")})
	if pgErr != nil {
		return
	}
	if pgErr = pgServer.CreateDatabase(ctx, templateDB, ""); pgErr != nil {
		return
	}
	pool, err := db.Open(ctx, db.PoolConfig{URL: pgServer.URL(templateDB), MaxConns: 2})
	if err != nil {
		pgErr = err
		return
	}
	_, pgErr = db.MigrateUp(ctx, pool)
	pool.Close()
}

// PostgresURL creates a fresh, fully migrated database for this test and
// returns its URL; the database is dropped when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	pgOnce.Do(startPostgres)
	if pgErr != nil {
		t.Fatalf("testenv: postgres: %v", pgErr)
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbCount.Add(1))
	createMu.Lock()
	err := pgServer.CreateDatabase(context.Background(), name, templateDB)
	createMu.Unlock()
	if err != nil {
		t.Fatalf("testenv: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		pool, err := pgxpool.New(ctx, pgServer.URL("postgres"))
		if err != nil {
			return
		}
		defer pool.Close()
		_, _ = pool.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
	})
	return pgServer.URL(name)
}

// Postgres returns a pool on a fresh migrated database for this test.
func Postgres(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := db.Open(context.Background(), db.PoolConfig{URL: PostgresURL(t), MaxConns: 20})
	if err != nil {
		t.Fatalf("testenv: open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// NATSServer is an embedded JetStream server owned by one test.
type NATSServer struct {
	*server.Server
	StoreDir string
	Port     int
	t        testing.TB
}

// NATS starts an embedded JetStream server with its own store for this test.
func NATS(t testing.TB) *NATSServer {
	t.Helper()
	port, err := pglocal.FreePort()
	if err != nil {
		t.Fatalf("testenv: port: %v", err)
	}
	ns := &NATSServer{StoreDir: t.TempDir(), Port: port, t: t}
	ns.start()
	t.Cleanup(func() {
		if ns.Server != nil {
			ns.Shutdown()
			ns.WaitForShutdown()
		}
	})
	return ns
}

func (ns *NATSServer) start() {
	s, err := natslocal.Start(natslocal.Options{StoreDir: ns.StoreDir, Port: ns.Port})
	if err != nil {
		ns.t.Fatalf("testenv: nats: %v", err)
	}
	ns.Server = s
}

// Restart shuts the server down and starts a new one on the same port and
// store, as an operator restarting NATS would.
func (ns *NATSServer) Restart() {
	ns.Shutdown()
	ns.WaitForShutdown()
	ns.start()
}

// URL is the client URL of the server.
func (ns *NATSServer) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", ns.Port) }

// Connect opens a client connection that reconnects forever, closed at cleanup.
func (ns *NATSServer) Connect(t testing.TB) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(ns.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatalf("testenv: nats connect: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("testenv: jetstream: %v", err)
	}
	return nc, js
}
