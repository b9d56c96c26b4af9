package flow

import (
	"encoding/json"
	"testing"
	"time"
)

// threeLevel is the typical flow: manager, manager's manager, then the
// department head, each with a timeout and reminders.
func threeLevel() *Template {
	spec := func(rule ApproverRule) ApprovalSpec {
		return ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{rule},
			Timeout:   &TimeoutSpec{After: Duration(48 * time.Hour), Action: TimeoutEscalate},
			Reminders: &ReminderSpec{Every: Duration(8 * time.Hour), Max: 3},
			OnReject:  RejectToPrevious, Allow: allOps}
	}
	return chain(
		spec(ApproverRule{Type: RuleManager, Level: 1}),
		spec(ApproverRule{Type: RuleManager, Level: 2}),
		spec(ApproverRule{Type: RuleDepartmentHead}),
	)
}

func benchSubmit(b *testing.B, tpl *Template, dir Directory) *Instance {
	res, err := Apply(tpl, nil, Command{Action: ActSubmit, Actor: "alice", InstanceID: "0190d5a2-7c1e-7d2f-9a0b-3c4d5e6f7a8b", At: t0, Form: form("days", 4.0, "type", "annual", "reason", "trip")}, dir)
	if err != nil {
		b.Fatal(err)
	}
	return res.Instance
}

func BenchmarkApplySubmit(b *testing.B) {
	tpl, dir := threeLevel(), testDir()
	c := Command{Action: ActSubmit, Actor: "alice", InstanceID: "0190d5a2-7c1e-7d2f-9a0b-3c4d5e6f7a8b", At: t0, Form: form("days", 4.0, "type", "annual", "reason", "trip")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Apply(tpl, nil, c, dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyApprove is one approval in the middle of the 3-level flow:
// the first approver decides and the second node opens.
func BenchmarkApplyApprove(b *testing.B) {
	tpl, dir := threeLevel(), testDir()
	st := benchSubmit(b, tpl, dir)
	c := Command{Action: ActApprove, Actor: "mgr", At: t0.Add(time.Hour), Comment: "ok"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Apply(tpl, st, c, dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyFlow runs a whole 3-level instance (submit and three
// approvals) per iteration and reports the cost per action.
func BenchmarkApplyFlow(b *testing.B) {
	tpl, dir := threeLevel(), testDir()
	b.ReportAllocs()
	for b.Loop() {
		st := benchSubmit(b, tpl, dir)
		for i, who := range []string{"mgr", "cto", "cto"} {
			res, err := Apply(tpl, st, Command{Action: ActApprove, Actor: who, At: t0.Add(time.Duration(i+1) * time.Hour)}, dir)
			if err != nil {
				b.Fatal(err)
			}
			st = res.Instance
		}
		if st.Status != StatusApproved {
			b.Fatal(st.Status)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*4), "ns/action")
}

// BenchmarkInstanceJSON is the adapter's share per action: decode the
// stored state, encode the new one.
func BenchmarkInstanceJSON(b *testing.B) {
	tpl, dir := threeLevel(), testDir()
	st := benchSubmit(b, tpl, dir)
	res, _ := Apply(tpl, st, Command{Action: ActApprove, Actor: "mgr", At: t0.Add(time.Hour)}, dir)
	data, _ := json.Marshal(res.Instance)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var in Instance
		if err := json.Unmarshal(data, &in); err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(&in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateTemplate(b *testing.B) {
	tpl := leaveTemplate(b)
	b.ReportAllocs()
	for b.Loop() {
		if probs := ValidateTemplate(tpl); len(probs) > 0 {
			b.Fatal(probs)
		}
	}
}

func BenchmarkValidateForm(b *testing.B) {
	tpl := leaveTemplate(b)
	f := form("person", "alice", "from_date", "2026-03-02", "to_date", "2026-03-09", "days", 6.0, "type", "annual")
	b.ReportAllocs()
	for b.Loop() {
		if errs := ValidateForm(tpl, f); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}
