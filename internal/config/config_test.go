package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestLoadDefaults(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.AppPort != 8080 || c.DBName != "shiftflow" || c.WorkerScheduleConcurrency < 1 || c.ShutdownTimeout.Seconds() != 30 {
		t.Fatalf("defaults: %+v", c)
	}
	if got := c.PostgresURL(); got != "postgres://shiftflow@localhost:5432/shiftflow?sslmode=prefer" {
		t.Fatalf("PostgresURL = %s", got)
	}
	if _, auto, ok := c.ReplanChangeWeightValue(); !auto || !ok {
		t.Fatalf("REPLAN_CHANGE_WEIGHT default %q: auto %v, ok %v", c.ReplanChangeWeight, auto, ok)
	}
	t.Setenv("REPLAN_CHANGE_WEIGHT", "250")
	if c, err = Load(); err != nil {
		t.Fatal(err)
	}
	if w, auto, ok := c.ReplanChangeWeightValue(); w != 250 || auto || !ok {
		t.Fatalf("REPLAN_CHANGE_WEIGHT=250 gives %d, auto %v, ok %v", w, auto, ok)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	cases := []struct{ env, value, want string }{
		{"APP_PORT", "x", "an integer"},
		{"APP_PORT", "70000", "between 1 and 65535"},
		{"LOG_LEVEL", "chatty", "one of debug"},
		{"LOG_FORMAT", "xml", "one of json"},
		{"DB_MAX_CONNS", "0", "at least 1"},
		{"DB_MAX_CONN_LIFETIME", "1 hour", "a duration"},
		{"SHUTDOWN_TIMEOUT", "-5s", "a positive duration"},
		{"NATS_REPLICAS", "2", "1, 3 or 5"},
		{"WORKER_APPROVAL_CONCURRENCY", "0", "between 1 and 1024"},
		{"ADMIN_ADDR", "6060", "host:port"},
		{"RATE_LIMIT_RPS", "-1", "a positive number"},
		{"DATABASE_URL", "mysql://x", "postgres://"},
		{"DB_SSLMODE", "maybe", "one of disable"},
		{"OUTBOX_FORWARD_GRACE", "-1s", "between 0 (off) and 1m"},
		{"OUTBOX_FORWARD_GRACE", "20m", "between 0 (off) and 1m (half of NATS_DUPLICATE_WINDOW"},
		{"NATS_DUPLICATE_WINDOW", "10s", "between 1m and 24h"},
		{"NATS_DUPLICATE_WINDOW", "soon", "a duration"},
		{"REPLAN_CHANGE_WEIGHT", "-3", "auto, or an integer zero or more"},
		{"REPLAN_CHANGE_WEIGHT", "high", "auto, or an integer zero or more"},
	}
	for _, c := range cases {
		t.Run(c.env+"="+c.value, func(t *testing.T) {
			t.Setenv(c.env, c.value)
			_, err := Load()
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.env) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not name %s and %q", err, c.env, c.want)
			}
		})
	}
}

// The relay's grace must stay inside the duplicate window, whose size sets
// the limit.
func TestForwardGraceFollowsTheDuplicateWindow(t *testing.T) {
	t.Setenv("NATS_DUPLICATE_WINDOW", "10m")
	t.Setenv("OUTBOX_FORWARD_GRACE", "4m")
	c, err := Load()
	if err != nil || c.NATSDuplicateWindow != 10*time.Minute || c.OutboxForwardGrace != 4*time.Minute {
		t.Fatalf("10m window, 4m grace: %+v, %v", c, err)
	}
	t.Setenv("NATS_DUPLICATE_WINDOW", "3m")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "between 0 (off) and 1m30s (half of NATS_DUPLICATE_WINDOW") {
		t.Fatalf("3m window, 4m grace: %v", err)
	}
}

func TestEffectiveRedactsSecrets(t *testing.T) {
	t.Setenv("DB_PASSWORD", "hunter2")
	t.Setenv("ADMIN_TOKEN", "tok")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range c.Effective() {
		if s.Secret && (strings.Contains(s.Value, "hunter2") || s.Value == "tok") {
			t.Fatalf("%s not redacted", s.Var)
		}
		if s.Description == "" {
			t.Errorf("%s has no description", s.Var)
		}
	}
}

// The README's configuration table documents every variable.
func TestREADMEDocumentsEveryVariable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Variables() {
		if !strings.Contains(string(b), "`"+v+"`") {
			t.Errorf("README.md does not document %s", v)
		}
	}
}
