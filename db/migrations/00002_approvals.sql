-- +goose Up

-- The people directory, shared by approvals (approver resolution) and
-- scheduling (contracts, skills).
CREATE TABLE people (
    org_id          text        NOT NULL REFERENCES orgs (id),
    id              text        NOT NULL CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$'),
    name            text        NOT NULL,
    email           text        NOT NULL DEFAULT '',
    department      text        NOT NULL DEFAULT '',
    department_head boolean     NOT NULL DEFAULT false,
    manager_id      text,
    roles           text[]      NOT NULL DEFAULT '{}',
    skills          text[]      NOT NULL DEFAULT '{}',
    contract        jsonb       NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)
);
CREATE INDEX people_roles ON people USING gin (roles);
CREATE INDEX people_department ON people (org_id, department);
CREATE INDEX people_manager ON people (org_id, manager_id);

-- Every version of every template; running instances keep the version they
-- started on.
CREATE TABLE approval_templates (
    org_id     text        NOT NULL REFERENCES orgs (id),
    id         text        NOT NULL CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
    version    int         NOT NULL CHECK (version > 0),
    name       text        NOT NULL,
    kind       text        NOT NULL DEFAULT '',
    definition jsonb       NOT NULL,
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    PRIMARY KEY (org_id, id, version)
);

-- One row per instance: the flow state as JSON with its optimistic lock.
CREATE TABLE approval_instances (
    id               uuid PRIMARY KEY,
    org_id           text        NOT NULL REFERENCES orgs (id),
    template_id      text        NOT NULL,
    template_version int         NOT NULL,
    initiator        text        NOT NULL,
    status           text        NOT NULL,
    -- the flow state as JSON bytes: never queried inside, so not parsed into jsonb
    state            bytea       NOT NULL,
    version          int         NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    finished_at      timestamptz
);
CREATE INDEX approval_instances_org_created ON approval_instances (org_id, created_at DESC, id DESC);
CREATE INDEX approval_instances_template ON approval_instances (org_id, template_id, status);
CREATE INDEX approval_instances_initiator ON approval_instances (org_id, initiator, created_at DESC);

-- Projection of every task for inboxes (rewritten with the instance).
CREATE TABLE approval_tasks (
    instance_id uuid        NOT NULL REFERENCES approval_instances (id) ON DELETE CASCADE,
    task_id     text        NOT NULL,
    org_id      text        NOT NULL,
    node        text        NOT NULL,
    assignee    text        NOT NULL,
    state       text        NOT NULL,
    origin      text        NOT NULL,
    created_at  timestamptz NOT NULL,
    decided_at  timestamptz,
    PRIMARY KEY (instance_id, task_id)
);
CREATE INDEX approval_tasks_inbox ON approval_tasks (org_id, assignee, state, created_at, instance_id, task_id);

-- Projection of copies sent by cc nodes.
CREATE TABLE approval_ccs (
    instance_id uuid        NOT NULL REFERENCES approval_instances (id) ON DELETE CASCADE,
    org_id      text        NOT NULL,
    person      text        NOT NULL,
    node        text        NOT NULL,
    round       int         NOT NULL,
    sent_at     timestamptz NOT NULL,
    PRIMARY KEY (instance_id, person, node, round)
);
CREATE INDEX approval_ccs_person ON approval_ccs (org_id, person, sent_at DESC);

-- Durable timers (task timeouts, reminders), claimed with SKIP LOCKED and
-- fired as commands whose message id is the timer id.
CREATE TABLE approval_timers (
    id          text PRIMARY KEY,
    org_id      text        NOT NULL,
    instance_id uuid        NOT NULL REFERENCES approval_instances (id) ON DELETE CASCADE,
    kind        text        NOT NULL,
    task_id     text        NOT NULL,
    due_at      timestamptz NOT NULL,
    fired_at    timestamptz
);
CREATE INDEX approval_timers_due ON approval_timers (due_at) WHERE fired_at IS NULL;

-- +goose Down
DROP TABLE approval_timers;
DROP TABLE approval_ccs;
DROP TABLE approval_tasks;
DROP TABLE approval_instances;
DROP TABLE approval_templates;
DROP TABLE people;
