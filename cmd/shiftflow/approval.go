package main

import (
	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/workers"
	"github.com/shiftflow/shiftflow/workers/approval"
)

func init() {
	appSetups = append(appSetups, func(a *app) {
		a.metrics.InitEventTypes(approval.EventTypes...)
		a.metrics.InitCommandTypes(approval.TypeSubmit, approval.TypeAct, approval.TypeTimer)
		a.metrics.InitConsumer("approval")
	})
	registerPool("approval", func(a *app) *workers.Pool {
		if a.cfg.ApprovalStateCacheSize > 0 {
			a.approvalStates = approval.NewStates(a.cfg.ApprovalStateCacheSize)
			a.approvalStates.Lookups = a.metrics.ApprovalStateLookups
		}
		return &workers.Pool{
			Spec:        approval.Consumer(a.cfg.WorkerMaxDeliver, a.cfg.WorkerAckWait),
			Concurrency: a.cfg.WorkerApprovalConcurrency, BatchSize: a.cfg.WorkerBatchSize, GroupCommit: true,
			Handler: &approval.Handler{Templates: approval.NewTemplates(a.cfg.TemplateCacheTTL), States: a.approvalStates, Metrics: a.metrics},
			DB:      a.db, JS: a.js, Metrics: a.metrics, Log: a.log, ShutdownTimeout: a.cfg.ShutdownTimeout,
		}
	})
	registerComponent("approval-timers", func(a *app) component {
		s := &approval.TimerScheduler{DB: a.db, Publisher: events.NewPublisher(a.js, a.metrics), Log: a.log.With("component", "approval-timers")}
		return component{name: "approval-timers", run: s.Run}
	})
}
