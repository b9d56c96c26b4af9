-- name: InsertEvent :exec
WITH e AS (
    INSERT INTO events (id, org_id, type, source, subject, time, data)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    RETURNING seq
)
INSERT INTO event_outbox (seq) SELECT seq FROM e;

-- name: InsertEvents :exec
-- Every event of a transaction in one statement. With forward_grace_ms the
-- writer publishes them itself after its commit (events.Forwarder) and the
-- relay takes over only what is still pending after that many milliseconds.
WITH e AS (
    INSERT INTO events (id, org_id, type, source, subject, time, data)
    SELECT unnest(sqlc.arg('ids')::uuid[]), unnest(sqlc.arg('org_ids')::text[]), unnest(sqlc.arg('types')::text[]),
           unnest(sqlc.arg('sources')::text[]), unnest(sqlc.arg('subjects')::text[]), unnest(sqlc.arg('times')::timestamptz[]),
           unnest(sqlc.arg('datas')::text[])::jsonb
    RETURNING seq
)
INSERT INTO event_outbox (seq, not_before)
SELECT seq, now() + sqlc.narg('forward_grace_ms')::int * interval '1 millisecond' FROM e;

-- name: ClaimPendingEvents :many
-- Several relays may run: each claims a disjoint batch. The claimed seqs are
-- looked up by index one by one: as a join, stale statistics on the churning
-- outbox made the planner merge-join over the whole events table (170 ms).
SELECT e.id, e.seq, e.org_id, e.type, e.source, e.subject, e.time, e.data
FROM events e
WHERE e.seq = ANY (ARRAY(
    SELECT o.seq FROM event_outbox o WHERE o.not_before IS NULL OR o.not_before <= now()
    ORDER BY o.seq LIMIT $1 FOR UPDATE SKIP LOCKED
)::bigint[])
ORDER BY e.seq;

-- name: CountPendingEvents :one
SELECT count(*) FROM event_outbox;

-- name: GetEvent :one
SELECT * FROM events WHERE id = $1;

-- name: CountEventsByType :many
SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY type;

-- name: MarkEventsPublished :exec
WITH done AS (
    DELETE FROM event_outbox WHERE seq = ANY(sqlc.arg('seqs')::bigint[]) RETURNING seq
), pos AS (
    SELECT unnest(sqlc.arg('seqs')::bigint[]) AS seq, unnest(sqlc.arg('stream_seqs')::bigint[]) AS stream_seq
)
UPDATE events AS e SET status = 'published', published_at = now(), stream_seq = pos.stream_seq
FROM pos JOIN done ON done.seq = pos.seq
WHERE e.seq = pos.seq;

-- name: MarkEventsForwarded :exec
-- The forwarder's mark, by event id. The outbox rows are locked first, as the
-- relay does; one the relay has taken over is gone and left to it. Index
-- lookups by array, no joins: on the fresh, fast-growing events table a
-- joined form got plans that scanned it whole for every mark (seconds each).
WITH done AS (
    DELETE FROM event_outbox
    WHERE seq = ANY (ARRAY(SELECT ev.seq FROM events ev WHERE ev.id = ANY (sqlc.arg('ids')::uuid[]))::bigint[])
    RETURNING seq
)
UPDATE events AS e SET status = 'published', published_at = now(),
    stream_seq = (sqlc.arg('stream_seqs')::bigint[])[array_position(sqlc.arg('ids')::uuid[], e.id)]
WHERE e.seq = ANY (ARRAY(SELECT seq FROM done)::bigint[]);

-- name: ListEventLog :many
SELECT id, seq, org_id, type, source, subject, time, data, status, stream_seq, published_at, created_at
FROM events
WHERE org_id = sqlc.arg('org_id')
  AND (sqlc.narg('type_regex')::text IS NULL OR type ~ sqlc.narg('type_regex'))
  AND (sqlc.narg('subject')::text IS NULL OR subject = sqlc.narg('subject'))
  AND (sqlc.narg('since')::timestamptz IS NULL OR time >= sqlc.narg('since'))
  AND (sqlc.narg('until')::timestamptz IS NULL OR time < sqlc.narg('until'))
  AND seq > sqlc.arg('after_seq')
ORDER BY seq
LIMIT sqlc.arg('max_rows');

-- name: GetEventOfOrg :one
SELECT * FROM events WHERE id = $1 AND org_id = $2;
