package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/internal/pglocal"
	"github.com/shiftflow/shiftflow/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// buildBinary compiles shiftflow once per test run.
var builtBinary string

func binary(t *testing.T) string {
	t.Helper()
	if builtBinary != "" {
		return builtBinary
	}
	dir, err := os.MkdirTemp("", "shiftflow-bin-")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "shiftflow")
	cmd := exec.Command("go", "build", "-o", out, ".")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	builtBinary = out
	return out
}

// processEnv is a complete environment for a shiftflow process on a fresh
// database and a private embedded NATS store.
func processEnv(t *testing.T) (env []string, port int) {
	t.Helper()
	port, err := pglocal.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	env = append(os.Environ(),
		"DATABASE_URL="+testenv.PostgresURL(t),
		"NATS_URL=", "NATS_EMBEDDED_PORT=-1", "NATS_STORE_DIR="+t.TempDir(),
		fmt.Sprintf("APP_PORT=%d", port), "ADMIN_ADDR=", "ADMIN_TOKEN=test-token-xyz",
		"LOG_LEVEL=info", "SHUTDOWN_TIMEOUT=10s",
	)
	return env, port
}

func waitReady(t *testing.T, port int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/ready", port))
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("/ready not 200 within %s", limit)
}

func TestBadConfigExitsWithUsageCode(t *testing.T) {
	cases := map[string]string{
		"APP_PORT=eighty":          "APP_PORT",
		"SHUTDOWN_TIMEOUT=forever": "SHUTDOWN_TIMEOUT",
		"LOG_FORMAT=xml":           "LOG_FORMAT",
		"DB_MAX_CONNS=-3":          "DB_MAX_CONNS",
		"ADMIN_ADDR=nonsense":      "ADMIN_ADDR",
	}
	for setting, name := range cases {
		cmd := exec.Command(binary(t), "all")
		cmd.Env = append(os.Environ(), setting)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 2 {
			t.Fatalf("%s: exit = %v, want 2", setting, err)
		}
		if !strings.Contains(stderr.String(), name) || !strings.Contains(stderr.String(), "expected") {
			t.Fatalf("%s: stderr does not name the variable and what it expected: %s", setting, stderr.String())
		}
	}
}

// The real binary: `all` becomes ready on a migrated database, then SIGTERM
// makes it drain and exit 0.
func TestAllServesAndStopsOnSIGTERM(t *testing.T) {
	env, port := processEnv(t)
	mig := exec.Command(binary(t), "migrate", "up")
	mig.Env = env
	if out, err := mig.CombinedOutput(); err != nil {
		t.Fatalf("migrate up: %v\n%s", err, out)
	}
	cmd := exec.Command(binary(t), "all")
	cmd.Env = env
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitReady(t, port, 30*time.Second)

	res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, series := range []string{
		`events_processed_total{consumer="dead-letters",outcome="success"} 0`,
		`failed_events_total{consumer="dead-letters"} 0`,
		`consumer_pending_messages{consumer="dead-letters"}`,
		"database_connections_max 20", "outbox_pending_events 0",
	} {
		if !strings.Contains(string(body), series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no exit 20 s after SIGTERM\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"exit_code":0`) || !strings.Contains(logs.String(), "worker pool drained") {
		t.Fatalf("shutdown not logged as a clean drain:\n%s", logs.String())
	}
}

// `migrate status` on a fresh database lists pending migrations; `up` then
// `down` round-trips; a bad subcommand is a usage error.
func TestMigrateCommands(t *testing.T) {
	env, _ := processEnv(t)
	run := func(args ...string) (string, int) {
		cmd := exec.Command(binary(t), args...)
		cmd.Env = env
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	// The test database arrives migrated; roll everything back first.
	for {
		out, code := run("migrate", "down")
		if code != 0 {
			if !strings.Contains(out, "no migration to roll back") {
				t.Fatalf("migrate down: %s", out)
			}
			break
		}
	}
	if out, _ := run("migrate", "status"); !strings.Contains(out, "pending") {
		t.Fatalf("status after down: %s", out)
	}
	if out, code := run("migrate", "up"); code != 0 || !strings.Contains(out, "applied 00001") {
		t.Fatalf("up: %d %s", code, out)
	}
	if out, _ := run("migrate", "status"); strings.Contains(out, "pending") {
		t.Fatalf("status after up: %s", out)
	}
	if _, code := run("migrate", "sideways"); code != 2 {
		t.Fatalf("bad subcommand exit = %d, want 2", code)
	}
}

func TestKeysCommands(t *testing.T) {
	env, _ := processEnv(t)
	run := func(args ...string) (string, int) {
		cmd := exec.Command(binary(t), args...)
		cmd.Env = env
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	out, code := run("keys", "create", "--org", "acme", "--name", "hr-system", "--scopes", "approval,schedule")
	if code != 0 || !strings.Contains(out, "sfk_") {
		t.Fatalf("create: %d %s", code, out)
	}
	id := strings.Fields(strings.SplitN(out, "\n", 2)[0])[1]
	if out, _ := run("keys", "list"); !strings.Contains(out, "hr-system") || strings.Contains(out, "sfk_") {
		t.Fatalf("list: %s", out)
	}
	if out, code := run("keys", "create", "--org", "acme", "--name", "x", "--scopes", "superuser"); code != 2 || !strings.Contains(out, "--scopes") {
		t.Fatalf("bad scope: %d %s", code, out)
	}
	if out, code := run("keys", "revoke", id); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %d %s", code, out)
	}
	if _, code := run("keys", "revoke", "not-a-uuid"); code != 2 {
		t.Fatalf("revoke bad id exit = %d, want 2", code)
	}
}

func TestConfigRedactsSecrets(t *testing.T) {
	cmd := exec.Command(binary(t), "config")
	cmd.Env = append(os.Environ(), "DB_PASSWORD=hunter2", "ADMIN_TOKEN=supersecret", "DATABASE_URL=postgres://u:pw@h/db")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("config: %v %s", err, out)
	}
	for _, secret := range []string{"hunter2", "supersecret", ":pw@"} {
		if strings.Contains(string(out), secret) {
			t.Fatalf("config prints a secret (%s):\n%s", secret, out)
		}
	}
	if !strings.Contains(string(out), "APP_PORT") || !strings.Contains(string(out), "DB_MAX_CONNS") {
		t.Fatalf("config output incomplete:\n%s", out)
	}
}

// The replay and cleanup commands against a running `shiftflow all`: a
// command that can never succeed becomes a dead letter; the CLI lists it
// (dry run), replays it (it fails again, and says so), and cleanup counts.
func TestReplayAndCleanupCommands(t *testing.T) {
	env, port := processEnv(t)
	natsPort, _ := pglocal.FreePort()
	env = append(env, fmt.Sprintf("NATS_EMBEDDED_PORT=%d", natsPort))
	run := func(args ...string) (string, int) {
		cmd := exec.Command(binary(t), args...)
		cmd.Env = env
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := run("migrate", "up"); code != 0 {
		t.Fatalf("migrate: %s", out)
	}
	all := exec.Command(binary(t), "all")
	all.Env = env
	if err := all.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = all.Process.Signal(syscall.SIGTERM); _ = all.Wait() })
	waitReady(t, port, 30*time.Second)
	since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)

	// A command whose payload no handler can decode.
	nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", natsPort))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	bad := events.Envelope{SpecVersion: "1.0", ID: "7b0f3c9e-0000-4000-8000-000000000001", Source: "test", Type: "approval.instance.act",
		Time: time.Now().UTC(), OrgID: "acme", Data: json.RawMessage(`"not a command"`)}
	msg, _ := events.Message(events.CommandSubject(bad.Type, bad.OrgID), bad)
	if _, err := js.PublishMsg(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(context.Background(), envValue(env, "DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var id string
	deadline := time.Now().Add(15 * time.Second)
	for pool.QueryRow(context.Background(), `SELECT id::text FROM failed_events WHERE message_id = $1`, bad.ID).Scan(&id) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the bad command never became a dead letter")
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, code := run("replay", "--consumer", "approval", "--since", since, "--dry-run")
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "1 dead letter(s) would be replayed") {
		t.Fatalf("dry run: %d\n%s", code, out)
	}
	out, code = run("replay", "--id", id, "--wait", "20s")
	if code != 1 || !strings.Contains(out, "failed again: 1") {
		t.Fatalf("replay of a hopeless command: %d\n%s", code, out)
	}
	if out, code := run("replay", "--since", "yesterday", "--consumer", "approval"); code != 2 || !strings.Contains(out, "--since") {
		t.Fatalf("bad --since: %d %s", code, out)
	}
	out, code = run("cleanup", "--dry-run")
	if code != 0 || !strings.Contains(out, "audit_logs") || !strings.Contains(out, "would delete") {
		t.Fatalf("cleanup dry run: %d\n%s", code, out)
	}
}

func envValue(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}
