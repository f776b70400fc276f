-- Tamper-evident audit log: every change made through the API, each record chained
-- to the previous one by SHA-256 (hash = sha256 of the record's fields and the
-- previous record's hash). seq has no gaps by construction (assigned under a lock,
-- never by a sequence), so a missing number is a removed record.
CREATE TABLE audit_log (
    seq            bigint      PRIMARY KEY,
    at             timestamptz NOT NULL,
    actor          text        NOT NULL,
    action         text        NOT NULL,
    request_id     text        NOT NULL DEFAULT '',
    target         text        NOT NULL,
    payload_digest text        NOT NULL,
    prev_hash      text        NOT NULL,
    hash           text        NOT NULL,
    -- What produced the record (e.g. "event:incident-000001#4"), so a retried
    -- projection never appends the same change twice.
    source         text        UNIQUE
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
