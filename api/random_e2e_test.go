package api

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestE2ERandomActionsAreAppliedOrRefused drives the whole pipeline with
// random actions: every operation, by assignees, initiators, bystanders and
// unknown people, on open, decided and finished tasks, with odd targets and
// fields. Each request waits for its outcome (Prefer: wait). Whatever is
// sent, the answer is a success with a valid state or a refusal as problem
// +json, never a 5xx or an acceptance that stays unanswered; and no command
// the API accepted ends as a dead letter.
func TestE2ERandomActionsAreAppliedOrRefused(t *testing.T) {
	e := newE2E(t)
	templates := []string{
		e.template(opsTemplate),
		e.template(`{"id": "mixed", "name": "Mixed", "form": [{"name": "amount", "type": "number", "required": true}, {"name": "note", "type": "string"}],
		  "nodes": [{"id": "start", "type": "start", "next": "board"},
			{"id": "board", "type": "approval", "next": "split", "approval": {"mode": "all", "comment_required_on_reject": true,
				"approvers": [{"type": "people", "people": ["erin", "frank", "dave"]}], "allow": ["transfer", "delegate", "add_signer"], "on_reject": "to_initiator"}},
			{"id": "split", "type": "parallel", "join": "join", "branches": [{"next": "vote"}, {"next": "any"}]},
			{"id": "vote", "type": "approval", "next": "join", "approval": {"mode": "vote", "pass_ratio": 0.6,
				"approvers": [{"type": "people", "people": ["hr1", "hr2", "carol"]}], "allow": ["transfer", "add_signer"], "on_reject": "terminate"}},
			{"id": "any", "type": "approval", "next": "join", "approval": {"mode": "any",
				"approvers": [{"type": "manager", "level": 1}, {"type": "department_head"}], "allow": ["delegate"], "on_reject": "to_previous"}},
			{"id": "join", "type": "join", "next": "seq"},
			{"id": "seq", "type": "approval", "next": "end", "approval": {"mode": "sequential",
				"approvers": [{"type": "people", "people": ["cto", "ceo"]}], "allow": ["transfer", "delegate", "add_signer"],
				"on_reject": "terminate", "reject_options": ["to_previous", "to_initiator", "to_node:board"]}},
			{"id": "end", "type": "end"}]}`),
	}
	people := []string{"alice", "bob", "mgr", "cto", "ceo", "carol", "dave", "erin", "frank", "hr1", "hr2", "root", "zed", "ghost", ""}
	actions := []string{"approve", "approve", "approve", "approve", "approve", "reject", "transfer", "delegate", "add_signer", "remove_signer",
		"withdraw", "resubmit", "urge", "comment", "cancel"}
	rng := rand.New(rand.NewPCG(7, 11))
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }

	var ids []string
	initiator := map[string]string{}
	statuses := map[int]int{}
	for step := 0; step < 400; step++ {
		if len(ids) == 0 || rng.IntN(8) == 0 {
			who := pick([]string{"alice", "bob", "erin"})
			tmpl := pick(templates)
			form := map[string]any{"days": 1 + rng.IntN(5)}
			if tmpl == "mixed" {
				form = map[string]any{"amount": rng.Float64() * 1e6, "note": pick([]string{"", "π ≈ 3.14", "<script>", "line\nbreak"})}
			}
			ids = append(ids, e.submit(tmpl, who, form))
			initiator[ids[len(ids)-1]] = who
			continue
		}
		id := pick(ids)
		v := e.get(id)
		open := openAssignees(v)
		body := map[string]any{"action": pick(actions)}
		switch r := rng.IntN(10); {
		case r < 6 && len(open) > 0:
			body["actor"] = pick(open)
		case r < 7:
			body["actor"] = initiator[id]
		default:
			body["actor"] = pick(people)
		}
		if rng.IntN(4) == 0 {
			body["task_id"] = pick([]string{"t-404", taskOf(v, pick(people)), ""})
		}
		if rng.IntN(2) == 0 {
			body["comment"] = pick([]string{"ok", "", "需要补充材料", "x"})
		}
		switch body["action"] {
		case "transfer", "delegate":
			body["to"] = pick(people)
		case "add_signer", "remove_signer":
			n := rng.IntN(3)
			var signers []string
			for range n {
				signers = append(signers, pick(people))
			}
			body["signers"] = signers
			body["position"] = pick([]string{"before", "after", "parallel", "sideways"})
		case "reject":
			if rng.IntN(2) == 0 {
				body["reject_to"] = pick([]string{"to_previous", "to_initiator", "to_node:board", "to_node:nowhere", "terminate"})
			}
		case "resubmit":
			if rng.IntN(2) == 0 {
				body["form"] = map[string]any{"days": rng.IntN(9)}
			} else {
				body["form"] = map[string]any{"amount": -1.5, "note": "again"}
			}
		case "comment":
			if rng.IntN(2) == 0 {
				body["attachments"] = []string{"file-1", ""}
			}
		}
		res := e.do("POST", "/api/v1/approvals/"+id+"/actions", e.key, body, "Prefer", "wait=15")
		statuses[res.status]++
		switch {
		case res.status == 200:
			var st struct {
				Status string `json:"status"`
			}
			if err := json.Unmarshal(res.body, &st); err != nil || !slices.Contains([]string{"running", "returned", "approved", "rejected", "withdrawn", "cancelled"}, st.Status) {
				t.Fatalf("step %d %v: 200 without a valid state: %s", step, body, res.body)
			}
		case res.status == 202:
			t.Fatalf("step %d %v: no outcome within the wait: %s", step, body, res.body)
		case res.status >= 500:
			t.Fatalf("step %d %v: %d %s", step, body, res.status, res.body)
		default:
			assertProblem(t, res, res.status)
		}
	}
	t.Logf("%d instances, answers by status: %v", len(ids), statuses)
	if statuses[200] < 60 || statuses[409]+statuses[403]+statuses[422] < 60 {
		t.Fatalf("the walk is lopsided (%v): it tests too little of either side", statuses)
	}

	// Nothing accepted ended as a dead letter, on any consumer.
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := e.do("GET", "/api/v1/ops/failed-events", e.key, nil)
		var page struct {
			Items []map[string]any `json:"items"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &page) != nil {
			t.Fatalf("failed events: %d %s", r.status, r.body)
		}
		if len(page.Items) > 0 {
			t.Fatalf("dead letters after the walk: %s", fmt.Sprint(page.Items))
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
}
