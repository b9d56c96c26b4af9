package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/workers/approval"
)

// outcome is the first event a worker emitted for a command.
type outcome struct {
	Type string
	Data json.RawMessage
}

// waiters lets a request wait for the outcome of the command it published
// (Prefer: wait=N). Events reach every API process through a plain NATS
// subscription on the EVENTS subjects; each carries its command id.
type waiters struct {
	mu sync.Mutex
	m  map[string]chan outcome
}

func newWaiters() *waiters { return &waiters{m: map[string]chan outcome{}} }

func (w *waiters) add(commandID string) chan outcome {
	ch := make(chan outcome, 1)
	w.mu.Lock()
	w.m[commandID] = ch
	w.mu.Unlock()
	return ch
}

func (w *waiters) remove(commandID string) {
	w.mu.Lock()
	delete(w.m, commandID)
	w.mu.Unlock()
}

func (w *waiters) deliver(commandID string, o outcome) {
	w.mu.Lock()
	ch, ok := w.m[commandID]
	if ok {
		delete(w.m, commandID)
	}
	w.mu.Unlock()
	if ok {
		ch <- o
	}
}

// Start subscribes to the events the API reacts to: command outcomes for
// waiting requests and template changes for the template cache. It returns
// when the subscription is set up; it ends with ctx.
func (s *Server) Start(ctx context.Context) error {
	if s.deps.NC == nil {
		return nil
	}
	sub, err := s.deps.NC.Subscribe("evt.>", func(msg *nats.Msg) {
		typ := msg.Header.Get(events.HeaderType)
		if strings.HasPrefix(typ, "approval.template.") {
			var e events.Envelope
			if json.Unmarshal(msg.Data, &e) == nil {
				var d struct {
					TemplateID string `json:"template_id"`
				}
				if json.Unmarshal(e.Data, &d) == nil {
					s.templates.Invalidate(e.OrgID, d.TemplateID)
				}
			}
			return
		}
		if !s.hasWaiters() {
			return
		}
		var e events.Envelope
		if err := json.Unmarshal(msg.Data, &e); err != nil {
			return
		}
		var ref struct {
			CommandID string `json:"command_id"`
		}
		if json.Unmarshal(e.Data, &ref) == nil && ref.CommandID != "" {
			s.waiters.deliver(ref.CommandID, outcome{Type: e.Type, Data: e.Data})
		}
	})
	if err != nil {
		return err
	}
	sub.SetPendingLimits(1<<20, 256<<20)
	go func() {
		<-ctx.Done()
		_ = sub.Unsubscribe()
	}()
	return s.deps.NC.FlushTimeout(5 * time.Second)
}

func (s *Server) hasWaiters() bool {
	s.waiters.mu.Lock()
	defer s.waiters.mu.Unlock()
	return len(s.waiters.m) > 0
}

// preferWait parses "Prefer: wait=N" (RFC 7240), capped by PREFER_WAIT_MAX.
func (s *Server) preferWait(r *http.Request) time.Duration {
	for _, h := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(h, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || strings.ToLower(strings.TrimSpace(k)) != "wait" {
				continue
			}
			n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(v), `"`))
			if err != nil || n <= 0 {
				continue
			}
			d := time.Duration(n) * time.Second
			if max := s.deps.Config.PreferWaitMax; max > 0 && d > max {
				d = max
			}
			return d
		}
	}
	return 0
}

// awaitOutcome waits for the command's first event, or returns false on timeout.
func (s *Server) awaitOutcome(r *http.Request, ch chan outcome, d time.Duration) (outcome, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case o := <-ch:
		return o, true
	case <-t.C:
	case <-r.Context().Done():
	}
	return outcome{}, false
}

// rejectedOutcome decodes an approval.command.rejected outcome.
func rejectedOutcome(o outcome) (approval.RejectedData, bool) {
	var d approval.RejectedData
	if o.Type != approval.EventCommandRejected {
		return d, false
	}
	_ = json.Unmarshal(o.Data, &d)
	return d, true
}
