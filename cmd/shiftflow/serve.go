package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shiftflow/shiftflow/api"
	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
)

func init() {
	register(command{name: "all", summary: "run the API, every worker pool and the outbox relay (embedded NATS when NATS_URL is empty)", run: runAll})
	register(command{name: "api", summary: "run the HTTP API only", run: runAPI})
	register(command{name: "worker", summary: "run worker pools: shiftflow worker --pools approval,schedule,relay", run: runWorker})
}

func runAll(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("all", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	return serve(ctx, true, nil, nil)
}

func runAPI(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	return serve(ctx, true, []string{}, nil)
}

func runWorker(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	pools := fs.String("pools", "", "comma-separated pools to run (default: all of "+strings.Join(poolNames(), ", ")+")")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	var names []string
	if *pools != "" {
		names = strings.Split(*pools, ",")
		for _, n := range names {
			if !slices.Contains(poolNames(), strings.TrimSpace(n)) {
				fmt.Fprintf(os.Stderr, "shiftflow worker: --pools: unknown pool %q (known: %s)\n", n, strings.Join(poolNames(), ", "))
				return exitUsage
			}
		}
	}
	return serve(ctx, false, names, nil)
}

// serve runs a process: the API when withAPI, and the named components
// (nil = all, empty = none). ready, when set, receives the API's address.
// On cancellation (SIGTERM) it stops accepting work, drains in-flight
// messages within SHUTDOWN_TIMEOUT and returns 0.
func serve(ctx context.Context, withAPI bool, pools []string, ready func(addr string)) int {
	a, code := newApp(ctx, true)
	if a == nil {
		return code
	}
	defer a.close()
	if current, err := db.MigrationsCurrent(ctx, a.db); err != nil {
		a.log.Error("cannot read migration state", "error", err)
		return exitFail
	} else if !current {
		a.log.Warn("database migrations are pending: run `shiftflow migrate up`; /ready answers 503 until then")
	}

	var comps []component
	if pools == nil || len(pools) > 0 {
		var err error
		if comps, err = a.components(pools); err != nil {
			fmt.Fprintln(os.Stderr, "shiftflow:", err)
			return exitUsage
		}
	}

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go reportOutbox(runCtx, a)
	api.StartPoolMetrics(runCtx, a.db, a.metrics)

	var wg sync.WaitGroup
	failed := make(chan string, len(comps)+2)
	for _, c := range comps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.log.Info("component started", "component", c.name)
			if err := c.run(runCtx); err != nil {
				a.log.Error("component stopped with error", "component", c.name, "error", err)
				failed <- c.name
			}
		}()
	}

	var httpSrv *http.Server
	{
		deps := api.Deps{Config: a.cfg, DB: a.db, NC: a.nc, JS: a.js,
			Publisher: events.NewPublisher(a.js, a.metrics), Metrics: a.metrics, Log: a.log, ApprovalStates: a.approvalStates}
		// Worker processes serve the ops endpoints only, for probes and scraping.
		handler := api.NewOps(deps)
		if withAPI {
			full := api.New(deps)
			if err := full.Start(runCtx); err != nil {
				a.log.Error("cannot subscribe to events", "error", err)
				stopRun()
				wg.Wait()
				return exitFail
			}
			handler = full
		}
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(a.cfg.AppPort))
		if err != nil {
			a.log.Error("cannot listen", "port", a.cfg.AppPort, "error", err)
			stopRun()
			wg.Wait()
			return exitFail
		}
		httpSrv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
		go func() {
			if err := httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.log.Error("http server failed", "error", err)
				failed <- "api"
			}
		}()
		a.log.Info("HTTP listening", "addr", ln.Addr().String(), "api", withAPI)
		if ready != nil {
			ready(ln.Addr().String())
		}
	}
	adminSrv := startAdmin(a)

	exit := exitOK
	select {
	case <-ctx.Done():
		a.log.Info("shutting down: draining in-flight work", "timeout", a.cfg.ShutdownTimeout.String())
	case name := <-failed:
		a.log.Error("a component failed; shutting down", "component", name)
		exit = exitFail
	}
	deadline, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if httpSrv != nil {
		if err := httpSrv.Shutdown(deadline); err != nil {
			a.log.Warn("http shutdown incomplete", "error", err)
			exit = exitFail
		}
	}
	if adminSrv != nil {
		_ = adminSrv.Close()
	}
	stopRun()
	wg.Wait()
	select {
	case name := <-failed:
		a.log.Error("component did not stop cleanly", "component", name)
		exit = exitFail
	default:
	}
	a.log.Info("stopped", "exit_code", exit)
	return exit
}

// reportOutbox keeps outbox_pending_events current.
func reportOutbox(ctx context.Context, a *app) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if n, err := dbsqlc.New(a.db).CountPendingEvents(ctx); err == nil {
			a.metrics.OutboxPending.Set(float64(n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// startAdmin serves pprof on ADMIN_ADDR only (loopback by default), never
// on the public port.
func startAdmin(a *app) *http.Server {
	if a.cfg.AdminAddr == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: a.cfg.AdminAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", a.cfg.AdminAddr)
	if err != nil {
		a.log.Warn("pprof listener disabled", "addr", a.cfg.AdminAddr, "error", err)
		return nil
	}
	go func() { _ = srv.Serve(ln) }()
	a.log.Info("pprof listening", "addr", ln.Addr().String())
	return srv
}
