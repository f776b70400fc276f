-- Who sees a process (see store/visibility.go): the people it names, kept on
-- the process as the projection learns them (they only ever grow: whoever
-- acted once keeps seeing the record), and the roles that see every process
-- of a definition version, kept on the version. viewer_roles is NULL until the
-- store fills it from the compiled definition (Migrate does that in Go, since
-- only the engine knows a definition's staff roles).
ALTER TABLE processes ADD COLUMN participants text[] NOT NULL DEFAULT '{}';
UPDATE processes p SET participants = ARRAY(
    SELECT DISTINCT x FROM (
        SELECT p.started_by AS x
        UNION SELECT e.actor FROM events e WHERE e.process_id = p.id
        UNION SELECT p.view -> 'vars' ->> 'assignee'
    ) people WHERE x IS NOT NULL AND x <> '' AND x <> 'system' ORDER BY x);
CREATE INDEX processes_participants ON processes USING gin (participants);

ALTER TABLE definitions ADD COLUMN viewer_roles text[];

-- Idempotency keys of process starts: the same key from the same caller
-- returns the process it started; body_digest tells a retry from a reuse of
-- the key for something else.
CREATE TABLE start_requests (
    caller      text        NOT NULL,
    key         text        NOT NULL,
    definition  text        NOT NULL,
    body_digest text        NOT NULL,
    process_id  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller, key)
);
