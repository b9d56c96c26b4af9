package events

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
)

// Store writes an event into the outbox (the events table) with q, which
// must belong to the transaction whose effects the event describes.
func Store(ctx context.Context, q *dbsqlc.Queries, e Envelope) error {
	if err := e.Validate(); err != nil {
		return fmt.Errorf("event %s: %w", e.Type, err)
	}
	id, err := uuid.Parse(e.ID)
	if err != nil {
		return fmt.Errorf("event %s: id must be a UUID: %w", e.Type, err)
	}
	if e.Data == nil {
		e.Data = json.RawMessage("null")
	}
	return q.InsertEvent(ctx, dbsqlc.InsertEventParams{
		ID: id, OrgID: e.OrgID, Type: e.Type, Source: e.Source, Subject: e.Subject, Time: e.Time, Data: e.Data,
	})
}

// InsertParams are the parameters of InsertEvents for envelopes already
// validated (ids are UUIDs); forwarded events get fwd's grace.
func InsertParams(envs []Envelope, fwd *Forwarder) dbsqlc.InsertEventsParams {
	var p dbsqlc.InsertEventsParams
	for _, e := range envs {
		p.Ids = append(p.Ids, uuid.MustParse(e.ID))
		p.OrgIds = append(p.OrgIds, e.OrgID)
		p.Types = append(p.Types, e.Type)
		p.Sources = append(p.Sources, e.Source)
		p.Subjects = append(p.Subjects, e.Subject)
		p.Times = append(p.Times, e.Time)
		p.Datas = append(p.Datas, string(e.Data))
	}
	p.ForwardGraceMs = fwd.GraceMs()
	return p
}
