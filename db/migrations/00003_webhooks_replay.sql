-- +goose Up

CREATE TABLE webhook_endpoints (
    id                   uuid PRIMARY KEY,
    org_id               text        NOT NULL REFERENCES orgs (id),
    url                  text        NOT NULL,
    event_types          text[]      NOT NULL,
    description          text        NOT NULL DEFAULT '',
    enabled              boolean     NOT NULL DEFAULT true,
    secret               text        NOT NULL,
    previous_secret      text,
    previous_expires_at  timestamptz,
    disabled_reason      text,
    disabled_at          timestamptz,
    failing_since        timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, created_at);

-- One row per (endpoint, event): where its delivery stands.
CREATE TABLE webhook_deliveries (
    endpoint_id      uuid        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id         uuid        NOT NULL,
    org_id           text        NOT NULL,
    event_type       text        NOT NULL,
    status           text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'dead')),
    attempts         int         NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    last_status_code int,
    last_error       text,
    last_latency_ms  int,
    -- set when a replay of a webhook dead letter re-queued this delivery
    replayed_from    uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC);

-- +goose StatementBegin
CREATE FUNCTION notify_webhook_due() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('webhook_due', '');
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- Inserts only: the sender's own claim updates must not wake it.
CREATE TRIGGER webhook_deliveries_notify AFTER INSERT ON webhook_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION notify_webhook_due();

-- Every attempt, for the delivery log.
CREATE TABLE webhook_attempts (
    endpoint_id     uuid        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        uuid        NOT NULL,
    attempt         int         NOT NULL,
    attempted_at    timestamptz NOT NULL,
    status_code     int,
    latency_ms      int         NOT NULL,
    error           text,
    next_attempt_at timestamptz,
    PRIMARY KEY (endpoint_id, event_id, attempt)
);

-- What replays happened to a dead letter and how the last one ended.
ALTER TABLE failed_events
    ADD COLUMN replay_outcome text CHECK (replay_outcome IN ('pending', 'applied', 'already_applied', 'failed_again')),
    ADD COLUMN replayed_at    timestamptz;
CREATE INDEX failed_events_message ON failed_events (consumer, message_id);

-- Bulk replays run asynchronously by a worker component.
CREATE TABLE replay_jobs (
    id            uuid PRIMARY KEY,
    org_id        text,
    filter        jsonb       NOT NULL,
    status        text        NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    total         int         NOT NULL DEFAULT 0,
    replayed      int         NOT NULL DEFAULT 0,
    already_applied int       NOT NULL DEFAULT 0,
    failed_again  int         NOT NULL DEFAULT 0,
    error         text,
    items         uuid[]      NOT NULL DEFAULT '{}',
    requested_by  text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz
);
CREATE INDEX replay_jobs_queued ON replay_jobs (created_at) WHERE status = 'queued';

-- +goose Down
DROP TABLE replay_jobs;
DROP INDEX failed_events_message;
ALTER TABLE failed_events DROP COLUMN replay_outcome, DROP COLUMN replayed_at;
DROP TABLE webhook_attempts;
DROP TRIGGER webhook_deliveries_notify ON webhook_deliveries;
DROP FUNCTION notify_webhook_due();
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
