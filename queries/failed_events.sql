-- name: ListFailedEvents :many
SELECT id, consumer, stream, stream_seq, message_id, subject, org_id, type, reason, last_error, attempts,
       first_failed_at, last_failed_at, status, replay_outcome, replayed_at, created_at
FROM failed_events
WHERE (sqlc.narg('org_id')::text IS NULL OR org_id = sqlc.narg('org_id'))
  AND (sqlc.narg('consumer')::text IS NULL OR consumer = sqlc.narg('consumer') OR consumer LIKE sqlc.narg('consumer') || ':%')
  AND (sqlc.narg('type')::text IS NULL OR type = sqlc.narg('type'))
  AND (sqlc.narg('error_text')::text IS NULL OR last_error ILIKE '%' || sqlc.narg('error_text') || '%')
  AND (sqlc.narg('status')::text IS NULL OR status = sqlc.narg('status'))
  AND (sqlc.narg('since')::timestamptz IS NULL OR created_at >= sqlc.narg('since'))
  AND (sqlc.narg('until')::timestamptz IS NULL OR created_at < sqlc.narg('until'))
  AND (created_at, id) < (sqlc.arg('before_at')::timestamptz, sqlc.arg('before_id')::uuid)
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg('max_rows');

-- name: GetFailedEventOfOrg :one
SELECT * FROM failed_events WHERE id = $1 AND (sqlc.narg('org_id')::text IS NULL OR org_id = sqlc.narg('org_id'));

-- name: GetFailedEventsByID :many
SELECT * FROM failed_events WHERE id = ANY(sqlc.arg('ids')::uuid[]);

-- name: MarkFailedEventReplayed :exec
UPDATE failed_events
SET status = 'replayed', replay_outcome = 'pending', replayed_at = now(),
    replays = replays || jsonb_build_array(jsonb_build_object('message_id', sqlc.arg('replay_message_id')::text,
                                                              'by', sqlc.arg('replayed_by')::text, 'at', now()))
WHERE id = sqlc.arg('id');

-- name: RecordReplayOutcome :exec
UPDATE failed_events
SET replay_outcome = sqlc.arg('outcome')::text,
    status = CASE WHEN sqlc.arg('outcome')::text IN ('applied', 'already_applied') THEN 'resolved' ELSE 'replayed' END,
    resolved_at = CASE WHEN sqlc.arg('outcome')::text IN ('applied', 'already_applied') THEN now() ELSE resolved_at END
WHERE consumer = sqlc.arg('consumer') AND message_id = sqlc.arg('message_id') AND replay_outcome = 'pending';

-- name: DiscardFailedEvent :execrows
UPDATE failed_events SET status = 'discarded', resolved_at = now()
WHERE id = $1 AND (sqlc.narg('org_id')::text IS NULL OR org_id = sqlc.narg('org_id')) AND status <> 'discarded';

-- name: InsertReplayJob :one
INSERT INTO replay_jobs (id, org_id, filter, status, requested_by) VALUES ($1, $2, $3, 'queued', $4) RETURNING *;

-- name: GetReplayJob :one
SELECT * FROM replay_jobs WHERE id = $1 AND (sqlc.narg('org_id')::text IS NULL OR org_id = sqlc.narg('org_id'));

-- name: ClaimReplayJob :one
UPDATE replay_jobs SET status = 'running', started_at = now()
WHERE id = (SELECT id FROM replay_jobs WHERE status = 'queued' ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING *;

-- name: SetReplayJobItems :exec
UPDATE replay_jobs SET items = sqlc.arg('items')::uuid[], total = cardinality(sqlc.arg('items')::uuid[]) WHERE id = sqlc.arg('id');

-- name: UpdateReplayJobCounts :exec
UPDATE replay_jobs j SET
    replayed = (SELECT count(*) FROM failed_events f WHERE f.id = ANY(j.items) AND f.replay_outcome IS NOT NULL),
    already_applied = (SELECT count(*) FROM failed_events f WHERE f.id = ANY(j.items) AND f.replay_outcome = 'already_applied'),
    failed_again = (SELECT count(*) FROM failed_events f WHERE f.id = ANY(j.items) AND f.replay_outcome = 'failed_again')
WHERE j.id = $1;

-- name: FinishReplayJob :exec
UPDATE replay_jobs SET status = $2, error = $3, finished_at = now() WHERE id = $1;

-- name: CountPendingReplays :one
SELECT count(*) FROM failed_events WHERE id = ANY(sqlc.arg('ids')::uuid[]) AND replay_outcome = 'pending';
