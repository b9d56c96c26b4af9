// Package ops holds deployment files; these tests check them against the
// code (there is no Docker engine or cluster here to run them).
package ops

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"sigs.k8s.io/yaml"

	"github.com/shiftflow/shiftflow/internal/config"
	"github.com/shiftflow/shiftflow/internal/metrics"
)

func loadCompose(t *testing.T, env map[string]string) (*types.Project, error) {
	t.Helper()
	root, _ := filepath.Abs("..")
	b, err := os.ReadFile(filepath.Join(root, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: "compose.yaml", Content: b}},
		Environment: env,
	}, func(o *loader.Options) { o.SetProjectName("shiftflow", true) })
}

func TestComposeFile(t *testing.T) {
	if _, err := loadCompose(t, map[string]string{}); err == nil || !strings.Contains(err.Error(), "DB_PASSWORD") {
		t.Fatalf("compose.yaml loads without DB_PASSWORD (err = %v); secrets must be required", err)
	}
	p, err := loadCompose(t, map[string]string{"DB_PASSWORD": "pw", "ADMIN_TOKEN": "tok"})
	if err != nil {
		t.Fatalf("compose.yaml does not load: %v", err)
	}
	want := []string{"nats-1", "nats-2", "nats-3", "postgres", "migrate", "api", "worker"}
	for _, name := range want {
		if _, ok := p.Services[name]; !ok {
			t.Fatalf("service %s missing", name)
		}
	}
	replicas := map[string]int{"api": 2, "worker": 3}
	for name, n := range replicas {
		s := p.Services[name]
		if s.Deploy == nil || s.Deploy.Replicas == nil || *s.Deploy.Replicas != n {
			t.Errorf("%s replicas = %v, want %d", name, s.Deploy, n)
		}
	}
	known := config.Variables()
	for name, s := range p.Services {
		if name != "migrate" && (s.HealthCheck == nil || len(s.HealthCheck.Test) == 0) {
			t.Errorf("service %s has no health check", name)
		}
		for dep, d := range s.DependsOn {
			if _, ok := p.Services[dep]; !ok {
				t.Errorf("%s depends on unknown service %s", name, dep)
			}
			if d.Condition == types.ServiceConditionHealthy && p.Services[dep].HealthCheck == nil {
				t.Errorf("%s waits for %s to be healthy, but %s has no health check", name, dep, dep)
			}
		}
		if s.Image == "shiftflow:latest" {
			for k := range s.Environment {
				if !slices.Contains(known, k) {
					t.Errorf("service %s sets %s, which shiftflow does not read", name, k)
				}
			}
			if v := s.Environment["NATS_REPLICAS"]; v == nil || *v != "3" {
				t.Errorf("service %s: streams must be R3 on the 3-node cluster (NATS_REPLICAS=3)", name)
			}
			if v := s.Environment["NATS_URL"]; v == nil || strings.Count(*v, "nats://") != 3 {
				t.Errorf("service %s: NATS_URL must list the three nodes", name)
			}
		}
	}
	for _, name := range []string{"api", "worker"} {
		s := p.Services[name]
		if s.DependsOn["migrate"].Condition != types.ServiceConditionCompletedSuccessfully {
			t.Errorf("%s must start after migrations complete", name)
		}
		for _, n := range []string{"nats-1", "nats-2", "nats-3"} {
			if s.DependsOn[n].Condition != types.ServiceConditionHealthy {
				t.Errorf("%s must wait for %s to be healthy", name, n)
			}
		}
	}
	// The NATS routes name exactly the compose NATS services.
	conf, err := os.ReadFile("nats/nats.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"nats-1", "nats-2", "nats-3"} {
		if !strings.Contains(string(conf), "nats://"+n+":6222") {
			t.Errorf("nats.conf routes lack %s", n)
		}
		if !slices.Contains(p.Services[n].Command, n) {
			t.Errorf("%s does not set its server name", n)
		}
	}
}

var identifier = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)

// promQLWords are functions, keywords and label names, not metric names.
var promQLWords = map[string]bool{
	"sum": true, "rate": true, "increase": true, "histogram_quantile": true, "clamp_min": true, "max": true,
	"min": true, "avg": true, "by": true, "and": true, "or": true, "unless": true, "le": true, "status": true,
	"consumer": true, "outcome": true, "route": true, "type": true, "job": true, "method": true,
}

// metricNames extracts the metric names of a PromQL expression.
func metricNames(expr string) []string {
	expr = regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(expr, "")
	expr = regexp.MustCompile(`\[[^\]]*\]`).ReplaceAllString(expr, "")
	expr = regexp.MustCompile(`"[^"]*"`).ReplaceAllString(expr, "")
	var out []string
	for _, w := range identifier.FindAllString(expr, -1) {
		if !promQLWords[w] && strings.Contains(w, "_") || w == "up" {
			out = append(out, w)
		}
	}
	return out
}

func exported() map[string]bool {
	names := map[string]bool{"up": true}
	for _, n := range metrics.New().Names() {
		names[n] = true
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			names[n+suffix] = true
		}
	}
	return names
}

func TestAlertRulesUseExportedMetrics(t *testing.T) {
	b, err := os.ReadFile("prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Alert       string            `json:"alert"`
				Expr        string            `json:"expr"`
				For         string            `json:"for"`
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.UnmarshalStrict(b, &doc); err != nil {
		t.Fatal(err)
	}
	have := exported()
	seen := map[string]bool{}
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			seen[r.Alert] = true
			if r.Expr == "" {
				t.Errorf("%s has no expression", r.Alert)
			}
			for _, m := range metricNames(r.Expr) {
				if !have[m] {
					t.Errorf("alert %s uses %s, which shiftflow does not export", r.Alert, m)
				}
			}
			rb := r.Annotations["runbook"]
			if _, err := os.Stat(filepath.Join("..", rb)); rb == "" || err != nil {
				t.Errorf("alert %s: runbook %q missing", r.Alert, rb)
			}
		}
	}
	// The seed manuals' alert names keep working.
	for _, a := range []string{"HighErrorRate", "HighLatency", "DatabaseConnectionFailure", "HighRequestLatency", "HighMemoryUsage"} {
		if !seen[a] {
			t.Errorf("seed alert %s missing", a)
		}
	}
}

func TestDashboardUsesExportedMetrics(t *testing.T) {
	b, err := os.ReadFile("grafana/shiftflow.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	have := exported()
	if len(d.Panels) < 8 {
		t.Fatalf("dashboard has %d panels", len(d.Panels))
	}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			for _, m := range metricNames(tg.Expr) {
				if !have[m] {
					t.Errorf("panel %q uses %s, which shiftflow does not export", p.Title, m)
				}
			}
		}
	}
}

func TestKubernetesManifests(t *testing.T) {
	files, _ := filepath.Glob("k8s/*.yaml")
	if len(files) < 5 {
		t.Fatalf("k8s manifests: %v", files)
	}
	known := config.Variables()
	kinds := map[string]bool{}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for i, doc := range strings.Split(string(b), "\n---\n") {
			var m map[string]any
			if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
				t.Fatalf("%s doc %d: %v", f, i, err)
			}
			if strings.HasSuffix(f, "nats-values.yaml") {
				continue
			}
			kind, _ := m["kind"].(string)
			if kind == "" || m["apiVersion"] == nil {
				t.Errorf("%s doc %d lacks kind/apiVersion", f, i)
			}
			kinds[kind] = true
			if kind == "ConfigMap" || kind == "Secret" {
				data, _ := m["data"].(map[string]any)
				if data == nil {
					data, _ = m["stringData"].(map[string]any)
				}
				for k := range data {
					if !slices.Contains(known, k) {
						t.Errorf("%s sets %s, which shiftflow does not read", f, k)
					}
				}
			}
			if kind == "Deployment" {
				spec := m["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
				if spec["terminationGracePeriodSeconds"].(float64) <= 30 {
					t.Errorf("%s: grace period must exceed SHUTDOWN_TIMEOUT (30s)", f)
				}
				c := spec["containers"].([]any)[0].(map[string]any)
				if c["readinessProbe"].(map[string]any)["httpGet"].(map[string]any)["path"] != "/ready" ||
					c["livenessProbe"].(map[string]any)["httpGet"].(map[string]any)["path"] != "/health" {
					t.Errorf("%s: probes must use /ready and /health", f)
				}
			}
		}
	}
	for _, k := range []string{"Deployment", "Service", "HorizontalPodAutoscaler", "Job", "ConfigMap", "PodDisruptionBudget"} {
		if !kinds[k] {
			t.Errorf("no %s manifest", k)
		}
	}
}

// The operators' manual (both languages) documents every metric shiftflow exports.
func TestManualDocumentsEveryMetric(t *testing.T) {
	for _, doc := range []string{"../docs/operations.md", "../docs/operations.zh.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range metrics.New().Names() {
			if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") || strings.HasPrefix(name, "api_request") {
				continue
			}
			if !strings.Contains(string(b), name) {
				t.Errorf("%s does not document %s", doc, name)
			}
		}
	}
}
