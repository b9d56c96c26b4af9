package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/internal/config"
	"github.com/shiftflow/shiftflow/internal/logging"
	"github.com/shiftflow/shiftflow/internal/metrics"
	"github.com/shiftflow/shiftflow/internal/natslocal"
	"github.com/shiftflow/shiftflow/workers"
	"github.com/shiftflow/shiftflow/workers/approval"
)

// app holds a process's shared resources.
type app struct {
	cfg      *config.Config
	log      *slog.Logger
	metrics  *metrics.Metrics
	db       *pgxpool.Pool
	nc       *nats.Conn
	js       jetstream.JetStream
	embedded *server.Server
	closers  []func()
	// approvalStates is set when this process runs the approval pool; its
	// API then shares the pool's state cache.
	approvalStates *approval.States
	// forwarder publishes what this process's pools commit (nil: off).
	forwarder *events.Forwarder
}

// loadConfig reads the environment; a bad value is a usage error (exit 2).
func loadConfig() (*config.Config, int) {
	cfg, err := config.Load()
	if err != nil {
		fmt.Fprintf(os.Stderr, "shiftflow: configuration error:\n")
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(os.Stderr, "  %s\n", line)
		}
		return nil, exitUsage
	}
	return cfg, exitOK
}

// newApp loads config and opens the logger and database; withNATS also
// connects to NATS (starting the embedded server when NATS_URL is empty)
// and declares the streams.
func newApp(ctx context.Context, withNATS bool) (*app, int) { return newAppWith(ctx, withNATS, true) }

// newClientApp is for CLI commands that talk to a running deployment: with
// NATS_URL empty it connects to the embedded server of a local `shiftflow
// all` instead of starting a second one on the same store.
func newClientApp(ctx context.Context) (*app, int) { return newAppWith(ctx, true, false) }

func newAppWith(ctx context.Context, withNATS, mayEmbed bool) (*app, int) {
	cfg, code := loadConfig()
	if cfg == nil {
		return nil, code
	}
	log, closeLog, err := logging.New(logging.Options{Level: cfg.LogLevel, Format: cfg.LogFormat, File: cfg.LogFile})
	if err != nil {
		fmt.Fprintf(os.Stderr, "shiftflow: LOG_FILE: %v\n", err)
		return nil, exitUsage
	}
	slog.SetDefault(log)
	a := &app{cfg: cfg, log: log, metrics: metrics.New()}
	for _, setup := range appSetups {
		setup(a)
	}
	a.closers = append(a.closers, func() { _ = closeLog() })
	a.db, err = db.Open(ctx, db.PoolConfig{
		URL: cfg.PostgresURL(), MaxConns: cfg.DBMaxConns, MinConns: cfg.DBMinConns,
		MaxConnLifetime: cfg.DBMaxConnLifetime, MaxConnIdleTime: cfg.DBMaxConnIdleTime,
	})
	if err != nil {
		log.Error("database unavailable", "error", err)
		a.close()
		return nil, exitFail
	}
	a.closers = append(a.closers, a.db.Close)
	if withNATS {
		if err := a.connectNATS(ctx, mayEmbed); err != nil {
			log.Error("NATS unavailable", "error", err)
			a.close()
			return nil, exitFail
		}
	}
	return a, exitOK
}

func (a *app) connectNATS(ctx context.Context, mayEmbed bool) error {
	opts := []nats.Option{
		nats.Name("shiftflow"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				a.log.Warn("NATS disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { a.log.Info("NATS reconnected", "url", nc.ConnectedUrlRedacted()) }),
	}
	url := a.cfg.NATSURL
	if url == "" && !mayEmbed {
		url = fmt.Sprintf("nats://127.0.0.1:%d", a.cfg.NATSEmbeddedPort)
	} else if url == "" {
		if err := os.MkdirAll(a.cfg.NATSStoreDir, 0o755); err != nil {
			return err
		}
		s, err := natslocal.Start(natslocal.Options{StoreDir: a.cfg.NATSStoreDir, Port: a.cfg.NATSEmbeddedPort})
		if err != nil {
			return err
		}
		a.embedded = s
		a.closers = append(a.closers, func() { s.Shutdown(); s.WaitForShutdown() })
		url = s.ClientURL()
		opts = append(opts, nats.InProcessServer(s))
		a.log.Info("embedded NATS JetStream server started", "url", url, "store", a.cfg.NATSStoreDir)
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return fmt.Errorf("connect %s: %w", url, err)
	}
	a.nc = nc
	// Runs before the embedded server's shutdown (closers run in reverse).
	a.closers = append(a.closers, func() { _ = nc.Drain(); waitClosed(nc, 5*time.Second) })
	if a.js, err = jetstream.New(nc); err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return events.EnsureStreams(sctx, a.js, events.StreamOptions{
		Replicas: a.cfg.NATSReplicas, EventsMaxAge: a.cfg.EventsMaxAge, DuplicateWindow: a.cfg.NATSDuplicateWindow,
	})
}

func waitClosed(nc *nats.Conn, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for !nc.IsClosed() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	nc.Close()
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// appSetups run on every new app (e.g. pre-initialising a domain's metric series).
var appSetups []func(a *app)

// component is a long-running part of a process (a worker pool, the relay).
type component struct {
	name string
	run  func(ctx context.Context) error
}

// poolFactories builds the worker pools by name; each domain registers its
// pool from its own file.
var poolFactories = map[string]func(a *app) *workers.Pool{}

func registerPool(name string, f func(a *app) *workers.Pool) {
	if _, dup := poolFactories[name]; dup {
		panic("duplicate pool " + name)
	}
	poolFactories[name] = f
}

func init() {
	registerPool("dead-letters", func(a *app) *workers.Pool {
		return &workers.Pool{
			Spec: workers.DeadLetterConsumer, Concurrency: 2, Handler: workers.DeadLetterHandler(a.db, a.js),
			DB: a.db, JS: a.js, Metrics: a.metrics, Log: a.log, ShutdownTimeout: a.cfg.ShutdownTimeout,
		}
	})
}

// componentFactories builds components that are not pools (schedulers).
var componentFactories = map[string]func(a *app) component{}

func registerComponent(name string, f func(a *app) component) {
	if _, dup := componentFactories[name]; dup {
		panic("duplicate component " + name)
	}
	componentFactories[name] = f
}

// poolNames lists the registered pools and components plus the relay, sorted.
func poolNames() []string {
	names := []string{"relay"}
	for n := range poolFactories {
		names = append(names, n)
	}
	for n := range componentFactories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// components builds the selected pools (all when names is empty).
func (a *app) components(names []string) ([]component, error) {
	if len(names) == 0 {
		names = poolNames()
	}
	var out []component
	var poolsDone sync.WaitGroup
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		if n == "relay" {
			r := &events.Relay{Pool: a.db, JS: a.js, Metrics: a.metrics, Log: a.log.With("component", "relay"), PollInterval: a.cfg.OutboxPollInterval}
			out = append(out, component{name: "relay", run: r.Run})
			continue
		}
		if cf, ok := componentFactories[n]; ok {
			out = append(out, cf(a))
			continue
		}
		f, ok := poolFactories[n]
		if !ok {
			return nil, fmt.Errorf("unknown pool %q (known: %s)", n, strings.Join(poolNames(), ", "))
		}
		p := f(a)
		if a.cfg.OutboxForwardGrace > 0 {
			if a.forwarder == nil {
				a.forwarder = &events.Forwarder{Pool: a.db, JS: a.js, Metrics: a.metrics, Log: a.log.With("component", "forwarder"), Grace: a.cfg.OutboxForwardGrace}
				out = append(out, component{name: "forwarder", run: func(ctx context.Context) error {
					// It stops after the pools, which commit in-flight work
					// while they shut down.
					fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
					defer cancel()
					go func() { <-ctx.Done(); poolsDone.Wait(); cancel() }()
					return a.forwarder.Run(fctx)
				}})
			}
			p.Forwarder = a.forwarder
		}
		poolsDone.Add(1)
		out = append(out, component{name: n, run: func(ctx context.Context) error { defer poolsDone.Done(); return p.Run(ctx) }})
	}
	return out, nil
}

// portFree reports whether nothing accepts connections on addr.
func portFree(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
	if err != nil {
		return true
	}
	c.Close()
	return false
}

var errShutdownTimeout = errors.New("shutdown timeout")
