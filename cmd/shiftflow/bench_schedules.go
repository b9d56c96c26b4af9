package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/roster"
)

func init() {
	registerBench(command{name: "schedules", summary: "schedule requests through the pipeline (throughput, submit-to-completed latency) and a re-plan", run: runBenchSchedules})
}

func runBenchSchedules(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("bench schedules", flag.ContinueOnError)
	n := fs.Int("n", 100, "small problems to queue")
	limit := fs.String("time-limit", "1s", "solver time of each small problem")
	durable := fs.Bool("durable", true, "PostgreSQL with fsync on")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	base, natsURL, token, stop, err := benchEnv(ctx, *durable, map[string]string{"REPLAN_TIME_LIMIT": "10s"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return exitFail
	}
	defer stop()
	c, err := benchKey(base, token, "schedule", "approval", "admin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return exitFail
	}

	nc, err := nats.Connect(natsURL)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return exitFail
	}
	defer nc.Close()
	var mu sync.Mutex
	done := map[string]time.Time{}
	replanned := map[string]json.RawMessage{}
	_, _ = nc.Subscribe("evt.schedule.run.*.bench", func(m *nats.Msg) {
		var e events.Envelope
		if json.Unmarshal(m.Data, &e) != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		switch e.Type {
		case "schedule.run.completed", "schedule.run.failed":
			done[e.Subject] = time.Now()
		case "schedule.run.replanned":
			replanned[e.Subject] = e.Data
		}
	})
	_ = nc.Flush()
	waitFor := func(subject string, limit time.Duration, m map[string]time.Time) (time.Time, bool) {
		deadline := time.Now().Add(limit)
		for time.Now().Before(deadline) {
			mu.Lock()
			at, ok := m[subject]
			mu.Unlock()
			if ok {
				return at, true
			}
			time.Sleep(10 * time.Millisecond)
		}
		return time.Time{}, false
	}

	small, _ := json.Marshal(roster.GenerateModel(roster.GenerateSpec{Employees: 10, Days: 14, ShiftTypes: 2, Seed: 1}))
	fmt.Fprintf(os.Stderr, "queueing %d problems (10 employees x 14 days, %s each)...\n", *n, *limit)
	sent := map[string]time.Time{}
	start := time.Now()
	for i := 0; i < *n; i++ {
		at := time.Now()
		st, body, err := c.do("POST", "/api/v1/schedules", map[string]any{"time_limit": *limit, "seed": i, "problem": json.RawMessage(small)})
		if err != nil || st != 202 {
			fmt.Fprintf(os.Stderr, "bench: submit: %d %s %v\n", st, body, err)
			return exitFail
		}
		var r struct{ ID string }
		_ = json.Unmarshal(body, &r)
		sent["schedules/"+r.ID] = at
	}
	var lat []time.Duration
	var last time.Time
	for subj, at := range sent {
		got, ok := waitFor(subj, 10*time.Minute, done)
		if !ok {
			fmt.Fprintf(os.Stderr, "bench: %s never completed\n", subj)
			return exitFail
		}
		lat = append(lat, got.Sub(at))
		if got.After(last) {
			last = got
		}
	}
	slices.Sort(lat)
	elapsed := last.Sub(start)
	fmt.Printf("schedules: %d requests (%s solver time each) completed in %s = %.2f/s; submit to completed event p50 %s, p99 %s\n",
		*n, *limit, elapsed.Round(time.Millisecond), float64(*n)/elapsed.Seconds(),
		percentile(lat, 0.5).Round(time.Millisecond), percentile(lat, 0.99).Round(time.Millisecond))

	// A re-plan: a published 50-person, 28-day roster and an approved leave.
	model := roster.GenerateModel(roster.GenerateSpec{Employees: 50, Days: 28, ShiftTypes: 4, Seed: 2})
	big, _ := json.Marshal(model)
	st, body, _ := c.do("POST", "/api/v1/schedules", map[string]any{"time_limit": "20s", "problem": json.RawMessage(big)})
	if st != 202 {
		fmt.Fprintf(os.Stderr, "bench: base roster: %d %s\n", st, body)
		return exitFail
	}
	var baseRes struct{ ID string }
	_ = json.Unmarshal(body, &baseRes)
	if _, ok := waitFor("schedules/"+baseRes.ID, 2*time.Minute, done); !ok {
		fmt.Fprintln(os.Stderr, "bench: base roster not solved")
		return exitFail
	}
	if st, body, _ := c.do("POST", "/api/v1/schedules/"+baseRes.ID+"/publish", nil); st != 200 {
		fmt.Fprintf(os.Stderr, "bench: publish: %d %s\n", st, body)
		return exitFail
	}
	who := model.Employees[0].ID
	dates := model.Dates()
	for _, p := range []map[string]any{{"id": "boss", "name": "Boss"}, {"id": who, "name": who, "manager": "boss"}} {
		if st, body, _ := c.do("PUT", "/api/v1/people/"+p["id"].(string), p); st != 200 && st != 201 {
			fmt.Fprintf(os.Stderr, "bench: people: %d %s\n", st, body)
			return exitFail
		}
	}
	if st, body, _ := c.do("POST", "/api/v1/approval-templates", json.RawMessage(`{"id": "leave", "name": "Leave", "kind": "leave", "form": [
		{"name": "person", "type": "person", "required": true}, {"name": "from_date", "type": "date", "required": true},
		{"name": "to_date", "type": "date", "required": true}],
	  "nodes": [{"id": "start", "type": "start", "next": "n1"},
		{"id": "n1", "type": "approval", "next": "end", "approval": {"mode": "single", "approvers": [{"type": "people", "people": ["boss"]}]}},
		{"id": "end", "type": "end"}]}`)); st != 201 {
		fmt.Fprintf(os.Stderr, "bench: template: %d %s\n", st, body)
		return exitFail
	}
	st, body, _ = c.do("POST", "/api/v1/approvals", map[string]any{"template_id": "leave", "initiator": who,
		"form": map[string]any{"person": who, "from_date": dates[10], "to_date": dates[13]}}, "Prefer", "wait=10")
	if st != 201 {
		fmt.Fprintf(os.Stderr, "bench: leave: %d %s\n", st, body)
		return exitFail
	}
	var inst struct{ ID string }
	_ = json.Unmarshal(body, &inst)
	approvedAt := time.Now()
	if st, body, _ := c.do("POST", "/api/v1/approvals/"+inst.ID+"/actions", map[string]any{"action": "approve", "actor": "boss"}); st != 202 {
		fmt.Fprintf(os.Stderr, "bench: approve: %d %s\n", st, body)
		return exitFail
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		mu.Lock()
		var data json.RawMessage
		for _, d := range replanned {
			data = d
		}
		mu.Unlock()
		if data != nil {
			var r struct {
				Changes  int  `json:"changes"`
				Feasible bool `json:"feasible"`
			}
			_ = json.Unmarshal(data, &r)
			fmt.Printf("re-plan: 50 employees x 28 days, a 4-day leave approved -> replanned event after %s, %d assignments changed, feasible %v\n",
				time.Since(approvedAt).Round(time.Millisecond), r.Changes, r.Feasible)
			return exitOK
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Fprintln(os.Stderr, "bench: no replanned event")
	return exitFail
}
