-- name: InsertTemplateVersion :one
INSERT INTO approval_templates (org_id, id, version, name, kind, definition, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING *;

-- name: LatestTemplate :one
SELECT * FROM approval_templates
WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL
ORDER BY version DESC
LIMIT 1;

-- name: MaxTemplateVersion :one
SELECT coalesce(max(version), 0)::int FROM approval_templates WHERE org_id = $1 AND id = $2;

-- name: GetTemplateVersion :one
SELECT * FROM approval_templates WHERE org_id = $1 AND id = $2 AND version = $3;

-- name: ListTemplates :many
SELECT DISTINCT ON (id) * FROM approval_templates
WHERE org_id = sqlc.arg('org_id') AND deleted_at IS NULL AND id > sqlc.arg('after_id')
  AND (sqlc.narg('kind')::text IS NULL OR kind = sqlc.narg('kind'))
ORDER BY id, version DESC
LIMIT sqlc.arg('max_rows');

-- name: ListTemplateVersions :many
SELECT * FROM approval_templates WHERE org_id = $1 AND id = $2 ORDER BY version;

-- name: DeleteTemplate :execrows
UPDATE approval_templates SET deleted_at = now() WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL;

-- name: CountRunningInstancesOfTemplate :one
SELECT count(*) FROM approval_instances
WHERE org_id = $1 AND template_id = $2 AND status IN ('running', 'returned');

-- name: InsertInstance :execrows
INSERT INTO approval_instances (id, org_id, template_id, template_version, initiator, status, state, version,
                                created_at, updated_at, finished_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (id) DO NOTHING;

-- name: GetInstance :one
SELECT * FROM approval_instances WHERE org_id = $1 AND id = $2;

-- name: TasksOfRunningInstance :many
-- The tasks of a running instance, from the task projection (written with
-- the state): the API's cheap check of an approve whose state is not in
-- memory, without reading and decoding it. Only the instance id selects
-- rows, so only the primary keys serve it: with the assignee in the WHERE
-- clause, stale statistics on a fresh table made the planner walk the
-- inbox index over every open task of the org (2 ms a call).
SELECT t.task_id, t.assignee, t.state FROM approval_tasks t
JOIN approval_instances i ON i.id = t.instance_id
WHERE t.instance_id = sqlc.arg('instance_id') AND i.id = sqlc.arg('instance_id')
  AND i.org_id = sqlc.arg('org_id') AND i.status = 'running';

-- name: UpdateInstance :many
-- Optimistic lock: no row back means another command changed the instance first.
UPDATE approval_instances
SET status = $3, state = $4, version = $5, updated_at = $6, finished_at = $7
WHERE org_id = $1 AND id = $2 AND version = sqlc.arg('old_version')
RETURNING version;

-- name: ListInstances :many
SELECT id, org_id, template_id, template_version, initiator, status, version, created_at, updated_at, finished_at
FROM approval_instances
WHERE org_id = sqlc.arg('org_id')
  AND (sqlc.narg('status')::text IS NULL OR status = sqlc.narg('status'))
  AND (sqlc.narg('template_id')::text IS NULL OR template_id = sqlc.narg('template_id'))
  AND (sqlc.narg('initiator')::text IS NULL OR initiator = sqlc.narg('initiator'))
  AND (sqlc.narg('created_from')::timestamptz IS NULL OR created_at >= sqlc.narg('created_from'))
  AND (sqlc.narg('created_to')::timestamptz IS NULL OR created_at < sqlc.narg('created_to'))
  AND (created_at, id) < (sqlc.arg('before_at')::timestamptz, sqlc.arg('before_id')::uuid)
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg('max_rows');

-- name: UpsertInstanceTasks :exec
-- Tasks are never removed from an instance, only change state: upserting the
-- changed ones keeps the projection whole.
INSERT INTO approval_tasks (instance_id, org_id, task_id, node, assignee, state, origin, created_at, decided_at)
SELECT sqlc.arg('instance_id')::uuid, sqlc.arg('org_id')::text,
       unnest(sqlc.arg('task_ids')::text[]), unnest(sqlc.arg('nodes')::text[]), unnest(sqlc.arg('assignees')::text[]),
       unnest(sqlc.arg('states')::text[]), unnest(sqlc.arg('origins')::text[]),
       unnest(sqlc.arg('created')::timestamptz[]),
       -- the zero time stands for "not decided" (Go has no null in []time.Time)
       nullif(unnest(sqlc.arg('decided')::timestamptz[]), '0001-01-01 00:00:00+00'::timestamptz)
ON CONFLICT (instance_id, task_id) DO UPDATE
SET node = excluded.node, assignee = excluded.assignee, state = excluded.state, origin = excluded.origin,
    decided_at = excluded.decided_at;

-- name: InsertInstanceCCs :exec
INSERT INTO approval_ccs (instance_id, org_id, person, node, round, sent_at)
SELECT sqlc.arg('instance_id')::uuid, sqlc.arg('org_id')::text,
       unnest(sqlc.arg('people')::text[]), unnest(sqlc.arg('nodes')::text[]), unnest(sqlc.arg('rounds')::int[]),
       unnest(sqlc.arg('sent')::timestamptz[])
ON CONFLICT DO NOTHING;

-- name: InsertTimers :exec
INSERT INTO approval_timers (id, org_id, instance_id, kind, task_id, due_at)
SELECT unnest(sqlc.arg('ids')::text[]), sqlc.arg('org_id')::text, sqlc.arg('instance_id')::uuid,
       unnest(sqlc.arg('kinds')::text[]), unnest(sqlc.arg('task_ids')::text[]), unnest(sqlc.arg('due')::timestamptz[])
ON CONFLICT (id) DO NOTHING;

-- name: DeleteTimers :exec
DELETE FROM approval_timers WHERE id = ANY(sqlc.arg('ids')::text[]);

-- name: ClaimDueTimers :many
SELECT id, org_id, instance_id, kind, task_id, due_at FROM approval_timers
WHERE fired_at IS NULL AND due_at <= now()
ORDER BY due_at
LIMIT $1
FOR UPDATE SKIP LOCKED;

-- name: MarkTimersFired :exec
UPDATE approval_timers SET fired_at = now() WHERE id = ANY(sqlc.arg('ids')::text[]);

-- name: NextTimerDue :one
SELECT min(due_at)::timestamptz FROM approval_timers WHERE fired_at IS NULL;

-- name: ListInbox :many
SELECT t.instance_id, t.task_id, t.node, t.assignee, t.state, t.origin, t.created_at, t.decided_at,
       i.template_id, i.template_version, i.initiator, i.status AS instance_status
FROM approval_tasks t JOIN approval_instances i ON i.id = t.instance_id
WHERE t.org_id = sqlc.arg('org_id') AND t.assignee = sqlc.arg('assignee')
  AND (sqlc.narg('state')::text IS NULL OR t.state = sqlc.narg('state'))
  AND (t.created_at, t.instance_id, t.task_id) > (sqlc.arg('after_at')::timestamptz, sqlc.arg('after_instance')::uuid, sqlc.arg('after_task')::text)
ORDER BY t.created_at, t.instance_id, t.task_id
LIMIT sqlc.arg('max_rows');

-- name: ListCCs :many
SELECT c.instance_id, c.person, c.node, c.round, c.sent_at, i.template_id, i.initiator, i.status AS instance_status
FROM approval_ccs c JOIN approval_instances i ON i.id = c.instance_id
WHERE c.org_id = sqlc.arg('org_id') AND c.person = sqlc.arg('person')
  AND (c.sent_at, c.instance_id, c.node) < (sqlc.arg('before_at')::timestamptz, sqlc.arg('before_instance')::uuid, sqlc.arg('before_node')::text)
ORDER BY c.sent_at DESC, c.instance_id DESC, c.node DESC
LIMIT sqlc.arg('max_rows');

-- Set-based variants for batches of commands (one statement per batch).

-- name: GetInstancesByID :many
SELECT * FROM approval_instances WHERE id = ANY(sqlc.arg('ids')::uuid[]);

-- name: InsertInstances :execrows
INSERT INTO approval_instances (id, org_id, template_id, template_version, initiator, status, state, version,
                                created_at, updated_at, finished_at)
SELECT unnest(sqlc.arg('ids')::uuid[]), unnest(sqlc.arg('org_ids')::text[]), unnest(sqlc.arg('template_ids')::text[]),
       unnest(sqlc.arg('template_versions')::int[]), unnest(sqlc.arg('initiators')::text[]), unnest(sqlc.arg('statuses')::text[]),
       unnest(sqlc.arg('states')::bytea[]), unnest(sqlc.arg('versions')::int[]), unnest(sqlc.arg('created')::timestamptz[]),
       unnest(sqlc.arg('updated')::timestamptz[]),
       nullif(unnest(sqlc.arg('finished')::timestamptz[]), '0001-01-01 00:00:00+00'::timestamptz)
ON CONFLICT (id) DO NOTHING;

-- name: UpdateInstances :exec
-- Optimistic lock for a batch: fails with SQLSTATE 40001 unless every
-- instance still had its old version (the batch is then applied one by one).
-- Failing instead of returning the ids lets it travel with the commit.
WITH updated AS (
    UPDATE approval_instances a
    SET status = v.status, state = v.state, version = v.version, updated_at = v.updated,
        finished_at = nullif(v.finished, '0001-01-01 00:00:00+00'::timestamptz)
    FROM (SELECT unnest(sqlc.arg('ids')::uuid[]) AS id, unnest(sqlc.arg('statuses')::text[]) AS status,
                 unnest(sqlc.arg('states')::bytea[]) AS state, unnest(sqlc.arg('versions')::int[]) AS version,
                 unnest(sqlc.arg('old_versions')::int[]) AS old_version, unnest(sqlc.arg('updated')::timestamptz[]) AS updated,
                 unnest(sqlc.arg('finished')::timestamptz[]) AS finished) AS v
    WHERE a.id = v.id AND a.version = v.old_version
    RETURNING a.id
)
SELECT shiftflow_check(count(*) = cardinality(sqlc.arg('ids')::uuid[]), 'approval batch: an instance changed after it was read')
FROM updated;

-- name: UpsertTasksOfInstances :exec
INSERT INTO approval_tasks (instance_id, org_id, task_id, node, assignee, state, origin, created_at, decided_at)
SELECT unnest(sqlc.arg('instance_ids')::uuid[]), unnest(sqlc.arg('org_ids')::text[]),
       unnest(sqlc.arg('task_ids')::text[]), unnest(sqlc.arg('nodes')::text[]), unnest(sqlc.arg('assignees')::text[]),
       unnest(sqlc.arg('states')::text[]), unnest(sqlc.arg('origins')::text[]),
       unnest(sqlc.arg('created')::timestamptz[]),
       nullif(unnest(sqlc.arg('decided')::timestamptz[]), '0001-01-01 00:00:00+00'::timestamptz)
ON CONFLICT (instance_id, task_id) DO UPDATE
SET node = excluded.node, assignee = excluded.assignee, state = excluded.state, origin = excluded.origin,
    decided_at = excluded.decided_at;

-- name: InsertCCsOfInstances :exec
INSERT INTO approval_ccs (instance_id, org_id, person, node, round, sent_at)
SELECT unnest(sqlc.arg('instance_ids')::uuid[]), unnest(sqlc.arg('org_ids')::text[]),
       unnest(sqlc.arg('people')::text[]), unnest(sqlc.arg('nodes')::text[]), unnest(sqlc.arg('rounds')::int[]),
       unnest(sqlc.arg('sent')::timestamptz[])
ON CONFLICT DO NOTHING;

-- name: InsertTimersOfInstances :exec
INSERT INTO approval_timers (id, org_id, instance_id, kind, task_id, due_at)
SELECT unnest(sqlc.arg('ids')::text[]), unnest(sqlc.arg('org_ids')::text[]), unnest(sqlc.arg('instance_ids')::uuid[]),
       unnest(sqlc.arg('kinds')::text[]), unnest(sqlc.arg('task_ids')::text[]), unnest(sqlc.arg('due')::timestamptz[])
ON CONFLICT (id) DO NOTHING;

-- name: InsertApprovedLeave :exec
INSERT INTO approved_leave (approval_id, org_id, person, from_date, to_date)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING;

-- name: ListApprovedLeave :many
-- An org's approved leave overlapping a date range, oldest first.
SELECT * FROM approved_leave
WHERE org_id = sqlc.arg('org_id') AND to_date >= sqlc.arg('from_date')::date AND from_date <= sqlc.arg('to_date')::date
ORDER BY approved_at, approval_id;
