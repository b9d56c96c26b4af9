-- name: MarkMessageProcessed :execrows
-- Zero rows means an earlier delivery already committed its effects.
INSERT INTO processed_messages (consumer, message_id) VALUES ($1, $2)
ON CONFLICT DO NOTHING;

-- name: InsertProcessedMessage :exec
-- Plain insert: a duplicate fails with a unique violation on
-- processed_messages_pkey, which the worker reads as "already applied".
INSERT INTO processed_messages (consumer, message_id) VALUES ($1, $2);

-- name: IsMessageProcessed :one
SELECT EXISTS (SELECT 1 FROM processed_messages WHERE consumer = $1 AND message_id = $2);

-- name: RecordMessageFailure :exec
INSERT INTO message_failures (consumer, message_id, attempt, error)
VALUES ($1, $2, $3, $4)
ON CONFLICT (consumer, message_id, attempt) DO UPDATE SET error = excluded.error, failed_at = now();

-- name: TakeMessageFailures :many
DELETE FROM message_failures WHERE consumer = $1 AND message_id = $2
RETURNING attempt, error, failed_at;

-- name: ClearMessageFailures :exec
DELETE FROM message_failures WHERE consumer = $1 AND message_id = $2;

-- name: InsertFailedEvent :execrows
INSERT INTO failed_events (id, consumer, stream, stream_seq, message_id, subject, org_id, type, headers, payload,
                           reason, last_error, errors, attempts, first_failed_at, last_failed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (consumer, stream, stream_seq) DO NOTHING;

-- name: GetFailedEvent :one
SELECT * FROM failed_events WHERE id = $1;

-- name: ListFailedEventsByConsumer :many
SELECT * FROM failed_events WHERE consumer = $1 ORDER BY created_at, id;

-- name: InsertProcessedMessages :exec
INSERT INTO processed_messages (consumer, message_id)
SELECT sqlc.arg('consumer')::text, unnest(sqlc.arg('message_ids')::text[]);
