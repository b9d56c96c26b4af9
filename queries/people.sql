-- name: UpsertPerson :one
INSERT INTO people (org_id, id, name, email, department, department_head, manager_id, roles, skills, contract)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (org_id, id) DO UPDATE SET
    name = excluded.name, email = excluded.email, department = excluded.department,
    department_head = excluded.department_head, manager_id = excluded.manager_id, roles = excluded.roles,
    skills = excluded.skills, contract = excluded.contract, updated_at = now()
RETURNING *, (xmax = 0) AS inserted;

-- name: GetPerson :one
SELECT * FROM people WHERE org_id = $1 AND id = $2;

-- name: GetPeople :many
SELECT * FROM people WHERE org_id = $1 AND id = ANY(sqlc.arg('ids')::text[]);

-- name: ListPeople :many
SELECT * FROM people
WHERE org_id = sqlc.arg('org_id')
  AND (sqlc.narg('department')::text IS NULL OR department = sqlc.narg('department'))
  AND (sqlc.narg('role')::text IS NULL OR sqlc.narg('role')::text = ANY(roles))
  AND (sqlc.narg('skill')::text IS NULL OR sqlc.narg('skill')::text = ANY(skills))
  AND id > sqlc.arg('after_id')
ORDER BY id
LIMIT sqlc.arg('max_rows');

-- name: DeletePerson :execrows
DELETE FROM people WHERE org_id = $1 AND id = $2;

-- name: CountOpenTasksOf :one
SELECT count(*) FROM approval_tasks
WHERE org_id = $1 AND assignee = $2 AND state IN ('open', 'waiting', 'delegated');

-- name: CountReports :one
SELECT count(*) FROM people WHERE org_id = $1 AND manager_id = $2;

-- name: PersonExists :one
SELECT EXISTS (SELECT 1 FROM people WHERE org_id = $1 AND id = $2);

-- name: PersonManager :one
SELECT coalesce(manager_id, '')::text FROM people WHERE org_id = $1 AND id = $2;

-- name: DepartmentHeadOf :one
SELECT h.id FROM people p
JOIN people h ON h.org_id = p.org_id AND h.department = p.department AND h.department_head
WHERE p.org_id = $1 AND p.id = $2 AND p.department <> ''
ORDER BY h.id
LIMIT 1;

-- name: RoleMembers :many
SELECT id FROM people WHERE org_id = $1 AND sqlc.arg('role')::text = ANY(roles) ORDER BY id;

-- name: GetOrgSettings :one
SELECT settings FROM orgs WHERE id = $1;

-- name: UpdateOrgSettings :one
UPDATE orgs SET settings = $2 WHERE id = $1 RETURNING settings;

-- name: LockPerson :exec
-- Holds the person while checking they can be deleted.
SELECT 1 FROM people WHERE org_id = $1 AND id = $2 FOR UPDATE;
