-- name: InsertAuditLog :exec
INSERT INTO audit_logs (org_id, actor, action, resource_type, resource_id, request_id, ip, user_agent, details)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: ListAuditLogs :many
SELECT * FROM audit_logs
WHERE (sqlc.narg('org_id')::text IS NULL OR org_id = sqlc.narg('org_id'))
  AND id > sqlc.arg('after_id')
ORDER BY id
LIMIT sqlc.arg('max_rows');

-- name: InsertAuditLogs :exec
INSERT INTO audit_logs (org_id, actor, action, resource_type, resource_id, request_id, ip, user_agent, details)
SELECT unnest(sqlc.arg('org_ids')::text[]), unnest(sqlc.arg('actors')::text[]), unnest(sqlc.arg('actions')::text[]),
       unnest(sqlc.arg('resource_types')::text[]), unnest(sqlc.arg('resource_ids')::text[]), unnest(sqlc.arg('request_ids')::text[]),
       unnest(sqlc.arg('ips')::text[]), unnest(sqlc.arg('user_agents')::text[]), unnest(sqlc.arg('details')::text[])::jsonb;
