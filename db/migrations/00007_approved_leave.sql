-- +goose Up
-- Approved leave, one row per request: new schedules take it as days off and
-- a published roster that breaks it is re-planned. Written by the re-plan
-- consumer when a leave request is approved; indexed by date so neither has
-- to read every approval the org ever had.
CREATE TABLE approved_leave (
    approval_id uuid PRIMARY KEY,
    org_id      text NOT NULL,
    person      text NOT NULL,
    from_date   date NOT NULL,
    to_date     date NOT NULL,
    approved_at timestamptz NOT NULL DEFAULT now(),
    CHECK (from_date <= to_date)
);
CREATE INDEX approved_leave_org_dates ON approved_leave (org_id, to_date, from_date);

-- Leave approved before this migration.
INSERT INTO approved_leave (approval_id, org_id, person, from_date, to_date, approved_at)
SELECT i.id, i.org_id, f ->> 'person', (f ->> 'from_date')::date, (f ->> 'to_date')::date, coalesce(i.finished_at, i.updated_at)
FROM approval_instances i
JOIN approval_templates t ON t.org_id = i.org_id AND t.id = i.template_id AND t.version = i.template_version
CROSS JOIN LATERAL (SELECT convert_from(i.state, 'UTF8')::jsonb -> 'form' AS f) form
WHERE i.status = 'approved' AND t.kind = 'leave'
  AND f ->> 'person' <> '' AND f ->> 'from_date' ~ '^\d{4}-\d{2}-\d{2}$' AND f ->> 'to_date' ~ '^\d{4}-\d{2}-\d{2}$'
  AND (f ->> 'from_date') <= (f ->> 'to_date')
ON CONFLICT DO NOTHING;

-- +goose Down
DROP TABLE approved_leave;
