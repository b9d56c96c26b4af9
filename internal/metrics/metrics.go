// Package metrics defines every Prometheus series shiftflow exports. Names
// match the seed systems' manuals so existing dashboards and alerts work.
package metrics

import (
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

	DBConnsActive prometheus.Gauge
	DBConnsIdle   prometheus.Gauge
	DBConnsMax    prometheus.Gauge

	CommandsPublished *prometheus.CounterVec
	EventsPublished   *prometheus.CounterVec
	EventsProcessed   *prometheus.CounterVec
	EventDuration     *prometheus.HistogramVec
	ConsumerPending   *prometheus.GaugeVec
	OutboxPending     prometheus.Gauge
	FailedEvents      *prometheus.CounterVec
}

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
			Name: "events_published_total", Help: "Domain events published by the outbox relay, by type.",
		}, []string{"type"}),
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
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.HTTPRequests, m.HTTPRequestDuration,
		m.DBConnsActive, m.DBConnsIdle, m.DBConnsMax,
		m.CommandsPublished, m.EventsPublished, m.EventsProcessed, m.EventDuration,
		m.ConsumerPending, m.OutboxPending, m.FailedEvents,
	)
	return m
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
