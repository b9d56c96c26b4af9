package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/roster"
)

// scheduleProblem is a generated problem as request JSON.
func scheduleProblem(t *testing.T, employees, days, shifts int) (json.RawMessage, *roster.Model) {
	t.Helper()
	m := roster.GenerateModel(roster.GenerateSpec{Employees: employees, Days: days, ShiftTypes: shifts, Seed: 7})
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b, m
}

func (e *e2e) postSchedule(problem json.RawMessage, timeLimit string) string {
	e.t.Helper()
	res := e.do("POST", "/api/v1/schedules", e.key, map[string]any{"name": "test", "time_limit": timeLimit, "seed": 3, "problem": problem})
	if res.status != 202 {
		e.t.Fatalf("create schedule: %d %s", res.status, res.body)
	}
	return res.json(e.t)["id"].(string)
}

func (e *e2e) waitSchedule(id string, limit time.Duration, statuses ...string) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		v := e.do("GET", "/api/v1/schedules/"+id, e.key, nil).json(e.t)
		for _, s := range statuses {
			if v["status"] == s {
				return v
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("schedule %s is %v after %s, want %v", id, v["status"], limit, statuses)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *e2e) scheduleEvents(id string) []events.Envelope {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []events.Envelope
	for _, env := range e.published {
		if env.Subject == "schedules/"+id {
			out = append(out, env)
		}
	}
	return out
}

func TestScheduleSolveEndToEnd(t *testing.T) {
	e := newE2E(t)
	problem, model := scheduleProblem(t, 12, 14, 3)
	id := e.postSchedule(problem, "2s")
	v := e.waitSchedule(id, 30*time.Second, "completed")
	if v["feasible"] != true {
		t.Fatalf("not feasible: %v", v["violations"])
	}
	// The roster, checked with the independent evaluator.
	res := e.do("GET", "/api/v1/schedules/"+id+"/roster", e.key, nil)
	var out struct {
		Dates  []string      `json:"dates"`
		Roster roster.Roster `json:"roster"`
	}
	if err := json.Unmarshal(res.body, &out); err != nil || len(out.Dates) != 14 || len(out.Roster) != 12 {
		t.Fatalf("roster: %v %s", err, res.body)
	}
	ev, err := roster.Evaluate(model, out.Roster)
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Feasible || ev.Penalty != int64(v["penalty"].(float64)) {
		t.Fatalf("evaluator: feasible %v penalty %d; service says %v", ev.Feasible, ev.Penalty, v["penalty"])
	}
	// Progress events came while it solved, then the completion event.
	deadline := time.Now().Add(5 * time.Second)
	var types []string
	for time.Now().Before(deadline) {
		types = types[:0]
		for _, env := range e.scheduleEvents(id) {
			types = append(types, env.Type)
		}
		if containsInOrder(types, []string{"schedule.run.progress", "schedule.run.completed"}) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !containsInOrder(types, []string{"schedule.run.progress", "schedule.run.completed"}) {
		t.Fatalf("events: %v", types)
	}
	// CSV: a header of dates, one row per employee.
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/schedules/"+id+"/roster", nil)
	req.Header.Set("Authorization", "Bearer "+e.key)
	req.Header.Set("Accept", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	csvBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	lines := strings.Split(strings.TrimSpace(string(csvBody)), "\n")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.HasPrefix(lines[0], "employee,2025-01-06") || len(lines) != 13 {
		t.Fatalf("csv: %s %q", resp.Header.Get("Content-Type"), csvBody)
	}
	// validate: the same answer without solving.
	val := e.do("POST", "/api/v1/schedules/validate", e.key, map[string]any{"problem": json.RawMessage(problem), "roster": out.Roster}).json(t)
	if val["feasible"] != true || int64(val["penalty"].(float64)) != ev.Penalty {
		t.Fatalf("validate: %v", val)
	}
	if c := testCounter(e.metrics.ScheduleGenerations.WithLabelValues("success")); c < 1 {
		t.Fatalf("schedule_generations_total{status=success} = %v", c)
	}
}

func TestScheduleCancelMidSolve(t *testing.T) {
	e := newE2E(t)
	problem, _ := scheduleProblem(t, 60, 28, 4)
	id := e.postSchedule(problem, "60s")
	e.waitSchedule(id, 30*time.Second, "solving")
	time.Sleep(300 * time.Millisecond)
	asked := time.Now()
	if res := e.do("POST", "/api/v1/schedules/"+id+"/cancel", e.key, nil); res.status != 202 {
		t.Fatalf("cancel: %d %s", res.status, res.body)
	}
	v := e.waitSchedule(id, 10*time.Second, "cancelled")
	if took := time.Since(asked); took > time.Second+500*time.Millisecond {
		t.Errorf("cancelled after %s; the solver must stop within 1 s", took)
	}
	if v["penalty"] == nil {
		t.Fatalf("the best roster found was not kept: %v", v)
	}
	if res := e.do("GET", "/api/v1/schedules/"+id+"/roster", e.key, nil); res.status != 200 {
		t.Fatalf("roster of the cancelled run: %d %s", res.status, res.body)
	}
	assertProblem(t, e.do("POST", "/api/v1/schedules/"+id+"/cancel", e.key, nil), 409)
}

func TestTwentyConcurrentSchedulesWithTwoWorkers(t *testing.T) {
	e := newE2E(t)
	problem, _ := scheduleProblem(t, 8, 14, 2)
	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range ids {
		wg.Add(1)
		go func() { defer wg.Done(); ids[i] = e.postSchedule(problem, "300ms") }()
	}
	wg.Wait()
	for _, id := range ids {
		if v := e.waitSchedule(id, 60*time.Second, "completed", "failed"); v["status"] != "completed" {
			t.Fatalf("%s: %v", id, v)
		}
	}
}

func TestScheduleBadInput(t *testing.T) {
	e := newE2E(t)
	// Malformed NRP text: the line and the reason.
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/schedules?time_limit=1s", strings.NewReader("SECTION_HORIZON\n# days\nfourteen\n"))
	req.Header.Set("Authorization", "Bearer "+e.key)
	req.Header.Set("Content-Type", "text/plain")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	_ = json.NewDecoder(res.Body).Decode(&p)
	res.Body.Close()
	if res.StatusCode != 422 || !strings.Contains(p["detail"].(string), "line 3") {
		t.Fatalf("malformed NRP: %d %v", res.StatusCode, p)
	}
	problem, model := scheduleProblem(t, 5, 7, 2)
	var doc map[string]any
	_ = json.Unmarshal(problem, &doc)
	fields := func(body map[string]any) map[string]bool {
		res := e.do("POST", "/api/v1/schedules", e.key, body)
		p := assertProblem(t, res, 422)
		out := map[string]bool{}
		for _, fe := range p["errors"].([]any) {
			out[fe.(map[string]any)["field"].(string)] = true
		}
		return out
	}
	// Unknown shift id in cover, negative weight.
	bad := map[string]any{}
	for k, v := range doc {
		bad[k] = v
	}
	cover := append([]any{}, doc["cover"].([]any)...)
	c0 := map[string]any{}
	for k, v := range cover[0].(map[string]any) {
		c0[k] = v
	}
	c0["shift"] = "ZZ"
	c0["under_weight"] = -5
	cover[0] = c0
	bad["cover"] = cover
	got := fields(map[string]any{"problem": bad})
	if !got["problem.cover[0].shift"] || !got["problem.cover[0].under_weight"] {
		t.Fatalf("unknown shift / negative weight fields: %v", got)
	}
	// Horizon above the limit names the limit.
	long := map[string]any{}
	for k, v := range doc {
		long[k] = v
	}
	long["days"] = 400
	delete(long, "cover")
	long["cover"] = []any{}
	res2 := e.do("POST", "/api/v1/schedules", e.key, map[string]any{"problem": long})
	p2 := assertProblem(t, res2, 422)
	if !strings.Contains(string(res2.body), "366") {
		t.Fatalf("horizon limit not named: %v", p2)
	}
	assertProblem(t, e.do("POST", "/api/v1/schedules", e.key, map[string]any{"problem": json.RawMessage(problem), "time_limit": "forever"}), 422)
	// Nothing was created by any of these.
	var n int
	_ = e.deps.DB.QueryRow(context.Background(), `SELECT count(*) FROM schedules`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d schedules created by bad requests", n)
	}
	_ = model
}

// publishedRoster solves and publishes a small roster and returns its id,
// model and roster.
func (e *e2e) publishedRoster(t *testing.T) (string, *roster.Model, roster.Roster) {
	t.Helper()
	problem, model := scheduleProblem(t, 10, 14, 2)
	id := e.postSchedule(problem, "1s")
	if v := e.waitSchedule(id, 30*time.Second, "completed"); v["feasible"] != true {
		t.Fatalf("base roster infeasible: %v", v["violations"])
	}
	if res := e.do("POST", "/api/v1/schedules/"+id+"/publish", e.key, nil); res.status != 200 {
		t.Fatalf("publish: %d %s", res.status, res.body)
	}
	var out struct {
		Roster roster.Roster `json:"roster"`
	}
	_ = json.Unmarshal(e.do("GET", "/api/v1/schedules/"+id+"/roster", e.key, nil).body, &out)
	return id, model, out.Roster
}

const leaveTemplate = `{"id": "leave", "name": "Leave", "kind": "leave", "form": [
	{"name": "person", "type": "person", "required": true},
	{"name": "from_date", "type": "date", "required": true},
	{"name": "to_date", "type": "date", "required": true}],
  "nodes": [{"id": "start", "type": "start", "next": "n1"},
	{"id": "n1", "type": "approval", "next": "end", "approval": {"mode": "single", "approvers": [{"type": "people", "people": ["mgr"]}]}},
	{"id": "end", "type": "end"}]}`

func TestLeaveApprovedReplansPublishedRoster(t *testing.T) {
	e := newE2E(t)
	e.autoPublishReplans()
	baseID, model, base := e.publishedRoster(t)
	// Pick an employee who works on at least two of days 3..6 and make
	// them a directory person so the leave form accepts them.
	dates := model.Dates()
	var who string
	for _, emp := range model.Employees {
		n := 0
		for d := 3; d <= 6; d++ {
			if base[emp.ID][d] != "" {
				n++
			}
		}
		if n >= 2 {
			who = emp.ID
			break
		}
	}
	if who == "" {
		t.Fatal("no employee works days 3..6")
	}
	e.do("PUT", "/api/v1/people/"+who, e.key, map[string]any{"name": "Employee " + who, "manager": "mgr"})
	e.template(leaveTemplate)
	inst := e.submit("leave", who, map[string]any{"person": who, "from_date": dates[3], "to_date": dates[6]})
	e.mustAct(inst, map[string]any{"action": "approve", "actor": "mgr"})

	// The re-plan appears, linked to the approval, and completes.
	var replanID string
	deadline := time.Now().Add(30 * time.Second)
	for replanID == "" {
		items := e.do("GET", "/api/v1/schedules?approval_id="+inst, e.key, nil).json(t)["items"].([]any)
		if len(items) == 1 {
			replanID = items[0].(map[string]any)["id"].(string)
		}
		if time.Now().After(deadline) {
			t.Fatal("no re-plan for the approved leave")
		}
		time.Sleep(50 * time.Millisecond)
	}
	v := e.waitSchedule(replanID, 30*time.Second, "completed")
	if v["parent_id"] != baseID || v["feasible"] != true {
		t.Fatalf("re-plan: %v", v)
	}
	// Published automatically, superseding the base.
	deadline = time.Now().Add(5 * time.Second)
	for v["published"] != true && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		v = e.do("GET", "/api/v1/schedules/"+replanID, e.key, nil).json(t)
	}
	if v["published"] != true {
		t.Fatalf("re-plan not published: %v", v)
	}
	if b := e.do("GET", "/api/v1/schedules/"+baseID, e.key, nil).json(t); b["published"] != false || b["superseded_by"] != replanID {
		t.Fatalf("base not superseded: %v %v", b["published"], b["superseded_by"])
	}
	// The leave days are off and the diff touches only what it must.
	var out struct {
		Roster roster.Roster `json:"roster"`
	}
	_ = json.Unmarshal(e.do("GET", "/api/v1/schedules/"+replanID+"/roster", e.key, nil).body, &out)
	leaveCells := 0
	for d := 3; d <= 6; d++ {
		if out.Roster[who][d] != "" {
			t.Fatalf("%s works %s during the leave", who, dates[d])
		}
		if base[who][d] != "" {
			leaveCells++
		}
	}
	var diff []struct{ Employee, Date, From, To string }
	_ = json.Unmarshal(mustJSON(v["diff"]), &diff)
	for d := 3; d <= 6; d++ {
		if base[who][d] == "" {
			continue
		}
		found := false
		for _, c := range diff {
			found = found || (c.Employee == who && c.Date == dates[d] && c.To == "")
		}
		if !found {
			t.Fatalf("diff lacks %s's leave day %s: %v", who, dates[d], diff)
		}
	}
	if len(diff) > 4*leaveCells {
		t.Fatalf("the re-plan changed %d assignments for %d leave shifts: %v", len(diff), leaveCells, diff)
	}
	// The replanned event carries the same diff.
	deadline = time.Now().Add(5 * time.Second)
	var replanned []events.Envelope
	for time.Now().Before(deadline) {
		replanned = nil
		for _, env := range e.scheduleEvents(replanID) {
			if env.Type == "schedule.run.replanned" {
				replanned = append(replanned, env)
			}
		}
		if len(replanned) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(replanned) != 1 || !strings.Contains(string(replanned[0].Data), `"changes":`+fmt.Sprint(len(diff))) {
		t.Fatalf("replanned events: %d %s", len(replanned), firstData(replanned))
	}

	// The same approval event delivered again (as after a relay crash past
	// the de-duplication window) creates no second re-plan.
	var seq uint64
	_ = e.deps.DB.QueryRow(context.Background(), `SELECT stream_seq FROM events WHERE type = 'approval.leave.approved' AND subject = $1`, "approvals/"+inst).Scan(&seq)
	stream, _ := e.deps.JS.Stream(context.Background(), events.EventsStream)
	raw, err := stream.GetMsg(context.Background(), seq)
	if err != nil {
		t.Fatal(err)
	}
	dup := &jsMsg{subject: raw.Subject, data: raw.Data, header: raw.Header}
	if _, err := e.deps.JS.PublishMsg(context.Background(), dup.msg("dup-"+inst)); err != nil {
		t.Fatal(err)
	}
	// Handled (acknowledged) by the re-planner, without a second re-plan.
	cons, err := e.deps.JS.Consumer(context.Background(), events.EventsStream, "replan")
	if err != nil {
		t.Fatal(err)
	}
	for deadline = time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		info, err := cons.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if info.AckFloor.Stream >= raw.Sequence+1 || time.Now().After(deadline) {
			break
		}
	}
	if info, _ := cons.Info(context.Background()); info.AckFloor.Stream < raw.Sequence+1 {
		t.Fatalf("the duplicate was never handled: ack floor %d", info.AckFloor.Stream)
	}
	var replans int
	_ = e.deps.DB.QueryRow(context.Background(), `SELECT count(*) FROM schedules WHERE approval_id = $1`, inst).Scan(&replans)
	if replans != 1 {
		t.Fatalf("%d re-plans for one approval", replans)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func firstData(es []events.Envelope) string {
	if len(es) == 0 {
		return ""
	}
	return string(es[0].Data)
}

const swapTemplate = `{"id": "swap", "name": "Shift swap", "kind": "shift_swap", "form": [
	{"name": "person", "type": "person", "required": true},
	{"name": "date", "type": "date", "required": true},
	{"name": "other_person", "type": "person", "required": true},
	{"name": "other_date", "type": "date", "required": true}],
  "nodes": [{"id": "start", "type": "start", "next": "n1"},
	{"id": "n1", "type": "approval", "next": "end", "approval": {"mode": "single", "approvers": [{"type": "people", "people": ["mgr"]}]}},
	{"id": "end", "type": "end"}]}`

func TestSwapThatBreaksAHardRuleIsRefusedAtSubmit(t *testing.T) {
	e := newE2E(t)
	_, model, base := e.publishedRoster(t)
	dates := model.Dates()
	// A swap that hands someone a shift on one of their fixed days off.
	var a, b string
	var day int
	for _, emp := range model.Employees {
		for _, off := range emp.FixedDaysOff {
			d := indexOf(dates, off)
			if d < 0 {
				continue
			}
			for _, other := range model.Employees {
				if other.ID != emp.ID && base[other.ID][d] != "" {
					a, b, day = emp.ID, other.ID, d
					break
				}
			}
			if a != "" {
				break
			}
		}
		if a != "" {
			break
		}
	}
	if a == "" {
		t.Skip("the generated roster has no fixed day off to swap into")
	}
	for _, p := range []string{a, b} {
		e.do("PUT", "/api/v1/people/"+p, e.key, map[string]any{"name": p, "manager": "mgr"})
	}
	e.template(swapTemplate)
	res := e.do("POST", "/api/v1/approvals", e.key, map[string]any{"template_id": "swap", "initiator": a,
		"form": map[string]any{"person": a, "date": dates[day], "other_person": b, "other_date": dates[day]}})
	p := assertProblem(t, res, 422)
	if p["violations"] == nil || len(p["violations"].([]any)) == 0 {
		t.Fatalf("422 without the violations: %s", res.body)
	}
	var n int
	_ = e.deps.DB.QueryRow(context.Background(), `SELECT count(*) FROM approval_instances WHERE template_id = 'swap'`).Scan(&n)
	if n != 0 {
		t.Fatal("a refused swap reached the approvers")
	}
}

// An approved shift swap re-plans the published roster with the swap in it.
func TestSwapApprovedReplansPublishedRoster(t *testing.T) {
	e := newE2E(t)
	baseID, model, base := e.publishedRoster(t)
	dates := model.Dates()
	e.template(swapTemplate)
	// Two employees who both work the same day on different shifts trade
	// them; the first pair whose swap keeps every hard rule is taken.
	var a, b, inst string
	var day int
	for d := 0; d < len(dates) && inst == ""; d++ {
		for _, x := range model.Employees {
			for _, y := range model.Employees {
				sx, sy := base[x.ID][d], base[y.ID][d]
				if inst != "" || x.ID >= y.ID || sx == "" || sy == "" || sx == sy {
					continue
				}
				for _, p := range []string{x.ID, y.ID} {
					e.do("PUT", "/api/v1/people/"+p, e.key, map[string]any{"name": p, "manager": "mgr"})
				}
				res := e.do("POST", "/api/v1/approvals", e.key, map[string]any{"template_id": "swap", "initiator": x.ID,
					"form": map[string]any{"person": x.ID, "date": dates[d], "other_person": y.ID, "other_date": dates[d]}}, "Prefer", "wait=10")
				if res.status == 201 {
					a, b, day, inst = x.ID, y.ID, d, res.json(t)["id"].(string)
				}
			}
		}
	}
	if inst == "" {
		t.Fatal("no swap of two worked shifts keeps the hard rules")
	}
	e.mustAct(inst, map[string]any{"action": "approve", "actor": "mgr"})

	var replanID string
	for deadline := time.Now().Add(30 * time.Second); replanID == ""; time.Sleep(50 * time.Millisecond) {
		items := e.do("GET", "/api/v1/schedules?approval_id="+inst, e.key, nil).json(t)["items"].([]any)
		if len(items) == 1 {
			replanID = items[0].(map[string]any)["id"].(string)
		}
		if time.Now().After(deadline) {
			t.Fatal("no re-plan for the approved swap")
		}
	}
	if v := e.waitSchedule(replanID, 30*time.Second, "completed"); v["parent_id"] != baseID {
		t.Fatalf("re-plan: %v", v)
	}
	var out struct {
		Roster roster.Roster `json:"roster"`
	}
	_ = json.Unmarshal(e.do("GET", "/api/v1/schedules/"+replanID+"/roster", e.key, nil).body, &out)
	if out.Roster[a][day] != base[b][day] || out.Roster[b][day] != base[a][day] {
		t.Fatalf("on %s: %s works %q and %s works %q, want the swap of %q and %q", dates[day],
			a, out.Roster[a][day], b, out.Roster[b][day], base[a][day], base[b][day])
	}
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// jsMsg republishes a stored stream message under a new message id.
type jsMsg struct {
	subject string
	data    []byte
	header  map[string][]string
}

func (m *jsMsg) msg(id string) *natsMsg {
	out := newNatsMsg(m.subject)
	out.Data = m.data
	for k, vs := range m.header {
		for _, v := range vs {
			out.Header.Add(k, v)
		}
	}
	out.Header.Set(jetstream.MsgIDHeader, id)
	return out
}

// Employees can come from the people directory, with their contracts.
func TestScheduleWithDirectoryEmployees(t *testing.T) {
	e := newE2E(t)
	_, model := scheduleProblem(t, 6, 7, 1)
	var people []any
	for _, emp := range model.Employees {
		people = append(people, map[string]any{"id": emp.ID, "name": emp.ID, "department": "ward", "skills": emp.Skills, "contract": emp.Contract})
	}
	if res := e.do("POST", "/api/v1/people:batch", e.key, map[string]any{"people": people}); res.status != 200 {
		t.Fatalf("people: %d %s", res.status, res.body)
	}
	model.Employees = nil
	body, _ := json.Marshal(model)
	var doc map[string]any
	_ = json.Unmarshal(body, &doc)
	delete(doc, "employees")
	res := e.do("POST", "/api/v1/schedules", e.key, map[string]any{"time_limit": "1s", "problem": doc, "employees_from": map[string]any{"department": "ward"}})
	if res.status != 202 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	id := res.json(t)["id"].(string)
	v := e.waitSchedule(id, 30*time.Second, "completed")
	if v["employees"].(float64) != 6 {
		t.Fatalf("employees = %v, want the 6 of the ward", v["employees"])
	}
	p := assertProblem(t, e.do("POST", "/api/v1/schedules", e.key, map[string]any{"problem": doc, "employees_from": map[string]any{"department": "nowhere"}}), 422)
	if p["errors"].([]any)[0].(map[string]any)["field"] != "employees_from" {
		t.Fatalf("empty selection: %v", p)
	}
}

// TestSchedulePreferWait: POST and GET answer with the finished run under
// Prefer: wait=N, several callers can wait on one schedule, and a wait that
// runs out answers with the run as it is.
func TestSchedulePreferWait(t *testing.T) {
	e := newE2E(t)
	small, _ := scheduleProblem(t, 10, 14, 2)
	res := e.do("POST", "/api/v1/schedules", e.key, map[string]any{"time_limit": "2s", "problem": small}, "Prefer", "wait=30")
	if res.status != 200 || res.header.Get("Preference-Applied") != "wait=30" {
		t.Fatalf("POST with Prefer wait: %d %q %s", res.status, res.header.Get("Preference-Applied"), res.body)
	}
	if v := res.json(t); v["status"] != "completed" || v["penalty"] == nil || res.header.Get("Location") != "/api/v1/schedules/"+v["id"].(string) {
		t.Fatalf("POST with Prefer wait answered %v", v)
	}

	large, _ := scheduleProblem(t, 60, 28, 4)
	id := e.postSchedule(large, "60s")
	e.waitSchedule(id, 30*time.Second, "solving")
	began := time.Now()
	if v := e.do("GET", "/api/v1/schedules/"+id, e.key, nil, "Prefer", "wait=1").json(t); v["status"] != "solving" || time.Since(began) < time.Second {
		t.Fatalf("a wait that runs out: %v after %s", v["status"], time.Since(began))
	}
	type answer struct {
		status string
		at     time.Time
	}
	answers := make(chan answer, 2)
	for range 2 {
		go func() { // no t.Fatal off the test's goroutine: a failure shows as a wrong status
			var v struct{ Status string }
			req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/schedules/"+id, nil)
			req.Header.Set("Authorization", "Bearer "+e.key)
			req.Header.Set("Prefer", "wait=30")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				_ = json.NewDecoder(resp.Body).Decode(&v)
				resp.Body.Close()
			}
			answers <- answer{v.Status, time.Now()}
		}()
	}
	time.Sleep(500 * time.Millisecond) // both are waiting
	cancelled := time.Now()
	if res := e.do("POST", "/api/v1/schedules/"+id+"/cancel", e.key, nil); res.status != 202 {
		t.Fatalf("cancel: %d %s", res.status, res.body)
	}
	for range 2 {
		a := <-answers
		if a.status != "cancelled" || a.at.Before(cancelled) {
			t.Fatalf("waiting GET answered %q at %s, cancel at %s", a.status, a.at.Format(time.RFC3339Nano), cancelled.Format(time.RFC3339Nano))
		}
	}
	// A finished schedule answers at once, wait or not.
	began = time.Now()
	if v := e.do("GET", "/api/v1/schedules/"+id, e.key, nil, "Prefer", "wait=30").json(t); v["status"] != "cancelled" || time.Since(began) > 5*time.Second {
		t.Fatalf("finished schedule with Prefer wait: %v after %s", v["status"], time.Since(began))
	}
}

// replanOf waits for the one completed re-plan an approval caused on base
// and returns its id.
func (e *e2e) replanOf(approvalID, base string) string {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, it := range e.do("GET", "/api/v1/schedules?approval_id="+approvalID, e.key, nil).json(e.t)["items"].([]any) {
			v := it.(map[string]any)
			if v["parent_id"] == base && v["status"] == "completed" {
				return v["id"].(string)
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no completed re-plan of %s for approval %s", base, approvalID)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// twoWorking is two employees who each work on at least one of days
// from..to of ro.
func twoWorking(t *testing.T, m *roster.Model, ro roster.Roster, from, to int) []string {
	t.Helper()
	var who []string
	for _, emp := range m.Employees {
		for d := from; d <= to && len(who) < 2; d++ {
			if ro[emp.ID][d] != "" {
				who = append(who, emp.ID)
				break
			}
		}
	}
	if len(who) < 2 {
		t.Fatalf("fewer than two employees work days %d..%d", from, to)
	}
	return who
}

// leaves submits a leave from..to for each person (made a directory person
// managed by mgr) and returns the approvals, not yet decided.
func (e *e2e) leaves(people []string, from, to string) []string {
	e.t.Helper()
	e.template(leaveTemplate)
	var ids []string
	for _, p := range people {
		e.do("PUT", "/api/v1/people/"+p, e.key, map[string]any{"name": "Employee " + p, "manager": "mgr"})
		ids = append(ids, e.submit("leave", p, map[string]any{"person": p, "from_date": from, "to_date": to}))
	}
	return ids
}

// autoPublishReplans turns the org setting on.
func (e *e2e) autoPublishReplans() {
	e.t.Helper()
	if res := e.do("PUT", "/api/v1/settings", e.key, map[string]any{"approval_admin": "root", "auto_publish_replans": true}); res.status != 200 {
		e.t.Fatalf("settings: %d %s", res.status, res.body)
	}
}

// rosterOf is a schedule's roster.
func (e *e2e) rosterOf(id string) roster.Roster {
	e.t.Helper()
	var out struct {
		Roster roster.Roster `json:"roster"`
	}
	if err := json.Unmarshal(e.do("GET", "/api/v1/schedules/"+id+"/roster", e.key, nil).body, &out); err != nil {
		e.t.Fatalf("roster of %s: %v", id, err)
	}
	return out.Roster
}

// currentRoster is the org's one published roster.
func (e *e2e) currentRoster() (string, roster.Roster) {
	e.t.Helper()
	items := e.do("GET", "/api/v1/schedules?published=true", e.key, nil).json(e.t)["items"].([]any)
	if len(items) != 1 {
		e.t.Fatalf("%d published rosters, want 1: %v", len(items), items)
	}
	id := items[0].(map[string]any)["id"].(string)
	return id, e.rosterOf(id)
}

// workingDuring names someone of people who works on one of days from..to
// of ro ("" when all are off).
func workingDuring(ro roster.Roster, people []string, from, to int) string {
	for _, p := range people {
		for d := from; d <= to; d++ {
			if ro[p][d] != "" {
				return p
			}
		}
	}
	return ""
}

// waitPublishedOff waits until the published roster has every one of people
// off on days from..to, and returns its id.
func (e *e2e) waitPublishedOff(people []string, from, to int) string {
	e.t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for {
		id, ro := e.currentRoster()
		p := workingDuring(ro, people, from, to)
		if p == "" {
			return id
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the published roster %s has %s working during an approved leave: %v", id, p, ro[p])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTwoLeavesOnOneRosterBothHold: two leaves approved before either
// re-plan is published. Publishing the second re-plan after the first would
// undo the first leave (both are re-plans of the same roster), so it is
// refused with 409, and the second leave is re-planned on the roster now
// published: that re-plan keeps both leaves.
func TestTwoLeavesOnOneRosterBothHold(t *testing.T) {
	e := newE2E(t)
	baseID, model, base := e.publishedRoster(t)
	dates := model.Dates()
	who := twoWorking(t, model, base, 3, 6)
	approvals := e.leaves(who, dates[3], dates[6])
	for _, inst := range approvals {
		e.mustAct(inst, map[string]any{"action": "approve", "actor": "mgr"})
	}
	first, second := e.replanOf(approvals[0], baseID), e.replanOf(approvals[1], baseID)
	if res := e.do("POST", "/api/v1/schedules/"+first+"/publish", e.key, nil); res.status != 200 {
		t.Fatalf("publish the first re-plan: %d %s", res.status, res.body)
	}
	// The second re-plan was made from the roster the first replaced.
	res := e.do("POST", "/api/v1/schedules/"+second+"/publish", e.key, nil)
	assertProblem(t, res, 409)
	// The second leave is re-planned on the first re-plan, which keeps both.
	third := e.replanOf(approvals[1], first)
	if res := e.do("POST", "/api/v1/schedules/"+third+"/publish", e.key, nil); res.status != 200 {
		t.Fatalf("publish the re-plan on the current roster: %d %s", res.status, res.body)
	}
	if ro := e.rosterOf(third); workingDuring(ro, who, 3, 6) != "" {
		t.Fatalf("the published roster breaks an approved leave: %v", ro)
	}
}

// TestTwoLeavesAutoPublishedBothHold: with auto-publish on, two leaves
// approved together are re-planned side by side from the same roster. The
// first re-plan to finish is published; the second, whose roster is no
// longer published when it finishes, is not (that would undo the first
// leave): its request is re-planned on the first, and that is published.
func TestTwoLeavesAutoPublishedBothHold(t *testing.T) {
	e := newE2E(t)
	e.autoPublishReplans()
	// Large enough that a 2 s re-plan does not finish at once, so the two
	// overlap.
	problem, model := scheduleProblem(t, 40, 28, 3)
	baseID := e.postSchedule(problem, "3s")
	e.waitSchedule(baseID, 30*time.Second, "completed")
	if res := e.do("POST", "/api/v1/schedules/"+baseID+"/publish", e.key, nil); res.status != 200 {
		t.Fatalf("publish: %d %s", res.status, res.body)
	}
	dates := model.Dates()
	who := twoWorking(t, model, e.rosterOf(baseID), 10, 13)
	approvals := e.leaves(who, dates[10], dates[13])
	for _, inst := range approvals {
		e.mustAct(inst, map[string]any{"action": "approve", "actor": "mgr"})
	}
	e.waitPublishedOff(who, 10, 13)
	// And it stays so: no re-plan still running publishes over it.
	time.Sleep(3 * time.Second)
	if id, ro := e.currentRoster(); workingDuring(ro, who, 10, 13) != "" {
		t.Fatalf("the published roster %s breaks an approved leave", id)
	}
	var stale int
	e.mu.Lock()
	for _, env := range e.published {
		if env.Type == "schedule.run.replanned" && strings.Contains(string(env.Data), `"stale":true`) {
			stale++
		}
	}
	e.mu.Unlock()
	t.Logf("stale re-plans redone: %d", stale)
}

// TestNewRosterHonoursApprovedLeave: a schedule created after a leave was
// approved takes it as days off, even over a pin; one solved without it
// (ignore_approved_leave) rosters the person on a leave day, and publishing
// it re-plans the leave on it at once, so that (auto-publish on) the roster
// published in the end keeps the leave.
func TestNewRosterHonoursApprovedLeave(t *testing.T) {
	e := newE2E(t)
	e.autoPublishReplans()
	_, model, base := e.publishedRoster(t)
	dates := model.Dates()
	p := twoWorking(t, model, base, 3, 6)[:1]
	leave := e.leaves(p, dates[3], dates[6])[0]
	e.mustAct(leave, map[string]any{"action": "approve", "actor": "mgr"})
	e.waitPublishedOff(p, 3, 6)

	// The planner solves the period again from the original problem, with p
	// pinned to the shift p had on a leave day.
	for d := 3; d <= 6; d++ {
		if base[p[0]][d] != "" {
			model.Pinned = append(model.Pinned, roster.Assignment{Employee: p[0], Date: dates[d], Shift: base[p[0]][d]})
			break
		}
	}
	solve := func(ignore bool) map[string]any {
		res := e.do("POST", "/api/v1/schedules", e.key, map[string]any{"time_limit": "1s", "problem": model, "ignore_approved_leave": ignore}, "Prefer", "wait=30")
		if res.status != 200 {
			t.Fatalf("solve (ignore_approved_leave %v): %d %s", ignore, res.status, res.body)
		}
		return res.json(t)
	}
	v := solve(false)
	if al, _ := v["approved_leave"].([]any); len(al) != 1 || al[0].(map[string]any)["approval_id"] != leave {
		t.Fatalf("the new schedule took approved leave %v, want the one of %s", v["approved_leave"], leave)
	}
	if ro := e.rosterOf(v["id"].(string)); workingDuring(ro, p, 3, 6) != "" {
		t.Fatalf("the new schedule rosters %s during the approved leave: %v", p[0], ro[p[0]])
	}

	v = solve(true)
	again := v["id"].(string)
	if v["approved_leave"] != nil || workingDuring(e.rosterOf(again), p, 3, 6) == "" {
		t.Fatalf("ignore_approved_leave: the schedule still took the leave: %v", v["approved_leave"])
	}
	res := e.do("POST", "/api/v1/schedules/"+again+"/publish", e.key, nil)
	if res.status != 200 {
		t.Fatalf("publish: %d %s", res.status, res.body)
	}
	if replans, _ := res.json(t)["replans"].([]any); len(replans) != 1 {
		t.Fatalf("publishing a roster that breaks an approved leave started %d re-plans, want 1: %s", len(replans), res.body)
	}
	if id := e.waitPublishedOff(p, 3, 6); id == again {
		t.Fatalf("the roster that breaks the leave is still the published one")
	}
}

// Publishing the published roster again answers 200 and emits nothing: a
// retried publish is not a second publication.
func TestRepublishingIsANoOp(t *testing.T) {
	e := newE2E(t)
	id, _, _ := e.publishedRoster(t)
	res := e.do("POST", "/api/v1/schedules/"+id+"/publish", e.key, nil)
	if res.status != 200 || res.json(t)["published"] != true {
		t.Fatalf("publish again: %d %s", res.status, res.body)
	}
	var page struct {
		Items []map[string]any `json:"items"`
	}
	// The event log holds what was stored, published to NATS or not yet.
	if err := json.Unmarshal(e.do("GET", "/api/v1/events?type=schedule.roster.published&subject=schedules/"+id, e.key, nil).body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("%d schedule.roster.published events, want 1: %v", len(page.Items), page.Items)
	}
}
