package main

import (
	"time"

	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/workers"
	"github.com/shiftflow/shiftflow/workers/replan"
	"github.com/shiftflow/shiftflow/workers/schedule"
)

func init() {
	appSetups = append(appSetups, func(a *app) {
		a.metrics.InitEventTypes(schedule.EventTypes...)
		a.metrics.InitCommandTypes(schedule.TypeSolve)
		a.metrics.InitConsumer("schedule")
		a.metrics.InitConsumer("replan")
	})
	registerPool("schedule", func(a *app) *workers.Pool {
		return &workers.Pool{
			// A long solve keeps its message with InProgress; a dead worker's
			// message returns after two minutes.
			Spec: schedule.Consumer(a.cfg.WorkerMaxDeliver, 2*time.Minute), Concurrency: a.cfg.WorkerScheduleConcurrency,
			Handler: &schedule.Handler{DB: a.db, Metrics: a.metrics, Log: a.log.With("component", "schedule"), Threads: a.cfg.ScheduleSolverThreads,
				Rebase: replan.FromConfig(a.db, events.NewPublisher(a.js, a.metrics), a.cfg).Rebase},
			DB: a.db, JS: a.js, Metrics: a.metrics, Log: a.log, ShutdownTimeout: a.cfg.ShutdownTimeout,
		}
	})
	registerPool("replan", func(a *app) *workers.Pool {
		return &workers.Pool{
			Spec: replan.Consumer(a.cfg.WorkerMaxDeliver, a.cfg.WorkerAckWait), Concurrency: a.cfg.WorkerReplanConcurrency,
			Handler: replan.FromConfig(a.db, events.NewPublisher(a.js, a.metrics), a.cfg),
			DB:      a.db, JS: a.js, Metrics: a.metrics, Log: a.log, ShutdownTimeout: a.cfg.ShutdownTimeout,
		}
	})
}
