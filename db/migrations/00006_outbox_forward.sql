-- +goose Up
-- A worker publishes the events of its transaction itself, right after the
-- commit (events.Forwarder). Those outbox rows carry not_before: the relay
-- leaves them alone until then and takes over any still there (a crash, a
-- failed publish). Rows without it are the relay's at once, as before.
ALTER TABLE event_outbox ADD COLUMN not_before timestamptz;

-- Wake the relay only for rows it should publish now.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION notify_events_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows WHERE not_before IS NULL) THEN
        PERFORM pg_notify('events_pending', '');
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
DROP TRIGGER events_pending_notify ON event_outbox;
CREATE TRIGGER events_pending_notify AFTER INSERT ON event_outbox REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION notify_events_pending();

-- +goose Down
DROP TRIGGER events_pending_notify ON event_outbox;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION notify_events_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('events_pending', '');
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER events_pending_notify AFTER INSERT ON event_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION notify_events_pending();
ALTER TABLE event_outbox DROP COLUMN not_before;
