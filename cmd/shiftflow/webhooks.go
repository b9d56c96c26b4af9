package main

import (
	"context"
	"time"

	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/internal/config"
	"github.com/shiftflow/shiftflow/internal/netguard"
	"github.com/shiftflow/shiftflow/workers"
	"github.com/shiftflow/shiftflow/workers/replay"
	"github.com/shiftflow/shiftflow/workers/retention"
	"github.com/shiftflow/shiftflow/workers/webhook"
)

func init() {
	appSetups = append(appSetups, func(a *app) {
		a.metrics.InitConsumer("webhook")
		a.metrics.InitEventTypes(webhook.EventEndpointDisabled)
	})
	registerPool("webhook", func(a *app) *workers.Pool {
		return &workers.Pool{
			Spec: webhook.Consumer(a.cfg.WorkerMaxDeliver, a.cfg.WorkerAckWait), Concurrency: a.cfg.WorkerFanoutConcurrency, BatchSize: a.cfg.WorkerBatchSize,
			Handler: webhook.FanOutBatched(a.db), DB: a.db, JS: a.js, Metrics: a.metrics, Log: a.log, ShutdownTimeout: a.cfg.ShutdownTimeout,
			// The consumer is (re)created taking every event: narrow it.
			Ensured: func(ctx context.Context) error { return webhook.SyncFilterNow(ctx, a.db, a.js) },
		}
	})
	registerComponent("webhook-sender", func(a *app) component {
		allow, _ := netguard.ParseCIDRs(a.cfg.WebhookAllowCIDRs) // validated with the config
		policy := netguard.New(netguard.WithAllowedPrefixes(allow...), netguard.WithHTTPSOnly(a.cfg.WebhookHTTPSOnly))
		schedule, _ := config.ParseSchedule(a.cfg.WebhookRetrySchedule)
		s := &webhook.Sender{
			DB: a.db, Client: webhook.NewClient(policy, a.cfg.WebhookTimeout, a.cfg.WorkerWebhookConcurrency),
			Schedule: schedule, Concurrency: a.cfg.WorkerWebhookConcurrency, DisableAfter: a.cfg.WebhookDisableAfter,
			Metrics: a.metrics, Log: a.log.With("component", "webhook-sender"),
		}
		return component{name: "webhook-sender", run: s.Run}
	})
	registerComponent("replay-jobs", func(a *app) component {
		j := &replay.Jobs{Replayer: &replay.Replayer{DB: a.db, Publisher: events.NewPublisher(a.js, a.metrics)}, Log: a.log.With("component", "replay-jobs")}
		return component{name: "replay-jobs", run: j.Run}
	})
	registerComponent("cleanup", func(a *app) component {
		c := &retention.Cleaner{DB: a.db, Policy: retentionPolicy(a), Metrics: a.metrics, Log: a.log.With("component", "cleanup")}
		return component{name: "cleanup", run: func(ctx context.Context) error { return c.Run(ctx, a.cfg.CleanupInterval) }}
	})
}

func retentionPolicy(a *app) retention.Policy {
	return retention.Policy{Events: a.cfg.EventsRetention, Audit: a.cfg.AuditRetention, DeadLetters: a.cfg.DeadLetterRetention,
		Processed: 7 * 24 * time.Hour, Deliveries: a.cfg.EventsRetention}
}
