-- name: InsertSchedule :execrows
-- The API and the worker may both create the row (whichever comes first).
INSERT INTO schedules (id, org_id, name, status, source, problem, start_date, end_date, employees, shift_types,
                       time_limit_ms, seed, parent_id, approval_id, requested_by)
VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (id) DO NOTHING;

-- name: GetSchedule :one
SELECT * FROM schedules WHERE org_id = $1 AND id = $2;

-- name: StartSchedule :one
-- Moves a queued (or re-delivered solving) run to solving; returns the row
-- so the worker sees a cancel that came first.
UPDATE schedules SET status = CASE WHEN status = 'queued' AND NOT cancel_requested THEN 'solving' ELSE status END,
    started_at = coalesce(started_at, now())
WHERE org_id = $1 AND id = $2
RETURNING status, cancel_requested;

-- name: ScheduleCancelRequested :one
SELECT cancel_requested FROM schedules WHERE id = $1;

-- name: UpdateScheduleProgress :exec
UPDATE schedules SET progress = $2 WHERE id = $1 AND status = 'solving';

-- name: FinishSchedule :exec
UPDATE schedules
SET status = $3, penalty = $4, feasible = $5, hard_violations = $6, breakdown = $7, violations = $8,
    error = $9, diff = $10, progress = $11, finished_at = now()
WHERE org_id = $1 AND id = $2;

-- name: RequestScheduleCancel :one
UPDATE schedules
SET cancel_requested = true,
    status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
    finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END
WHERE org_id = $1 AND id = $2
RETURNING status;

-- name: InsertAssignments :exec
INSERT INTO assignments (schedule_id, org_id, employee, date, shift)
SELECT sqlc.arg('schedule_id')::uuid, sqlc.arg('org_id')::text, unnest(sqlc.arg('employees')::text[]),
       unnest(sqlc.arg('dates')::date[]), unnest(sqlc.arg('shifts')::text[])
ON CONFLICT DO NOTHING;

-- name: ListAssignments :many
SELECT employee, date, shift FROM assignments WHERE schedule_id = $1 ORDER BY employee, date;

-- name: ListSchedules :many
SELECT id, org_id, name, status, source, start_date, end_date, employees, shift_types, time_limit_ms, penalty, feasible,
       published, superseded_by, parent_id, approval_id, created_at, finished_at
FROM schedules
WHERE org_id = sqlc.arg('org_id')
  AND (sqlc.narg('status')::text IS NULL OR status = sqlc.narg('status'))
  AND (sqlc.narg('published')::boolean IS NULL OR published = sqlc.narg('published'))
  AND (sqlc.narg('approval_id')::uuid IS NULL OR approval_id = sqlc.narg('approval_id'))
  AND (sqlc.narg('parent_id')::uuid IS NULL OR parent_id = sqlc.narg('parent_id'))
  AND (created_at, id) < (sqlc.arg('before_at')::timestamptz, sqlc.arg('before_id')::uuid)
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg('max_rows');

-- name: LockPublishing :exec
-- Publishing is one at a time per org (until the transaction ends): a
-- publish must see every roster published before it.
SELECT pg_advisory_xact_lock(hashtextextended('shiftflow.publish/' || sqlc.arg('org_id')::text, 0));

-- name: SupersedeOverlapping :many
-- One published roster per date range: a newer one supersedes every
-- published roster it overlaps.
UPDATE schedules SET published = false, superseded_by = sqlc.arg('by')
WHERE org_id = sqlc.arg('org_id') AND published AND id <> sqlc.arg('by')
  AND start_date <= sqlc.arg('end_date')::date AND end_date >= sqlc.arg('start_date')::date
RETURNING id;

-- name: PublishSchedule :exec
UPDATE schedules SET published = true, published_at = now(), superseded_by = NULL WHERE org_id = $1 AND id = $2;

-- name: PublishedCovering :many
-- Published rosters that overlap a date range.
SELECT * FROM schedules
WHERE org_id = sqlc.arg('org_id') AND published
  AND start_date <= sqlc.arg('to_date')::date AND end_date >= sqlc.arg('from_date')::date
ORDER BY start_date;

-- name: InsertReplan :execrows
INSERT INTO replans (approval_id, base_schedule_id, replan_schedule_id, org_id) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING;

-- name: CountReplansOfApproval :one
SELECT count(*) FROM replans WHERE approval_id = $1;
