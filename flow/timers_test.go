package flow

import (
	"testing"
	"time"
)

func timed(action TimeoutAction, reminders *ReminderSpec) *Template {
	return chain(
		ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{{Type: RuleManager, Level: 1}},
			Timeout: &TimeoutSpec{After: Duration(48 * time.Hour), Action: action}, Reminders: reminders, Allow: allOps},
		ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("ceo")}},
	)
}

func TestTimeouts(t *testing.T) {
	cases := []struct {
		name     string
		action   TimeoutAction
		want     Status
		wantOpen []string
		events   []string
	}{
		{"auto approve", TimeoutAutoApprove, StatusRunning, []string{"ceo"}, []string{"task.timed_out", "task.approved", "task.created"}},
		{"auto reject", TimeoutAutoReject, StatusRejected, nil, []string{"task.timed_out", "task.rejected", "instance.rejected"}},
		{"escalate to the manager", TimeoutEscalate, StatusRunning, []string{"cto"}, []string{"task.timed_out", "task.created", "task.transferred"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, timed(tc.action, nil))
			h.submit("alice", form("days", 1))
			tm := h.timer(TimerTimeout, "mgr")
			if want := h.st.CreatedAt.Add(48 * time.Hour); !tm.DueAt.Equal(want) {
				t.Fatalf("due %v, want %v", tm.DueAt, want)
			}
			if ev, _ := Apply(h.tpl, h.st, Command{Action: ActTimeout, TimerID: tm.ID, At: tm.DueAt}, h.dir); ev.Events[0].Actor != SystemActor {
				t.Fatalf("timer actor %q", ev.Events[0].Actor)
			}
			h.fire(TimerTimeout, "mgr")
			h.wantEvents(tc.events...)
			h.wantStatus(tc.want)
			h.wantOpen(tc.wantOpen...)
		})
	}
}

func TestEscalationClimbsAndStopsAtTheTop(t *testing.T) {
	h := newHarness(t, timed(TimeoutEscalate, nil))
	h.submit("alice", form("days", 1))
	h.fire(TimerTimeout, "mgr")
	h.wantOpen("cto")
	if tk := h.taskOf("cto"); tk.Origin != OriginEscalation {
		t.Fatalf("origin %s", tk.Origin)
	}
	h.fire(TimerTimeout, "cto")
	h.wantOpen("ceo")
	h.fire(TimerTimeout, "ceo") // no manager: stays, no new timer
	h.wantOpen("ceo")
	h.wantEvents("task.timed_out")
	if len(h.st.Timers) != 0 {
		t.Fatalf("timers %v", h.st.Timers)
	}
	h.approve("ceo")
}

func TestStaleTimerIsANoop(t *testing.T) {
	h := newHarness(t, timed(TimeoutAutoReject, &ReminderSpec{Every: Duration(time.Hour), Max: 2}))
	h.submit("alice", form("days", 1))
	tm := h.timer(TimerTimeout, "mgr")
	rem := h.timer(TimerReminder, "mgr")
	res := h.approve("mgr")
	if len(res.CancelTimers) != 2 {
		t.Fatalf("cancel %v", res.CancelTimers)
	}
	for _, stale := range []Command{{Action: ActTimeout, TimerID: tm.ID}, {Action: ActRemind, TimerID: rem.ID}, {Action: ActTimeout, TimerID: "never"}} {
		res := h.do(stale)
		if !res.Noop || len(res.Events) != 0 || res.Instance != h.st && res.Instance.Version != h.st.Version {
			t.Fatalf("stale timer: %+v", res)
		}
	}
	// Also after the end.
	h.approve("ceo")
	if res := h.do(Command{Action: ActTimeout, TimerID: tm.ID}); !res.Noop {
		t.Fatal("timer on a finished instance acted")
	}
}

func TestTimerKindMustMatch(t *testing.T) {
	h := newHarness(t, timed(TimeoutAutoApprove, nil))
	h.submit("alice", form("days", 1))
	h.fail(Command{Action: ActRemind, TimerID: h.timer(TimerTimeout, "mgr").ID}, ErrInvalid)
}

func TestRemindersEveryXAtMostN(t *testing.T) {
	h := newHarness(t, timed(TimeoutAutoApprove, &ReminderSpec{Every: Duration(4 * time.Hour), Max: 3}))
	h.submit("alice", form("days", 1))
	for n := 1; n <= 3; n++ {
		tm := h.timer(TimerReminder, "mgr")
		if tm.Seq != n || !tm.DueAt.Equal(h.st.CreatedAt.Add(time.Duration(n)*4*time.Hour)) {
			t.Fatalf("reminder %d: %+v", n, tm)
		}
		h.fire(TimerReminder, "mgr")
		h.wantEvents("task.reminded")
		if ev := h.events[0]; ev.Data.Seq != n || ev.Data.Assignee != "mgr" {
			t.Fatalf("reminded %+v", ev.Data)
		}
	}
	for _, tm := range h.st.Timers {
		if tm.Kind == TimerReminder {
			t.Fatalf("a fourth reminder: %+v", tm)
		}
	}
}

func TestTimersFollowTasks(t *testing.T) {
	h := newHarness(t, timed(TimeoutAutoApprove, nil))
	h.submit("alice", form("days", 1))
	first := h.timer(TimerTimeout, "mgr")
	// Delegation moves the clock to the delegate and back.
	res := h.do(Command{Action: ActDelegate, Actor: "mgr", To: "bob"})
	if len(res.CancelTimers) != 1 || res.CancelTimers[0] != first.ID {
		t.Fatalf("cancel %v", res.CancelTimers)
	}
	h.timer(TimerTimeout, "bob")
	h.approve("bob")
	h.timer(TimerTimeout, "mgr")
	// Auto-approving the delegator's returned task passes the node.
	h.fire(TimerTimeout, "mgr")
	h.wantOpen("ceo")
}

func TestDelegateTimeoutReturnsTheTask(t *testing.T) {
	h := newHarness(t, timed(TimeoutAutoApprove, nil))
	h.submit("alice", form("days", 1))
	h.do(Command{Action: ActDelegate, Actor: "mgr", To: "bob"})
	h.fire(TimerTimeout, "bob")
	h.wantOpen("mgr")
	if tk := h.taskOf("mgr"); tk.Delegation == nil || tk.Delegation.Opinion != "approve" {
		t.Fatalf("delegation %+v", tk.Delegation)
	}
}
