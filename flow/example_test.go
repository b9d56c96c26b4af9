package flow_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shiftflow/shiftflow/flow"
)

// A two-level leave flow: submit, the manager approves, the manager's
// manager races another approver on an any node.
func Example() {
	var tpl flow.Template
	_ = json.Unmarshal([]byte(`{
	  "id": "leave", "version": 1, "kind": "leave",
	  "form": [
	    {"name": "person", "type": "person", "required": true},
	    {"name": "from_date", "type": "date", "required": true},
	    {"name": "to_date", "type": "date", "required": true}
	  ],
	  "nodes": [
	    {"id": "start", "type": "start", "next": "manager"},
	    {"id": "manager", "type": "approval", "next": "upper",
	     "approval": {"mode": "single", "approvers": [{"type": "manager", "level": 1}],
	                  "timeout": {"after": "2d", "action": "escalate"}}},
	    {"id": "upper", "type": "approval", "next": "end",
	     "approval": {"mode": "any", "approvers": [{"type": "manager", "level": 2}, {"type": "people", "people": ["hr"]}]}},
	    {"id": "end", "type": "end"}
	  ]}`), &tpl)
	if probs := flow.ValidateTemplate(&tpl); len(probs) > 0 {
		fmt.Println(probs)
		return
	}
	dir := flow.NewStaticDirectory([]flow.Person{
		{ID: "ann", Manager: "max"}, {ID: "max", Manager: "kim"}, {ID: "kim"}, {ID: "hr"},
	}, nil, "")
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	res, err := flow.Apply(&tpl, nil, flow.Command{
		Action: flow.ActSubmit, Actor: "ann", InstanceID: "req-1", At: at,
		Form: map[string]any{"person": "ann", "from_date": "2026-03-10", "to_date": "2026-03-12"},
	}, dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Instance.Status, res.Instance.Assignees(), len(res.Timers), "timer due", res.Timers[0].DueAt.Format(time.DateOnly))

	res, _ = flow.Apply(&tpl, res.Instance, flow.Command{Action: flow.ActApprove, Actor: "max", At: at.Add(time.Hour)}, dir)
	fmt.Println(res.CancelTimers, res.Instance.Assignees())

	st := res.Instance
	won, _ := flow.Apply(&tpl, st, flow.Command{Action: flow.ActApprove, Actor: "hr", At: at.Add(2 * time.Hour)}, dir)
	for _, e := range won.Events {
		fmt.Println(e.Type, e.Node, e.Actor)
	}
	_, err = flow.Apply(&tpl, won.Instance, flow.Command{Action: flow.ActApprove, Actor: "kim", At: at.Add(2 * time.Hour)}, dir)
	fmt.Println(errors.Is(err, flow.ErrConflict), err)
	// Output:
	// running [max] 1 timer due 2026-03-04
	// [req-1:tm3] [kim hr]
	// approval.task.approved upper hr
	// approval.task.cancelled upper hr
	// approval.instance.approved end hr
	// approval.leave.approved end hr
	// true conflict: instance req-1 is approved
}
