package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/internal/metrics"
	"github.com/shiftflow/shiftflow/internal/netguard"
	"github.com/shiftflow/shiftflow/webhook"
	"github.com/shiftflow/shiftflow/workers"
)

// DefaultSchedule: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
var DefaultSchedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// Delivery outcomes, the status label of webhook_deliveries_total.
const (
	OutcomeSuccess  = "success"
	OutcomeRetry    = "retry"
	OutcomeDead     = "dead"
	OutcomeGone     = "gone"
	OutcomeDisabled = "disabled"
	OutcomeBlocked  = "blocked"
)

// Outcomes lists every status label.
var Outcomes = []string{OutcomeSuccess, OutcomeRetry, OutcomeDead, OutcomeGone, OutcomeDisabled, OutcomeBlocked}

// Sender posts due deliveries. Several senders may run: deliveries are
// leased with SKIP LOCKED, and a lease that ends without a result (a crashed
// sender) makes the delivery due again. Receivers deduplicate by webhook-id.
type Sender struct {
	DB           *pgxpool.Pool
	Client       *http.Client
	Schedule     []time.Duration
	Concurrency  int
	DisableAfter time.Duration
	Metrics      *metrics.Metrics
	Log          *slog.Logger
	PollInterval time.Duration
	// Lease bounds how long a claimed delivery stays with this sender.
	Lease time.Duration

	// successes are recorded in batches by one writer.
	successes chan success
}

type success struct {
	j   job
	res result
	at  time.Time
}

// NewClient builds the delivery HTTP client: SSRF-guarded, no redirects.
func NewClient(policy *netguard.Policy, timeout time.Duration, concurrency int) *http.Client {
	return policy.NewHTTPClient(netguard.WithTimeout(timeout), netguard.WithIdleConnsPerHost(max(concurrency, 16)))
}

func (s *Sender) defaults() {
	if len(s.Schedule) == 0 {
		s.Schedule = DefaultSchedule
	}
	if s.Concurrency < 1 {
		s.Concurrency = 32
	}
	if s.DisableAfter <= 0 {
		s.DisableAfter = 5 * 24 * time.Hour
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	if s.PollInterval <= 0 {
		s.PollInterval = time.Second
	}
	if s.Lease <= 0 {
		s.Lease = 2 * time.Minute
	}
}

// Run sends until ctx ends, then waits for requests in flight.
func (s *Sender) Run(ctx context.Context) error {
	s.defaults()
	if s.Metrics != nil {
		for _, o := range Outcomes {
			s.Metrics.WebhookDeliveries.WithLabelValues(o)
		}
	}
	wake := make(chan struct{}, 1)
	go db.Listen(ctx, s.DB, "webhook_due", wake, s.Log)
	go s.reportDisabled(ctx)
	done := make(chan struct{}, s.Concurrency)
	var inflight sync.WaitGroup
	busy := 0
	ticker := time.NewTicker(s.PollInterval)
	defer ticker.Stop()
	// Requests in flight finish even after ctx ends (they are bounded by
	// the client timeout) so their results are recorded.
	workCtx := context.WithoutCancel(ctx)
	s.successes = make(chan success, 4*s.Concurrency)
	writerDone := make(chan struct{})
	go func() { defer close(writerDone); s.writeSuccesses(workCtx) }()
	defer func() { close(s.successes); <-writerDone }()
	for ctx.Err() == nil {
		for drained := false; !drained; {
			select {
			case <-done:
				busy--
			default:
				drained = true
			}
		}
		if free := s.Concurrency - busy; free > 0 {
			jobs, err := s.claim(ctx, free)
			if err != nil && ctx.Err() == nil {
				s.Log.Warn("claiming webhook deliveries failed", "error", err)
			}
			for _, j := range jobs {
				busy++
				inflight.Add(1)
				go func() {
					defer inflight.Done()
					s.deliver(workCtx, j)
					done <- struct{}{}
				}()
			}
			if len(jobs) == free {
				continue
			}
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-ticker.C:
		case <-done:
			busy--
		}
	}
	inflight.Wait()
	return nil
}

type job struct {
	delivery dbsqlc.ClaimDueDeliveriesRow
	event    *dbsqlc.GetEventsByIDRow
	endpoint *dbsqlc.WebhookEndpoint
}

func (s *Sender) claim(ctx context.Context, n int) ([]job, error) {
	rows, err := dbsqlc.New(s.DB).ClaimDueDeliveries(ctx, dbsqlc.ClaimDueDeliveriesParams{MaxRows: int32(n), LeaseSeconds: s.Lease.Seconds()})
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	eventIDs := make([]uuid.UUID, 0, len(rows))
	endpointIDs := make([]uuid.UUID, 0, len(rows))
	for _, r := range rows {
		eventIDs = append(eventIDs, r.EventID)
		endpointIDs = append(endpointIDs, r.EndpointID)
	}
	q := dbsqlc.New(s.DB)
	evs, err := q.GetEventsByID(ctx, eventIDs)
	if err != nil {
		return nil, err
	}
	eps, err := q.GetWebhookEndpointsByID(ctx, endpointIDs)
	if err != nil {
		return nil, err
	}
	byEvent := map[uuid.UUID]*dbsqlc.GetEventsByIDRow{}
	for i := range evs {
		byEvent[evs[i].ID] = &evs[i]
	}
	byEndpoint := map[uuid.UUID]*dbsqlc.WebhookEndpoint{}
	for i := range eps {
		byEndpoint[eps[i].ID] = &eps[i]
	}
	jobs := make([]job, 0, len(rows))
	for _, r := range rows {
		jobs = append(jobs, job{delivery: r, event: byEvent[r.EventID], endpoint: byEndpoint[r.EndpointID]})
	}
	return jobs, nil
}

// result is what one attempt produced.
type result struct {
	status     *int32
	latency    time.Duration
	err        string
	retryAfter time.Duration
	outcome    string
}

func (s *Sender) deliver(ctx context.Context, j job) {
	d := j.delivery
	log := s.Log.With("endpoint", d.EndpointID, "event_id", d.EventID, "attempt", d.Attempts)
	if j.event == nil || j.endpoint == nil {
		s.finish(ctx, j, result{err: "the event or endpoint no longer exists", outcome: OutcomeDisabled}, "failed", nil)
		return
	}
	if !j.endpoint.Enabled {
		s.finish(ctx, j, result{err: "the endpoint is disabled", outcome: OutcomeDisabled}, "failed", nil)
		return
	}
	res := s.post(ctx, j)
	if s.Metrics != nil {
		s.Metrics.WebhookDeliveryDuration.Observe(res.latency.Seconds())
	}
	switch res.outcome {
	case OutcomeSuccess:
		if j.endpoint.FailingSince == nil && !d.ReplayedFrom.Valid && s.successes != nil {
			s.successes <- success{j: j, res: res, at: time.Now().UTC()}
			return
		}
		s.finish(ctx, j, res, "succeeded", nil)
		if j.endpoint.FailingSince != nil {
			if err := dbsqlc.New(s.DB).MarkEndpointHealthy(ctx, d.EndpointID); err != nil {
				log.Warn("cannot clear endpoint failure state", "error", err)
			}
		}
	case OutcomeGone:
		s.finish(ctx, j, res, "failed", nil)
		s.disable(ctx, j.endpoint, "the endpoint answered 410 Gone")
	default:
		k := int(d.Attempts)
		if k >= len(s.Schedule) {
			res.outcome = OutcomeDead
			s.finish(ctx, j, res, "dead", nil)
			s.deadLetter(ctx, j, res)
		} else {
			delay := jitter(s.Schedule[k])
			if res.retryAfter > 0 {
				delay = res.retryAfter
			}
			next := time.Now().Add(delay)
			if res.outcome != OutcomeBlocked {
				res.outcome = OutcomeRetry
			}
			s.finish(ctx, j, res, "pending", &next)
		}
		_ = dbsqlc.New(s.DB).RecordMessageFailure(ctx, dbsqlc.RecordMessageFailureParams{
			Consumer: "webhook:" + d.EndpointID.String(), MessageID: d.EventID.String(), Attempt: d.Attempts, Error: res.err})
		since, err := dbsqlc.New(s.DB).MarkEndpointFailing(ctx, d.EndpointID)
		if err == nil && time.Since(since) >= s.DisableAfter {
			s.disable(ctx, j.endpoint, fmt.Sprintf("every delivery failed for %s", s.DisableAfter))
		}
	}
}

// post sends one signed request.
func (s *Sender) post(ctx context.Context, j job) result {
	e := events.Envelope{
		SpecVersion: events.SpecVersion, ID: j.event.ID.String(), Source: j.event.Source, Type: j.event.Type,
		Subject: j.event.Subject, Time: j.event.Time.UTC(), DataContentType: "application/json", OrgID: j.event.OrgID, Data: j.event.Data,
	}
	body, err := json.Marshal(e)
	if err != nil {
		return result{err: err.Error(), outcome: OutcomeRetry}
	}
	secrets := []string{j.endpoint.Secret}
	if j.endpoint.PreviousSecret != nil && j.endpoint.PreviousExpiresAt != nil && time.Now().Before(*j.endpoint.PreviousExpiresAt) {
		secrets = append(secrets, *j.endpoint.PreviousSecret)
	}
	now := time.Now()
	sig, err := webhook.Sign(secrets, e.ID, now, body)
	if err != nil {
		return result{err: "signing: " + err.Error(), outcome: OutcomeRetry}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.endpoint.Url, bytes.NewReader(body))
	if err != nil {
		return result{err: err.Error(), outcome: OutcomeRetry}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "shiftflow-webhooks/1")
	req.Header.Set(webhook.HeaderID, e.ID)
	req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(webhook.HeaderSignature, sig)
	start := time.Now()
	resp, err := s.Client.Do(req)
	latency := time.Since(start)
	if err != nil {
		var blocked *netguard.BlockedError
		if errors.As(err, &blocked) {
			return result{latency: latency, err: "refused by the SSRF guard: " + blocked.Error(), outcome: OutcomeBlocked}
		}
		return result{latency: latency, err: err.Error(), outcome: OutcomeRetry}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	code := int32(resp.StatusCode)
	res := result{status: &code, latency: latency}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		res.outcome = OutcomeSuccess
	case resp.StatusCode == http.StatusGone:
		res.outcome, res.err = OutcomeGone, "410 Gone"
	default:
		res.outcome, res.err = OutcomeRetry, fmt.Sprintf("answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			res.err += " (redirects are not followed)"
		}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			res.retryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
	}
	return res
}

// writeSuccesses records successful deliveries many at a time: a batch is
// written when it is full or 5 ms after its first entry.
func (s *Sender) writeSuccesses(ctx context.Context) {
	var batch []success
	flush := func() {
		if len(batch) == 0 {
			return
		}
		var p dbsqlc.RecordDeliveriesSucceededParams
		for _, b := range batch {
			p.EndpointIds = append(p.EndpointIds, b.j.delivery.EndpointID)
			p.EventIds = append(p.EventIds, b.j.delivery.EventID)
			p.AttemptedAt = append(p.AttemptedAt, b.at)
			p.StatusCodes = append(p.StatusCodes, *b.res.status)
			p.LatenciesMs = append(p.LatenciesMs, int32(b.res.latency.Milliseconds()))
		}
		if err := dbsqlc.New(s.DB).RecordDeliveriesSucceeded(ctx, p); err != nil {
			s.Log.Warn("recording a batch of deliveries failed; recording one by one", "error", err)
			for _, b := range batch {
				s.finish(ctx, b.j, b.res, "succeeded", nil)
			}
		} else if s.Metrics != nil {
			s.Metrics.WebhookDeliveries.WithLabelValues(OutcomeSuccess).Add(float64(len(batch)))
		}
		batch = batch[:0]
	}
	var timer <-chan time.Time
	for {
		select {
		case sc, ok := <-s.successes:
			if !ok {
				flush()
				return
			}
			batch = append(batch, sc)
			if len(batch) == 1 {
				timer = time.After(5 * time.Millisecond)
			}
			if len(batch) >= 256 {
				flush()
				timer = nil
			}
		case <-timer:
			flush()
			timer = nil
		}
	}
}

// retryAfter reads delay-seconds or an HTTP date, capped at a day.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d < 0 {
		return 0
	}
	return min(d, 24*time.Hour)
}

// jitter spreads a retry delay by ±10 %.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}

func (s *Sender) finish(ctx context.Context, j job, res result, status string, next *time.Time) {
	var errText *string
	if res.err != "" {
		errText = &res.err
	}
	err := dbsqlc.New(s.DB).RecordDeliveryAttempt(ctx, dbsqlc.RecordDeliveryAttemptParams{
		EndpointID: j.delivery.EndpointID, EventID: j.delivery.EventID, AttemptedAt: time.Now().UTC(),
		StatusCode: res.status, LatencyMs: int32(res.latency.Milliseconds()), Error: errText, NextAttemptAt: next, Status: status,
	})
	if err != nil {
		s.Log.Error("cannot record webhook attempt; it will be retried when its lease ends", "error", err, "endpoint", j.delivery.EndpointID, "event_id", j.delivery.EventID)
	}
	if s.Metrics != nil {
		s.Metrics.WebhookDeliveries.WithLabelValues(res.outcome).Inc()
	}
	if j.delivery.ReplayedFrom.Valid && (status == "succeeded" || status == "dead" || status == "failed") {
		outcome := "applied"
		if status != "succeeded" {
			outcome = "failed_again"
		}
		if err := dbsqlc.New(s.DB).RecordReplayOutcome(ctx, dbsqlc.RecordReplayOutcomeParams{
			Consumer: "webhook:" + j.delivery.EndpointID.String(), MessageID: j.delivery.EventID.String(), Outcome: outcome}); err != nil {
			s.Log.Warn("cannot record the outcome of a replayed delivery", "error", err)
		}
	}
}

// deadLetter moves an exhausted delivery to failed_events (consumer
// "webhook:<endpoint id>"); replaying it sends it again.
func (s *Sender) deadLetter(ctx context.Context, j job, res result) {
	e := events.Envelope{SpecVersion: events.SpecVersion, ID: j.event.ID.String(), Source: j.event.Source, Type: j.event.Type,
		Subject: j.event.Subject, Time: j.event.Time.UTC(), DataContentType: "application/json", OrgID: j.event.OrgID, Data: j.event.Data}
	body, _ := json.Marshal(e)
	seq, err := s.streamSeq(ctx, j.event)
	if err != nil {
		s.Log.Error("cannot record webhook dead letter: the event's stream sequence is unknown", "error", err, "event_id", j.event.ID)
		return
	}
	if _, err := workers.RecordDeadLetter(ctx, s.DB, workers.DeadLetter{
		Consumer: "webhook:" + j.endpoint.ID.String(), Stream: events.EventsStream, StreamSeq: seq, MessageID: j.event.ID.String(),
		Subject: events.EventSubject(j.event.Type, j.event.OrgID), Header: map[string][]string{"Webhook-Endpoint": {j.endpoint.ID.String()}},
		Payload: body, Reason: "max_deliver", LastError: res.err, Attempts: int(j.delivery.Attempts),
	}); err != nil {
		s.Log.Error("cannot record webhook dead letter", "error", err)
		return
	}
	if s.Metrics != nil {
		s.Metrics.FailedEvents.WithLabelValues("webhook").Inc()
	}
}

// streamSeq is the event's EVENTS stream sequence, which (with the endpoint)
// identifies a webhook dead letter. The fan-out saw the event on the stream,
// but the relay may not have committed its mark yet: a delivery that fails at
// once can get here first, so wait for the mark (two dead letters recorded
// with an unknown sequence 0 would collide and one would be lost).
func (s *Sender) streamSeq(ctx context.Context, ev *dbsqlc.GetEventsByIDRow) (uint64, error) {
	if ev.StreamSeq != nil {
		return uint64(*ev.StreamSeq), nil
	}
	q := dbsqlc.New(s.DB)
	deadline := time.Now().Add(time.Minute)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		row, err := q.GetEvent(ctx, ev.ID)
		if err != nil {
			return 0, err
		}
		if row.StreamSeq != nil {
			return uint64(*row.StreamSeq), nil
		}
		if time.Now().After(deadline) {
			return 0, errors.New("the outbox relay has not recorded the event as published after a minute")
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// disable turns an endpoint off, fails its pending deliveries and emits
// webhook.endpoint.disabled, in one transaction.
func (s *Sender) disable(ctx context.Context, ep *dbsqlc.WebhookEndpoint, reason string) {
	err := db.InTx(ctx, s.DB, func(tx pgx.Tx, q *dbsqlc.Queries) error {
		n, err := q.DisableEndpoint(ctx, dbsqlc.DisableEndpointParams{ID: ep.ID, DisabledReason: &reason})
		if err != nil || n == 0 {
			return err
		}
		if err := q.FailPendingDeliveriesOfEndpoint(ctx, dbsqlc.FailPendingDeliveriesOfEndpointParams{EndpointID: ep.ID, LastError: &reason}); err != nil {
			return err
		}
		e, err := events.New(ep.OrgID, "shiftflow/webhook", EventEndpointDisabled, "webhooks/"+ep.ID.String(),
			map[string]any{"endpoint_id": ep.ID, "url": ep.Url, "reason": reason})
		if err != nil {
			return err
		}
		return events.Store(ctx, q, e)
	})
	if err != nil {
		s.Log.Error("cannot disable webhook endpoint", "error", err, "endpoint", ep.ID)
		return
	}
	s.Log.Warn("webhook endpoint disabled", "endpoint", ep.ID, "org_id", ep.OrgID, "reason", reason)
}

func (s *Sender) reportDisabled(ctx context.Context) {
	if s.Metrics == nil {
		return
	}
	t := time.NewTicker(15 * time.Second)
	defer t.Stop()
	for {
		if n, err := dbsqlc.New(s.DB).CountDisabledEndpoints(ctx); err == nil {
			s.Metrics.WebhookEndpointsDisabled.Set(float64(n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
