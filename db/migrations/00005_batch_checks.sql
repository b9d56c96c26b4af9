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

-- +goose Down
DROP FUNCTION shiftflow_check(boolean, text);
