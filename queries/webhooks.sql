-- name: CreateWebhookEndpoint :one
INSERT INTO webhook_endpoints (id, org_id, url, event_types, description, enabled, secret)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING *;

-- name: GetWebhookEndpoint :one
SELECT * FROM webhook_endpoints WHERE org_id = $1 AND id = $2;

-- name: GetWebhookEndpointsByID :many
SELECT * FROM webhook_endpoints WHERE id = ANY(sqlc.arg('ids')::uuid[]);

-- name: ListWebhookEndpoints :many
SELECT * FROM webhook_endpoints
WHERE org_id = sqlc.arg('org_id') AND (created_at, id) > (sqlc.arg('after_at')::timestamptz, sqlc.arg('after_id')::uuid)
ORDER BY created_at, id
LIMIT sqlc.arg('max_rows');

-- name: UpdateWebhookEndpoint :one
UPDATE webhook_endpoints
SET url = $3, event_types = $4, description = $5, enabled = $6, updated_at = now(),
    disabled_reason = CASE WHEN $6 THEN NULL ELSE disabled_reason END,
    disabled_at = CASE WHEN $6 THEN NULL ELSE disabled_at END,
    failing_since = CASE WHEN $6 AND NOT enabled THEN NULL ELSE failing_since END
WHERE org_id = $1 AND id = $2
RETURNING *;

-- name: DeleteWebhookEndpoint :execrows
DELETE FROM webhook_endpoints WHERE org_id = $1 AND id = $2;

-- name: RotateWebhookSecret :one
UPDATE webhook_endpoints
SET previous_secret = secret, previous_expires_at = sqlc.arg('previous_expires_at'), secret = sqlc.arg('secret'), updated_at = now()
WHERE org_id = sqlc.arg('org_id') AND id = sqlc.arg('id')
RETURNING *;

-- name: EnabledEndpointsOfOrg :many
SELECT id, event_types FROM webhook_endpoints WHERE org_id = $1 AND enabled;

-- name: InsertDeliveries :exec
INSERT INTO webhook_deliveries (endpoint_id, event_id, org_id, event_type, status, next_attempt_at)
SELECT unnest(sqlc.arg('endpoint_ids')::uuid[]), sqlc.arg('event_id')::uuid, sqlc.arg('org_id')::text,
       sqlc.arg('event_type')::text, 'pending', now()
ON CONFLICT (endpoint_id, event_id) DO NOTHING;

-- name: ClaimDueDeliveries :many
-- Leases due deliveries: a sender that dies mid-request leaves them to be
-- claimed again when the lease ends.
WITH due AS (
    SELECT endpoint_id, event_id FROM webhook_deliveries
    WHERE status = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at
    LIMIT sqlc.arg('max_rows')
    FOR UPDATE SKIP LOCKED
)
UPDATE webhook_deliveries d
SET next_attempt_at = now() + make_interval(secs => sqlc.arg('lease_seconds')::float8), attempts = d.attempts + 1, updated_at = now()
FROM due
WHERE d.endpoint_id = due.endpoint_id AND d.event_id = due.event_id
RETURNING d.endpoint_id, d.event_id, d.org_id, d.event_type, d.attempts, d.replayed_from;

-- name: GetEventsByID :many
SELECT id, org_id, type, source, subject, time, data, stream_seq FROM events WHERE id = ANY(sqlc.arg('ids')::uuid[]);

-- name: RecordDeliveryAttempt :exec
WITH attempt AS (
    INSERT INTO webhook_attempts (endpoint_id, event_id, attempt, attempted_at, status_code, latency_ms, error, next_attempt_at)
    SELECT sqlc.arg('endpoint_id')::uuid, sqlc.arg('event_id')::uuid, coalesce(max(a.attempt), 0) + 1, sqlc.arg('attempted_at')::timestamptz,
           sqlc.narg('status_code')::int, sqlc.arg('latency_ms')::int, sqlc.narg('error')::text, sqlc.narg('next_attempt_at')::timestamptz
    FROM webhook_attempts a WHERE a.endpoint_id = sqlc.arg('endpoint_id')::uuid AND a.event_id = sqlc.arg('event_id')::uuid
)
UPDATE webhook_deliveries
SET status = sqlc.arg('status')::text, next_attempt_at = sqlc.narg('next_attempt_at')::timestamptz,
    last_status_code = sqlc.narg('status_code')::int, last_error = sqlc.narg('error')::text,
    last_latency_ms = sqlc.arg('latency_ms')::int, updated_at = now()
WHERE endpoint_id = sqlc.arg('endpoint_id')::uuid AND event_id = sqlc.arg('event_id')::uuid;

-- name: MarkEndpointFailing :one
UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now())
WHERE id = $1
RETURNING failing_since::timestamptz;

-- name: MarkEndpointHealthy :exec
UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL;

-- name: DisableEndpoint :execrows
UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, disabled_at = now(), updated_at = now()
WHERE id = $1 AND enabled;

-- name: FailPendingDeliveriesOfEndpoint :exec
UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, last_error = $2, updated_at = now()
WHERE endpoint_id = $1 AND status = 'pending';

-- name: CountDisabledEndpoints :one
SELECT count(*) FROM webhook_endpoints WHERE NOT enabled AND disabled_at IS NOT NULL;

-- name: ListDeliveryAttempts :many
SELECT a.*, d.event_type, d.status AS delivery_status
FROM webhook_attempts a JOIN webhook_deliveries d USING (endpoint_id, event_id)
WHERE a.endpoint_id = sqlc.arg('endpoint_id')
  AND (sqlc.narg('event_id')::uuid IS NULL OR a.event_id = sqlc.narg('event_id'))
  AND (sqlc.narg('status')::text IS NULL OR d.status = sqlc.narg('status'))
  AND (a.attempted_at, a.event_id, a.attempt) < (sqlc.arg('before_at')::timestamptz, sqlc.arg('before_event')::uuid, sqlc.arg('before_attempt')::int)
ORDER BY a.attempted_at DESC, a.event_id DESC, a.attempt DESC
LIMIT sqlc.arg('max_rows');

-- name: GetDelivery :one
SELECT * FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = $2;

-- name: ResendDelivery :execrows
UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), updated_at = now(),
    replayed_from = sqlc.narg('replayed_from')
WHERE endpoint_id = sqlc.arg('endpoint_id') AND event_id = sqlc.arg('event_id');

-- name: RecoverFailedDeliveries :execrows
UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), updated_at = now()
WHERE endpoint_id = $1 AND status IN ('failed', 'dead') AND created_at >= $2;

-- name: NotifyWebhookDue :exec
SELECT pg_notify('webhook_due', '');

-- name: EnabledEndpointPatterns :many
-- Every enabled endpoint's org and event types: the webhook consumer's filter.
SELECT org_id, event_types FROM webhook_endpoints WHERE enabled ORDER BY org_id;

-- name: LockWebhookFilter :exec
-- Serialises changes of the webhook consumer's filter until the transaction ends.
SELECT pg_advisory_xact_lock(7316240128);

-- name: EnabledEndpointsOfOrgs :many
SELECT id, org_id, event_types FROM webhook_endpoints WHERE org_id = ANY(sqlc.arg('org_ids')::text[]) AND enabled;

-- name: InsertDeliveriesMulti :exec
INSERT INTO webhook_deliveries (endpoint_id, event_id, org_id, event_type, status, next_attempt_at)
SELECT unnest(sqlc.arg('endpoint_ids')::uuid[]), unnest(sqlc.arg('event_ids')::uuid[]), unnest(sqlc.arg('org_ids')::text[]),
       unnest(sqlc.arg('event_types')::text[]), 'pending', now()
ON CONFLICT (endpoint_id, event_id) DO NOTHING;

-- name: RecordDeliveriesSucceeded :exec
-- The successes of many deliveries in one statement (the common case).
WITH v AS (
    SELECT unnest(sqlc.arg('endpoint_ids')::uuid[]) AS endpoint_id, unnest(sqlc.arg('event_ids')::uuid[]) AS event_id,
           unnest(sqlc.arg('attempted_at')::timestamptz[]) AS attempted_at, unnest(sqlc.arg('status_codes')::int[]) AS status_code,
           unnest(sqlc.arg('latencies_ms')::int[]) AS latency_ms
), attempt AS (
    INSERT INTO webhook_attempts (endpoint_id, event_id, attempt, attempted_at, status_code, latency_ms)
    SELECT v.endpoint_id, v.event_id,
           coalesce((SELECT max(a.attempt) FROM webhook_attempts a WHERE a.endpoint_id = v.endpoint_id AND a.event_id = v.event_id), 0) + 1,
           v.attempted_at, v.status_code, v.latency_ms
    FROM v
)
UPDATE webhook_deliveries d
SET status = 'succeeded', next_attempt_at = NULL, last_status_code = v.status_code, last_error = NULL,
    last_latency_ms = v.latency_ms, updated_at = now()
FROM v
WHERE d.endpoint_id = v.endpoint_id AND d.event_id = v.event_id;
