-- name: InsertEvent :exec
INSERT INTO events (id, org_id, type, source, subject, time, data)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: ClaimPendingEvents :many
-- Several relays may run: each claims a disjoint batch.
SELECT id, seq, org_id, type, source, subject, time, data
FROM events
WHERE status = 'pending'
ORDER BY seq
LIMIT $1
FOR UPDATE SKIP LOCKED;

-- name: CountPendingEvents :one
SELECT count(*) FROM events WHERE status = 'pending';

-- name: GetEvent :one
SELECT * FROM events WHERE id = $1;

-- name: CountEventsByType :many
SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY type;

-- name: MarkEventsPublished :exec
UPDATE events AS e SET status = 'published', published_at = now(), stream_seq = p.stream_seq
FROM (SELECT unnest(sqlc.arg('ids')::uuid[]) AS id, unnest(sqlc.arg('stream_seqs')::bigint[]) AS stream_seq) AS p
WHERE e.id = p.id;

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
