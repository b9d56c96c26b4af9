package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"sigs.k8s.io/yaml"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/internal/version"
)

// health is liveness: the process serves HTTP.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

type check struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// ready checks the database, NATS (JetStream answering) and that every
// migration is applied; 503 names the failing part.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	checks := map[string]check{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	run := func(name string, fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := check{Status: "ok"}
			if err := fn(); err != nil {
				c = check{Status: "fail", Error: err.Error()}
			}
			mu.Lock()
			checks[name] = c
			mu.Unlock()
		}()
	}
	run("database", func() error { return s.deps.DB.Ping(ctx) })
	run("migrations", func() error {
		current, err := db.MigrationsCurrent(ctx, s.deps.DB)
		if err != nil {
			return err
		}
		if !current {
			return errString("pending migrations: run shiftflow migrate up")
		}
		return nil
	})
	run("nats", func() error {
		if s.deps.NC == nil || s.deps.NC.Status() != nats.CONNECTED {
			return errString("not connected to NATS")
		}
		_, err := s.deps.JS.AccountInfo(ctx)
		return err
	})
	wg.Wait()
	status := http.StatusOK
	var failing []string
	for name, c := range checks {
		if c.Status != "ok" {
			status = http.StatusServiceUnavailable
			failing = append(failing, name)
		}
	}
	if status != http.StatusOK {
		p := NewProblem(status, "not ready: "+joinSorted(failing))
		p.Extensions = map[string]any{"checks": checks}
		writeProblem(w, r, p)
		return
	}
	writeJSON(w, status, map[string]any{"status": "ready", "checks": checks})
}

type errString string

func (e errString) Error() string { return string(e) }

func (s *Server) version(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, version.Get())
}

//go:embed openapi.yaml
var openAPIYAML []byte

var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	b, err := yaml.YAMLToJSON(openAPIYAML)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return json.MarshalIndent(v, "", "  ")
})

// OpenAPIDocument returns the served OpenAPI document as JSON.
func OpenAPIDocument() ([]byte, error) { return openAPIJSON() }

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	b, err := openAPIJSON()
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
