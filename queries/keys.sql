-- name: UpsertOrg :one
INSERT INTO orgs (id, name) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET name = orgs.name
RETURNING *;

-- name: GetOrg :one
SELECT * FROM orgs WHERE id = $1;

-- name: CreateAPIKey :one
INSERT INTO api_keys (id, org_id, name, prefix, key_hash, scopes, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING *;

-- name: GetAPIKeyByHash :one
SELECT * FROM api_keys WHERE key_hash = $1;

-- name: ListAPIKeys :many
SELECT * FROM api_keys
WHERE (sqlc.narg('org_id')::text IS NULL OR org_id = sqlc.narg('org_id'))
ORDER BY created_at, id;

-- name: GetAPIKey :one
SELECT * FROM api_keys WHERE id = $1;

-- name: RevokeAPIKey :one
UPDATE api_keys SET revoked_at = now()
WHERE id = $1 AND revoked_at IS NULL
RETURNING *;

-- name: TouchAPIKey :exec
-- last_used_at is advisory: written at most once a minute per key.
UPDATE api_keys SET last_used_at = now()
WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');
