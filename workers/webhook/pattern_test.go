package webhook

import (
	"slices"
	"testing"
)

func TestMatch(t *testing.T) {
	cases := []struct {
		pattern, typ string
		want         bool
	}{
		{"*", "approval.instance.approved", true},
		{"approval.*", "approval.instance.approved", true},
		{"approval.*", "schedule.run.completed", false},
		{"approval.instance.*", "approval.instance.approved", true},
		{"approval.instance.*", "approval.task.created", false},
		{"approval.*.approved", "approval.instance.approved", true},
		{"approval.*.approved", "approval.task.approved", true},
		{"approval.*.approved", "approval.task.created", false},
		{"approval.instance.approved", "approval.instance.approved", true},
		{"approval.instance", "approval.instance.approved", false},
		{"*.*.completed", "schedule.run.completed", true},
	}
	for _, c := range cases {
		if got := Match([]string{c.pattern}, c.typ); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.typ, got, c.want)
		}
	}
}

func TestValidatePattern(t *testing.T) {
	for _, ok := range []string{"*", "approval.*", "approval.instance.approved", "a.*.c"} {
		if err := ValidatePattern(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Approval.*", "a.b.c.d", "a..b", "a.b-c", "a.**"} {
		if ValidatePattern(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSubjects(t *testing.T) {
	got := Subjects([]string{"approval.*", "schedule.run.completed", "*", "a.*.c"}, "acme")
	want := []string{"evt.approval.*.*.acme", "evt.schedule.run.completed.acme", "evt.*.*.*.acme", "evt.a.*.c.acme"}
	if !slices.Equal(got, want) {
		t.Fatalf("Subjects = %v, want %v", got, want)
	}
}

func TestRetryAfter(t *testing.T) {
	now := mustTime("2026-01-01T00:00:00Z")
	cases := map[string]int64{"": 0, "5": 5, "-3": 0, "abc": 0, "Thu, 01 Jan 2026 00:00:30 GMT": 30, "999999999": 86400}
	for v, want := range cases {
		if got := retryAfter(v, now); int64(got.Seconds()) != want {
			t.Errorf("retryAfter(%q) = %s, want %ds", v, got, want)
		}
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("approval.*", "approval.instance.approved")
	f.Add("*.*.*", "a.b.c")
	f.Fuzz(func(t *testing.T, pattern, typ string) {
		if ValidatePattern(pattern) != nil {
			return
		}
		m := Match([]string{pattern}, typ)
		if pattern == typ && !m {
			t.Fatalf("%q does not match itself", pattern)
		}
	})
}
