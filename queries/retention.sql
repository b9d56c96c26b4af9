-- name: DeleteOldPublishedEvents :execrows
DELETE FROM events WHERE id IN (
    SELECT e.id FROM events e WHERE e.status = 'published' AND e.created_at < sqlc.arg('cutoff') LIMIT sqlc.arg('max_rows'));

-- name: CountOldPublishedEvents :one
SELECT count(*) FROM events e WHERE e.status = 'published' AND e.created_at < sqlc.arg('cutoff');

-- name: DeleteOldAuditLogs :execrows
DELETE FROM audit_logs WHERE id IN (
    SELECT a.id FROM audit_logs a WHERE a.created_at < sqlc.arg('cutoff') LIMIT sqlc.arg('max_rows'));

-- name: CountOldAuditLogs :one
SELECT count(*) FROM audit_logs a WHERE a.created_at < sqlc.arg('cutoff');

-- name: DeleteOldDeadLetters :execrows
DELETE FROM failed_events WHERE id IN (
    SELECT f.id FROM failed_events f WHERE f.status IN ('resolved', 'discarded') AND f.created_at < sqlc.arg('cutoff') LIMIT sqlc.arg('max_rows'));

-- name: CountOldDeadLetters :one
SELECT count(*) FROM failed_events f WHERE f.status IN ('resolved', 'discarded') AND f.created_at < sqlc.arg('cutoff');

-- name: DeleteOldProcessedMessages :execrows
DELETE FROM processed_messages WHERE (consumer, message_id) IN (
    SELECT p.consumer, p.message_id FROM processed_messages p WHERE p.processed_at < sqlc.arg('cutoff') LIMIT sqlc.arg('max_rows'));

-- name: CountOldProcessedMessages :one
SELECT count(*) FROM processed_messages p WHERE p.processed_at < sqlc.arg('cutoff');

-- name: DeleteExpiredIdempotency :execrows
DELETE FROM idempotency_keys WHERE (org_id, key) IN (
    SELECT i.org_id, i.key FROM idempotency_keys i WHERE i.expires_at < sqlc.arg('cutoff') LIMIT sqlc.arg('max_rows'));

-- name: CountExpiredIdempotency :one
SELECT count(*) FROM idempotency_keys i WHERE i.expires_at < sqlc.arg('cutoff');

-- name: DeleteFiredTimers :execrows
DELETE FROM approval_timers WHERE id IN (
    SELECT t.id FROM approval_timers t WHERE t.fired_at < sqlc.arg('cutoff')::timestamptz LIMIT sqlc.arg('max_rows'));

-- name: CountFiredTimers :one
SELECT count(*) FROM approval_timers t WHERE t.fired_at < sqlc.arg('cutoff')::timestamptz;

-- name: DeleteOldDeliveries :execrows
DELETE FROM webhook_deliveries WHERE (endpoint_id, event_id) IN (
    SELECT d.endpoint_id, d.event_id FROM webhook_deliveries d
    WHERE d.status = 'succeeded' AND d.updated_at < sqlc.arg('cutoff') LIMIT sqlc.arg('max_rows'));

-- name: CountOldDeliveries :one
SELECT count(*) FROM webhook_deliveries d WHERE d.status = 'succeeded' AND d.updated_at < sqlc.arg('cutoff');

-- name: TryRetentionLock :one
-- Session lock: one cleanup at a time across every process.
SELECT pg_try_advisory_lock(727274001);

-- name: ReleaseRetentionLock :one
SELECT pg_advisory_unlock(727274001);
