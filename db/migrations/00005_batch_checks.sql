-- +goose Up
-- Lets a statement sent without waiting for its answer (queued with the
-- commit) still fail the transaction when its outcome is wrong, e.g. a batch
-- update whose optimistic lock was lost. SQLSTATE 40001: retry.
-- +goose StatementBegin
CREATE FUNCTION shiftflow_check(ok boolean, message text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF NOT ok THEN
        RAISE EXCEPTION '%', message USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN true;
END
$$;
-- +goose StatementEnd

-- The outbox is a queue: every row is deleted within milliseconds. Vacuum it
-- often so the relay's index scan does not wade through dead entries.
ALTER TABLE event_outbox SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,
    autovacuum_vacuum_cost_delay = 0);
-- Every event row is updated once, when it is published: room on its page
-- keeps that update HOT (no new index entries). At 80% a backlog made the
-- relay's update ~5 ms per batch and let it fall behind.
ALTER TABLE events SET (fillfactor = 50);

-- +goose Down
ALTER TABLE events SET (fillfactor = 80);
ALTER TABLE event_outbox RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, autovacuum_vacuum_cost_delay);
DROP FUNCTION shiftflow_check(boolean, text);
