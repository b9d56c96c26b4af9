// Package api is the HTTP edge of shiftflow (chi): it authenticates,
// validates cheaply, publishes commands and reads state. Work (approvals,
// schedule runs) is applied by workers; the API writes only configuration
// (keys, people, templates, settings), each with its audit row and events.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/internal/config"
	"github.com/shiftflow/shiftflow/internal/metrics"
	"github.com/shiftflow/shiftflow/internal/netguard"
	"github.com/shiftflow/shiftflow/workers/approval"
	"github.com/shiftflow/shiftflow/workers/replan"
	"github.com/shiftflow/shiftflow/workers/replay"
)

// Deps are the API's collaborators.
type Deps struct {
	Config    *config.Config
	DB        *pgxpool.Pool
	NC        *nats.Conn
	JS        jetstream.JetStream
	Publisher *events.Publisher
	Metrics   *metrics.Metrics
	Log       *slog.Logger
	// ApprovalStates is the approval worker's state cache when the worker
	// runs in this process (nil otherwise: every check reads the database).
	ApprovalStates *approval.States
}

// Server is the HTTP handler of the API.
type Server struct {
	deps      Deps
	router    chi.Router
	keys      *keyCache
	limiter   *rateLimiter
	templates *approval.Templates
	waiters   *waiters
	// webhookPolicy is the SSRF guard applied to webhook URLs.
	webhookPolicy *netguard.Policy
	replayer      *replay.Replayer
	// replanner redoes a stale re-plan on the roster published now.
	replanner *replan.Handler
}

// New builds the router with every route and middleware.
func New(d Deps) *Server { return newServer(d, true) }

// NewOps serves only /health, /ready, /version and /metrics: worker
// processes expose it so they can be probed and scraped like the API.
func NewOps(d Deps) *Server { return newServer(d, false) }

func newServer(d Deps, withAPI bool) *Server {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	s := &Server{
		deps:      d,
		keys:      &keyCache{ttl: 10 * time.Second, entries: map[string]keyCacheEntry{}},
		limiter:   newRateLimiter(d.Config.RateLimitRPS, d.Config.RateLimitBurst),
		templates: approval.NewTemplates(d.Config.TemplateCacheTTL),
		waiters:   newWaiters(),
	}
	allow, _ := netguard.ParseCIDRs(d.Config.WebhookAllowCIDRs) // validated with the config
	s.replayer = &replay.Replayer{DB: d.DB, Publisher: d.Publisher}
	s.replanner = replan.FromConfig(d.DB, d.Publisher, d.Config)
	s.webhookPolicy = netguard.New(netguard.WithAllowedPrefixes(allow...), netguard.WithHTTPSOnly(d.Config.WebhookHTTPSOnly))
	r := chi.NewRouter()
	r.Use(s.observe, s.limitBody, requireText)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		problem(w, r, http.StatusNotFound, "no route for "+r.Method+" "+r.URL.Path+"; see /openapi.json")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		problem(w, r, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path)
	})

	r.Get("/health", s.health)
	r.Get("/ready", s.ready)
	r.Get("/version", s.version)
	if d.Metrics != nil {
		r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(d.Metrics.Registry, promhttp.HandlerOpts{Registry: d.Metrics.Registry}))
	}
	if !withAPI {
		s.router = r
		return s
	}
	r.Get("/openapi.json", s.openAPI)

	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.requireAuth, s.rateLimit, s.knownQuery)
		r.Route("/admin", func(r chi.Router) {
			r.Use(requireScope(ScopeAdmin))
			r.With(s.idempotent).Post("/keys", s.createKey)
			r.Get("/keys", s.listKeys)
			r.Delete("/keys/{id}", s.revokeKey)
		})
		for _, mount := range mounts {
			mount(s, r)
		}
	})
	s.router = r
	return s
}

// mounts lets each resource file add its routes under /api/v1.
var mounts []func(s *Server, r chi.Router)

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// Router exposes the routes (the OpenAPI coverage test walks them).
func (s *Server) Router() chi.Router { return s.router }

// StartPoolMetrics updates the database_connections_* gauges until ctx ends.
func StartPoolMetrics(ctx context.Context, pool *pgxpool.Pool, m *metrics.Metrics) {
	update := func() {
		st := pool.Stat()
		m.DBConnsActive.Set(float64(st.AcquiredConns()))
		m.DBConnsIdle.Set(float64(st.IdleConns()))
		m.DBConnsMax.Set(float64(st.MaxConns()))
	}
	update()
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				update()
			}
		}
	}()
}
