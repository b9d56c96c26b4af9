-- +goose Up

-- Tenants. Every row of every domain table belongs to exactly one org.
CREATE TABLE orgs (
    id         text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name       text        NOT NULL,
    settings   jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- API keys are stored as SHA-256 hashes: the key itself is shown once at creation.
CREATE TABLE api_keys (
    id           uuid PRIMARY KEY,
    org_id       text        NOT NULL REFERENCES orgs (id),
    name         text        NOT NULL,
    prefix       text        NOT NULL UNIQUE,
    key_hash     bytea       NOT NULL UNIQUE,
    scopes       text[]      NOT NULL,
    created_by   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_org ON api_keys (org_id, created_at);

CREATE TABLE audit_logs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        text,
    actor         text        NOT NULL,
    action        text        NOT NULL,
    resource_type text        NOT NULL,
    resource_id   text        NOT NULL,
    request_id    text        NOT NULL DEFAULT '',
    ip            text        NOT NULL DEFAULT '',
    user_agent    text        NOT NULL DEFAULT '',
    details       jsonb       NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_created ON audit_logs (created_at);
CREATE INDEX audit_logs_org ON audit_logs (org_id, created_at);

-- The event log: handlers insert events in their own transaction. Rows are
-- written once and updated once (status, stream position), in place: no
-- indexed column changes, and fillfactor leaves room for that update.
CREATE TABLE events (
    id           uuid PRIMARY KEY,
    seq          bigint      NOT NULL GENERATED ALWAYS AS IDENTITY UNIQUE,
    org_id       text        NOT NULL,
    type         text        NOT NULL,
    source       text        NOT NULL,
    subject      text        NOT NULL,
    time         timestamptz NOT NULL,
    data         jsonb       NOT NULL,
    status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'published')),
    stream_seq   bigint,
    published_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 80);
CREATE INDEX events_org_seq ON events (org_id, seq);
CREATE INDEX events_created ON events (created_at);

-- The transactional outbox: the sequence numbers of events not yet
-- published. The relay claims rows here (FOR UPDATE SKIP LOCKED) and
-- deletes them once the events are on NATS.
CREATE TABLE event_outbox (
    seq bigint PRIMARY KEY
);

-- +goose StatementBegin
CREATE FUNCTION notify_events_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('events_pending', '');
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER events_pending_notify AFTER INSERT ON event_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION notify_events_pending();

-- One row per consumed message whose effects committed: a redelivery finds it
-- and is acknowledged without running the handler again.
CREATE TABLE processed_messages (
    consumer     text        NOT NULL,
    message_id   text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
);
CREATE INDEX processed_messages_at ON processed_messages (processed_at);

-- Errors of attempts that did not succeed, kept until the message succeeds
-- or becomes a dead letter (then they move into failed_events.errors).
CREATE TABLE message_failures (
    consumer   text        NOT NULL,
    message_id text        NOT NULL,
    attempt    int         NOT NULL,
    error      text        NOT NULL,
    failed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id, attempt)
);

-- Dead letters: messages that exhausted MaxDeliver or were terminated.
CREATE TABLE failed_events (
    id                uuid PRIMARY KEY,
    consumer          text        NOT NULL,
    stream            text        NOT NULL,
    stream_seq        bigint      NOT NULL,
    message_id        text        NOT NULL,
    subject           text        NOT NULL,
    org_id            text        NOT NULL DEFAULT '',
    type              text        NOT NULL DEFAULT '',
    headers           jsonb       NOT NULL,
    payload           bytea       NOT NULL,
    reason            text        NOT NULL CHECK (reason IN ('max_deliver', 'terminated')),
    last_error        text        NOT NULL,
    errors            jsonb       NOT NULL DEFAULT '[]',
    attempts          int         NOT NULL,
    first_failed_at   timestamptz NOT NULL,
    last_failed_at    timestamptz NOT NULL,
    status            text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replayed', 'resolved', 'discarded')),
    replays           jsonb       NOT NULL DEFAULT '[]',
    resolved_at       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (consumer, stream, stream_seq)
);
CREATE INDEX failed_events_consumer ON failed_events (consumer, created_at);
CREATE INDEX failed_events_created ON failed_events (created_at);

-- Responses remembered per Idempotency-Key: the same key and body replay the
-- first response; the same key with another body is a conflict.
CREATE TABLE idempotency_keys (
    org_id           text        NOT NULL,
    key              text        NOT NULL,
    method           text        NOT NULL,
    path             text        NOT NULL,
    request_hash     bytea       NOT NULL,
    status_code      int,
    response_headers jsonb,
    response_body    bytea,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    PRIMARY KEY (org_id, key)
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE failed_events;
DROP TABLE message_failures;
DROP TABLE processed_messages;
DROP TRIGGER events_pending_notify ON event_outbox;
DROP FUNCTION notify_events_pending();
DROP TABLE event_outbox;
DROP TABLE events;
DROP TABLE audit_logs;
DROP TABLE api_keys;
DROP TABLE orgs;
