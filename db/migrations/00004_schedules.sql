-- +goose Up

-- One row per schedule request (a solver run): the problem, its status and
-- progress, and when done the penalty and its explanation. Re-plans are
-- schedules whose parent is the roster they repair.
CREATE TABLE schedules (
    id              uuid PRIMARY KEY,
    org_id          text        NOT NULL REFERENCES orgs (id),
    name            text        NOT NULL DEFAULT '',
    status          text        NOT NULL CHECK (status IN ('queued', 'solving', 'completed', 'failed', 'cancelled')),
    source          text        NOT NULL CHECK (source IN ('json', 'nrp', 'replan')),
    problem         jsonb       NOT NULL,
    start_date      date        NOT NULL,
    end_date        date        NOT NULL,
    employees       int         NOT NULL,
    shift_types     int         NOT NULL,
    time_limit_ms   int         NOT NULL,
    seed            bigint      NOT NULL,
    progress        jsonb,
    penalty         bigint,
    feasible        boolean,
    hard_violations int,
    breakdown       jsonb,
    violations      jsonb,
    error           text,
    cancel_requested boolean    NOT NULL DEFAULT false,
    published       boolean     NOT NULL DEFAULT false,
    published_at    timestamptz,
    superseded_by   uuid,
    parent_id       uuid,
    approval_id     uuid,
    diff            jsonb,
    requested_by    text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz
);
CREATE INDEX schedules_org_created ON schedules (org_id, created_at DESC, id DESC);
CREATE INDEX schedules_published ON schedules (org_id, start_date, end_date) WHERE published;

-- The roster of a finished schedule: one row per working assignment.
CREATE TABLE assignments (
    schedule_id uuid        NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    org_id      text        NOT NULL,
    employee    text        NOT NULL,
    date        date        NOT NULL,
    shift       text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schedule_id, employee, date)
);
CREATE INDEX assignments_org_date ON assignments (org_id, date);

-- One re-plan per approved request and roster it touches.
CREATE TABLE replans (
    approval_id        uuid        NOT NULL,
    base_schedule_id   uuid        NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    replan_schedule_id uuid        NOT NULL,
    org_id             text        NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (approval_id, base_schedule_id)
);

-- +goose Down
DROP TABLE replans;
DROP TABLE assignments;
DROP TABLE schedules;
