package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/workers/approval"
	"github.com/shiftflow/shiftflow/workers/schedule"
)

// outcome is the first event a worker emitted for a command.
type outcome struct {
	Type string
	Data json.RawMessage
}

// waiters lets a request wait for the outcome of the command it published
// (Prefer: wait=N). Events reach every API process through a plain NATS
// subscription on the EVENTS subjects; each carries its command id. The
// subscription exists only while requests wait (and WaitersLinger after):
// without it the process is sent every event of the system for nothing.
type waiters struct {
	mu      sync.Mutex
	m       map[string][]chan outcome // by command id, or scheduleKey
	nc      *nats.Conn
	handler nats.MsgHandler
	sub     *nats.Subscription
	idle    *time.Timer // ends the subscription once nobody waits
	linger  time.Duration
	closed  bool
}

// WaitersLinger keeps the events subscription after the last waiter, so
// that steady use does not subscribe per request (a subscription costs one
// round trip to the server).
const WaitersLinger = 5 * time.Second

func newWaiters() *waiters { return &waiters{m: map[string][]chan outcome{}, linger: WaitersLinger} }

// add registers a waiter for key (a command id, before the command is
// published; or a scheduleKey); it fails when the subscription cannot be
// set up (the request then answers without waiting).
func (w *waiters) add(key string) (chan outcome, error) {
	ch := make(chan outcome, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.nc == nil || w.closed {
		return nil, errNoOutcomes
	}
	if w.idle != nil {
		w.idle.Stop()
		w.idle = nil
	}
	if w.sub == nil {
		sub, err := w.nc.Subscribe("evt.>", w.handler)
		if err != nil {
			return nil, err
		}
		sub.SetPendingLimits(1<<20, 256<<20)
		// The server must know the subscription before the command's
		// outcome can be published.
		if err := w.nc.FlushTimeout(5 * time.Second); err != nil {
			_ = sub.Unsubscribe()
			return nil, err
		}
		w.sub = sub
	}
	w.m[key] = append(w.m[key], ch)
	return ch, nil
}

var errNoOutcomes = errors.New("outcome events are not subscribed")

func (w *waiters) remove(key string, ch chan outcome) {
	w.mu.Lock()
	if chs := slices.DeleteFunc(w.m[key], func(c chan outcome) bool { return c == ch }); len(chs) > 0 {
		w.m[key] = chs
	} else {
		delete(w.m, key)
	}
	w.idleLocked()
	w.mu.Unlock()
}

// idleLocked arms the end of the subscription when nobody waits.
func (w *waiters) idleLocked() {
	if len(w.m) > 0 || w.sub == nil || w.idle != nil {
		return
	}
	w.idle = time.AfterFunc(w.linger, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if len(w.m) == 0 && w.sub != nil {
			_ = w.sub.Unsubscribe()
			w.sub = nil
		}
		w.idle = nil
	})
}

// subscribed reports whether the events subscription exists.
func (w *waiters) subscribed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sub != nil
}

func (w *waiters) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.idle != nil {
		w.idle.Stop()
		w.idle = nil
	}
	if w.sub != nil {
		_ = w.sub.Unsubscribe()
		w.sub = nil
	}
}

// deliver hands o to everyone waiting for key (each channel has room for
// one outcome and gets only one).
func (w *waiters) deliver(key string, o outcome) {
	w.mu.Lock()
	chs, ok := w.m[key]
	if ok {
		delete(w.m, key)
		w.idleLocked()
	}
	w.mu.Unlock()
	for _, ch := range chs {
		ch <- o
	}
}

// scheduleKey is what waits for a schedule's run to end.
func scheduleKey(org, id string) string { return "schedule:" + org + "/" + id }

// Start subscribes to the events the API reacts to: template changes for
// the template cache, and (while requests wait) command outcomes. It
// returns when the subscription is set up; it ends with ctx.
func (s *Server) Start(ctx context.Context) error {
	if s.deps.NC == nil {
		return nil
	}
	sub, err := s.deps.NC.Subscribe("evt.approval.template.>", func(msg *nats.Msg) {
		var e events.Envelope
		if json.Unmarshal(msg.Data, &e) == nil {
			var d struct {
				TemplateID string `json:"template_id"`
			}
			if json.Unmarshal(e.Data, &d) == nil {
				s.templates.Invalidate(e.OrgID, d.TemplateID)
			}
		}
	})
	if err != nil {
		return err
	}
	s.waiters.mu.Lock()
	s.waiters.nc = s.deps.NC
	s.waiters.handler = func(msg *nats.Msg) {
		if !s.hasWaiters() {
			return
		}
		var e events.Envelope
		if err := json.Unmarshal(msg.Data, &e); err != nil {
			return
		}
		var ref struct {
			CommandID  string `json:"command_id"`
			ScheduleID string `json:"schedule_id"`
		}
		if json.Unmarshal(e.Data, &ref) != nil {
			return
		}
		if ref.CommandID != "" {
			s.waiters.deliver(ref.CommandID, outcome{Type: e.Type, Data: e.Data})
		}
		switch e.Type {
		case schedule.EventCompleted, schedule.EventFailed, schedule.EventCancelled:
			if ref.ScheduleID != "" {
				s.waiters.deliver(scheduleKey(e.OrgID, ref.ScheduleID), outcome{Type: e.Type, Data: e.Data})
			}
		}
	}
	s.waiters.mu.Unlock()
	go func() {
		<-ctx.Done()
		_ = sub.Unsubscribe()
		s.waiters.close()
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

// waitFor registers a waiter for key when the request asks to wait
// (Prefer: wait=N): the channel, how long to wait (0: answer at once, also
// when the events cannot be subscribed) and what unregisters it.
func (s *Server) waitFor(r *http.Request, key string) (chan outcome, time.Duration, func()) {
	wait := s.preferWait(r)
	if wait <= 0 {
		return nil, 0, func() {}
	}
	ch, err := s.waiters.add(key)
	if err != nil {
		s.log(r).Warn("cannot wait for the outcome", "error", err)
		return nil, 0, func() {}
	}
	return ch, wait, func() { s.waiters.remove(key, ch) }
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
