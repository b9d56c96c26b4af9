package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	sse "github.com/tmaxmax/go-sse"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
	webhooks "github.com/shiftflow/shiftflow/workers/webhook"
)

func init() {
	mounts = append(mounts, func(s *Server, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(requireScope(ScopeApproval, ScopeSchedule, ScopeWebhooks, ScopeOps))
			r.Get("/events", s.listEvents)
			r.Get("/events/stream", s.streamEvents)
			r.Get("/events/{id}", s.getEvent)
		})
	})
}

// HeartbeatInterval is how often an idle event stream sends a comment.
var HeartbeatInterval = 15 * time.Second

// patternRegex turns a type pattern into an anchored regular expression.
func patternRegex(p string) string {
	parts := strings.Split(p, ".")
	for i, t := range parts {
		switch {
		case t == "*" && i == len(parts)-1:
			parts[i] = `[a-z0-9_.]+`
		case t == "*":
			parts[i] = `[a-z0-9_]+`
		default:
			parts[i] = regexp.QuoteMeta(t)
		}
	}
	return "^" + strings.Join(parts, `\.`) + "$"
}

// EventView is a logged event: the CloudEvents envelope plus where it stands.
type EventView struct {
	events.Envelope
	Seq         int64      `json:"seq"`
	Status      string     `json:"status"`
	StreamSeq   *int64     `json:"stream_seq"`
	PublishedAt *time.Time `json:"published_at"`
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	setAction(r, "events.list")
	var after int64
	limit, ok := pageParams(w, r, &after)
	if !ok {
		return
	}
	qs := r.URL.Query()
	var typeRegex *string
	if t := qs.Get("type"); t != "" {
		if err := webhooks.ValidatePattern(t); err != nil {
			problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter", FieldError{Field: "type", Reason: err.Error()})
			return
		}
		re := patternRegex(t)
		typeRegex = &re
	}
	since, ok := timeParam(w, r, "since")
	if !ok {
		return
	}
	until, ok := timeParam(w, r, "until")
	if !ok {
		return
	}
	rows, err := dbsqlc.New(s.deps.DB).ListEventLog(r.Context(), dbsqlc.ListEventLogParams{
		OrgID: principalFrom(r).OrgID, TypeRegex: typeRegex, Subject: optional(qs.Get("subject")),
		Since: since, Until: until, AfterSeq: after, MaxRows: int32(limit + 1),
	})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	page := Page[EventView]{Items: []EventView{}}
	for i, e := range rows {
		if i == limit {
			page.NextCursor = encodeCursor(rows[i-1].Seq)
			break
		}
		page.Items = append(page.Items, EventView{Envelope: events.Envelope{SpecVersion: events.SpecVersion, ID: e.ID.String(),
			Source: e.Source, Type: e.Type, Subject: e.Subject, Time: e.Time.UTC(), DataContentType: "application/json", OrgID: e.OrgID, Data: e.Data},
			Seq: e.Seq, Status: e.Status, StreamSeq: e.StreamSeq, PublishedAt: e.PublishedAt})
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	setAction(r, "events.get")
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		problem(w, r, http.StatusNotFound, "no such event")
		return
	}
	e, err := dbsqlc.New(s.deps.DB).GetEventOfOrg(r.Context(), dbsqlc.GetEventOfOrgParams{ID: id, OrgID: principalFrom(r).OrgID})
	if s.lookupFailed(w, r, err, "no such event") {
		return
	}
	writeJSON(w, http.StatusOK, EventView{Envelope: events.Envelope{SpecVersion: events.SpecVersion, ID: e.ID.String(), Source: e.Source,
		Type: e.Type, Subject: e.Subject, Time: e.Time.UTC(), DataContentType: "application/json", OrgID: e.OrgID, Data: e.Data},
		Seq: e.Seq, Status: e.Status, StreamSeq: e.StreamSeq, PublishedAt: e.PublishedAt})
}

// streamEvents is the live stream (Server-Sent Events) of the key's org:
// one ordered ephemeral consumer per client, resumable from Last-Event-ID
// (the EVENTS stream sequence), released when the client goes away.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) {
	setAction(r, "events.stream")
	org := principalFrom(r).OrgID
	types := []string{"*"}
	if t := r.URL.Query().Get("types"); t != "" {
		types = strings.Split(t, ",")
	}
	for i, p := range types {
		types[i] = strings.TrimSpace(p)
		if err := webhooks.ValidatePattern(types[i]); err != nil {
			problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter", FieldError{Field: "types", Reason: err.Error()})
			return
		}
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: webhooks.Subjects(types, org), DeliverPolicy: jetstream.DeliverNewPolicy}
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("last_event_id")
	}
	if last != "" {
		seq, err := strconv.ParseUint(last, 10, 64)
		if err != nil {
			problem(w, r, http.StatusUnprocessableEntity, "invalid Last-Event-ID", FieldError{Field: "Last-Event-ID", Reason: "the id of the last event received (a stream sequence number)"})
			return
		}
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, seq+1
	}
	ctx := r.Context()
	cons, err := s.deps.JS.OrderedConsumer(ctx, events.EventsStream, cfg)
	if err != nil {
		w.Header().Set("Retry-After", "2")
		problem(w, r, http.StatusServiceUnavailable, "the event stream is unavailable: "+err.Error())
		return
	}
	it, err := cons.Messages()
	if err != nil {
		w.Header().Set("Retry-After", "2")
		problem(w, r, http.StatusServiceUnavailable, "the event stream is unavailable: "+err.Error())
		return
	}
	defer it.Stop()
	sess, err := sse.Upgrade(w, r)
	if err != nil {
		problem(w, r, http.StatusInternalServerError, "streaming is not supported on this connection")
		return
	}
	hello := &sse.Message{Retry: 2 * time.Second}
	hello.AppendComment("shiftflow event stream")
	if err := sess.Send(hello); err != nil || sess.Flush() != nil {
		return
	}
	msgs := make(chan jetstream.Msg)
	go func() {
		defer close(msgs)
		for {
			m, err := it.Next()
			if err != nil {
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	beat := time.NewTicker(HeartbeatInterval)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			hb := &sse.Message{}
			hb.AppendComment("heartbeat")
			if sess.Send(hb) != nil || sess.Flush() != nil {
				return
			}
		case m, ok := <-msgs:
			if !ok {
				return
			}
			md, err := m.Metadata()
			if err != nil {
				continue
			}
			var env events.Envelope
			if json.Unmarshal(m.Data(), &env) != nil {
				continue
			}
			msg := &sse.Message{ID: sse.ID(strconv.FormatUint(md.Sequence.Stream, 10)), Type: sse.Type(env.Type)}
			msg.AppendData(string(m.Data()))
			if sess.Send(msg) != nil || sess.Flush() != nil {
				return
			}
		}
	}
}
