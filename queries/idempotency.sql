-- name: ClaimIdempotencyKey :execrows
-- Zero rows: the key exists (completed, in progress, or expired and not yet swept).
INSERT INTO idempotency_keys (org_id, key, method, path, request_hash, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (org_id, key) DO NOTHING;

-- name: GetIdempotencyKey :one
SELECT * FROM idempotency_keys WHERE org_id = $1 AND key = $2;

-- name: ReclaimExpiredIdempotencyKey :execrows
UPDATE idempotency_keys
SET method = $3, path = $4, request_hash = $5, expires_at = $6, status_code = NULL,
    response_headers = NULL, response_body = NULL, created_at = now()
WHERE org_id = $1 AND key = $2 AND expires_at < now();

-- name: CompleteIdempotencyKey :exec
UPDATE idempotency_keys SET status_code = $3, response_headers = $4, response_body = $5
WHERE org_id = $1 AND key = $2;

-- name: ReleaseIdempotencyKey :exec
DELETE FROM idempotency_keys WHERE org_id = $1 AND key = $2 AND status_code IS NULL;

-- name: DeleteExpiredIdempotencyKeys :execrows
DELETE FROM idempotency_keys WHERE expires_at < now();
