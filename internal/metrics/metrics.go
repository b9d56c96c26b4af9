// Package metrics defines every Prometheus series shiftflow exports. Names
// match the seed systems' manuals so existing dashboards and alerts work.
package metrics

import (
	"regexp"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Outcomes of a consumed message, pre-initialised for every consumer.
var Outcomes = []string{"success", "duplicate", "retry", "terminated", "dead_letter"}

// Metrics holds the collectors; one instance per process (tests make their own).
type Metrics struct {
	Registry *prometheus.Registry

	HTTPRequests        *prometheus.CounterVec
	HTTPRequestDuration *prometheus.HistogramVec
	// Approval Gin's names for the same measurements, kept so its users'
	// alerts (HighErrorRate, HighLatency) keep working unchanged.
	APIRequests        *prometheus.CounterVec
	APIRequestDuration *prometheus.HistogramVec

	DBConnsActive prometheus.Gauge
	DBConnsIdle   prometheus.Gauge
	DBConnsMax    prometheus.Gauge

	CommandsPublished *prometheus.CounterVec
	EventsPublished   *prometheus.CounterVec
	EventsLeftToRelay prometheus.Counter
	EventsProcessed   *prometheus.CounterVec
	EventDuration     *prometheus.HistogramVec
	ConsumerPending   *prometheus.GaugeVec
	OutboxPending     prometheus.Gauge
	FailedEvents      *prometheus.CounterVec

	// Approvals (Approval Gin's tasks_created_total plus outcomes and action latency).
	TasksCreated           prometheus.Counter
	ApprovalInstances      *prometheus.CounterVec
	ApprovalActionDuration *prometheus.HistogramVec
	ApprovalStateLookups   *prometheus.CounterVec

	// Webhooks.
	WebhookDeliveries        *prometheus.CounterVec
	WebhookDeliveryDuration  prometheus.Histogram
	WebhookEndpointsDisabled prometheus.Gauge

	CleanupDeleted *prometheus.CounterVec

	// Scheduling (Paiban's names).
	ScheduleGenerations   *prometheus.CounterVec
	ScheduleDuration      prometheus.Histogram
	ConstraintEvaluations prometheus.Counter
}

// ScheduleStatuses are the outcomes of a solver run; "error" matches the
// Paiban alert ScheduleGenerationFailed.
var ScheduleStatuses = []string{"success", "error", "cancelled"}

// ApprovalOutcomes are the terminal outcomes of an approval instance.
var ApprovalOutcomes = []string{"approved", "rejected", "withdrawn", "cancelled"}

// ApprovalActions are the commands the approval engine applies.
var ApprovalActions = []string{"submit", "approve", "reject", "transfer", "delegate", "add_signer", "remove_signer",
	"withdraw", "resubmit", "urge", "comment", "cancel", "timeout", "remind"}

// New registers every metric, plus the Go and process collectors, on a fresh registry.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "HTTP requests by method, route pattern and status code.",
		}, []string{"method", "route", "status"}),
		HTTPRequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "HTTP request latency by method and route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		APIRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "api_requests_total", Help: "Same as http_requests_total (Approval Gin's name).",
		}, []string{"method", "route", "status"}),
		APIRequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "api_request_duration_seconds", Help: "Same as http_request_duration_seconds (Approval Gin's name).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		DBConnsActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "database_connections_active", Help: "Pool connections in use.",
		}),
		DBConnsIdle: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "database_connections_idle", Help: "Idle pool connections.",
		}),
		DBConnsMax: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "database_connections_max", Help: "Maximum pool size (DB_MAX_CONNS).",
		}),
		CommandsPublished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "commands_published_total", Help: "Commands published to the COMMANDS stream by type.",
		}, []string{"type"}),
		EventsPublished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "events_published_total", Help: "Domain events published (by a worker's forwarder or the outbox relay), by type.",
		}, []string{"type"}),
		EventsLeftToRelay: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "events_forward_overflow_total", Help: "Committed events the forwarder's queue had no room for; the outbox relay publishes them after OUTBOX_FORWARD_GRACE.",
		}),
		EventsProcessed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "events_processed_total", Help: "Messages handled by worker pools, by consumer and outcome.",
		}, []string{"consumer", "outcome"}),
		EventDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "event_processing_duration_seconds", Help: "Handler time per message, commit included.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"consumer"}),
		ConsumerPending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "consumer_pending_messages", Help: "Messages waiting for a durable consumer (not yet delivered plus awaiting ack).",
		}, []string{"consumer"}),
		OutboxPending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "outbox_pending_events", Help: "Committed events not yet published to NATS.",
		}),
		FailedEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "failed_events_total", Help: "Messages moved to failed_events (dead letters), by consumer.",
		}, []string{"consumer"}),
		TasksCreated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tasks_created_total", Help: "Approval tasks created (inbox items).",
		}),
		ApprovalInstances: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "approval_instances_total", Help: "Approval instances that finished, by outcome.",
		}, []string{"outcome"}),
		ApprovalActionDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "approval_action_duration_seconds", Help: "Time to apply one approval command in the worker, by action.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"action"}),
		ApprovalStateLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "approval_state_cache_lookups_total", Help: "Reads of the in-memory approval state cache (APPROVAL_STATE_CACHE) by reader (api, worker) and result (hit, miss); a miss reads the instance from PostgreSQL.",
		}, []string{"reader", "result"}),
		WebhookDeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhook_deliveries_total", Help: "Webhook delivery attempts by outcome (success, retry, dead, gone, disabled, blocked).",
		}, []string{"status"}),
		WebhookDeliveryDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "webhook_delivery_duration_seconds", Help: "Time from sending a webhook request to its response.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15},
		}),
		WebhookEndpointsDisabled: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "webhook_endpoints_disabled", Help: "Endpoints disabled for failing (or 410 Gone).",
		}),
		CleanupDeleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cleanup_deleted_rows_total", Help: "Rows deleted by the retention cleanup, by table.",
		}, []string{"table"}),
		ScheduleGenerations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "schedule_generations_total", Help: "Solver runs by outcome (success, error, cancelled).",
		}, []string{"status"}),
		ScheduleDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "schedule_generation_duration_seconds", Help: "Time from the start of a solve to its stored result.",
			Buckets: []float64{.1, .5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600},
		}),
		ConstraintEvaluations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "constraint_evaluations_total", Help: "Moves the solver evaluated against the constraints.",
		}),
	}
	for _, s := range ScheduleStatuses {
		m.ScheduleGenerations.WithLabelValues(s)
	}
	for _, o := range ApprovalOutcomes {
		m.ApprovalInstances.WithLabelValues(o)
	}
	for _, a := range ApprovalActions {
		m.ApprovalActionDuration.WithLabelValues(a)
	}
	for _, reader := range []string{"api", "worker"} {
		m.ApprovalStateLookups.WithLabelValues(reader, "hit")
		m.ApprovalStateLookups.WithLabelValues(reader, "miss")
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(m.all()...)
	return m
}

// all lists shiftflow's own collectors.
func (m *Metrics) all() []prometheus.Collector {
	return []prometheus.Collector{
		m.HTTPRequests, m.HTTPRequestDuration, m.APIRequests, m.APIRequestDuration,
		m.DBConnsActive, m.DBConnsIdle, m.DBConnsMax,
		m.CommandsPublished, m.EventsPublished, m.EventsLeftToRelay, m.EventsProcessed, m.EventDuration,
		m.ConsumerPending, m.OutboxPending, m.FailedEvents,
		m.TasksCreated, m.ApprovalInstances, m.ApprovalActionDuration, m.ApprovalStateLookups,
		m.WebhookDeliveries, m.WebhookDeliveryDuration, m.WebhookEndpointsDisabled,
		m.CleanupDeleted, m.ScheduleGenerations, m.ScheduleDuration, m.ConstraintEvaluations,
	}
}

// InitConsumer creates every series of a consumer at zero so rate() works from the first scrape.
func (m *Metrics) InitConsumer(consumer string) {
	for _, o := range Outcomes {
		m.EventsProcessed.WithLabelValues(consumer, o)
	}
	m.EventDuration.WithLabelValues(consumer)
	m.ConsumerPending.WithLabelValues(consumer)
	m.FailedEvents.WithLabelValues(consumer)
}

// InitEventTypes creates events_published_total series for known event types.
func (m *Metrics) InitEventTypes(types ...string) {
	for _, t := range types {
		m.EventsPublished.WithLabelValues(t)
	}
}

// InitCommandTypes creates commands_published_total series for known command types.
func (m *Metrics) InitCommandTypes(types ...string) {
	for _, t := range types {
		m.CommandsPublished.WithLabelValues(t)
	}
}

var fqNamePattern = regexp.MustCompile(`fqName: "([^"]+)"`)

// Names lists every metric family the registry can expose (histograms
// contribute their _bucket, _sum and _count series), for checking that
// alert rules and dashboards only use metrics that exist.
func (m *Metrics) Names() []string {
	ch := make(chan *prometheus.Desc, 256)
	go func() {
		for _, c := range []prometheus.Collector{
			collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		} {
			c.Describe(ch)
		}
		for _, c := range m.all() {
			c.Describe(ch)
		}
		close(ch)
	}()
	var names []string
	for d := range ch {
		if mm := fqNamePattern.FindStringSubmatch(d.String()); mm != nil {
			names = append(names, mm[1])
		}
	}
	return names
}
