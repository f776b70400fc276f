-- Published process definitions: every version is kept and never changed.
CREATE TABLE definitions (
    name         text        NOT NULL,
    version      integer     NOT NULL,
    title        text        NOT NULL DEFAULT '',
    source       text        NOT NULL,
    hash         text        NOT NULL,
    compiled     jsonb       NOT NULL,
    published_by text        NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version)
);

-- Numbers for readable process ids (incident-000123), shared by all definitions.
CREATE SEQUENCE process_number;

-- The projection of every process instance; the workflow history is the truth,
-- this is what people search. seq is the number of the last event applied.
CREATE TABLE processes (
    id          text        PRIMARY KEY,
    definition  text        NOT NULL,
    version     integer     NOT NULL,
    state       text        NOT NULL,
    priority    text        NOT NULL DEFAULT '',
    breached    boolean     NOT NULL DEFAULT false,
    started_at  timestamptz NOT NULL,
    started_by  text        NOT NULL,
    ended_at    timestamptz,
    next_wake   timestamptz,
    seq         bigint      NOT NULL,
    view        jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX processes_definition_state ON processes (definition, state, started_at DESC);
CREATE INDEX processes_started ON processes (started_at DESC);

-- One row per SLA clock, for reports on attainment and breaches.
CREATE TABLE process_slas (
    process_id  text        NOT NULL REFERENCES processes (id),
    name        text        NOT NULL,
    status      text        NOT NULL,
    target_s    bigint      NOT NULL,
    elapsed_s   bigint      NOT NULL,
    due         timestamptz,
    breached    boolean     NOT NULL,
    breached_at timestamptz,
    started_at  timestamptz NOT NULL,
    stopped_at  timestamptz,
    PRIMARY KEY (process_id, name)
);
CREATE INDEX process_slas_due ON process_slas (due) WHERE status = 'running';

-- Every event of every process, append-only.
CREATE TABLE events (
    process_id text        NOT NULL REFERENCES processes (id),
    seq        bigint      NOT NULL,
    at         timestamptz NOT NULL,
    type       text        NOT NULL,
    actor      text        NOT NULL,
    action     text        NOT NULL DEFAULT '',
    from_state text        NOT NULL DEFAULT '',
    to_state   text        NOT NULL DEFAULT '',
    sla        text        NOT NULL DEFAULT '',
    comment    text        NOT NULL DEFAULT '',
    data       jsonb,
    PRIMARY KEY (process_id, seq)
);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Notifications raised by escalations, to be delivered (by role or to a user).
CREATE TABLE notifications (
    id           bigserial   PRIMARY KEY,
    process_id   text        NOT NULL REFERENCES processes (id),
    seq          bigint      NOT NULL,
    role         text        NOT NULL DEFAULT '',
    user_id      text        NOT NULL DEFAULT '',
    message      text        NOT NULL,
    created_at   timestamptz NOT NULL,
    delivered_at timestamptz,
    UNIQUE (process_id, seq)
);
CREATE INDEX notifications_undelivered ON notifications (created_at) WHERE delivered_at IS NULL;

CREATE TABLE users (
    id         text        PRIMARY KEY,
    name       text        NOT NULL,
    roles      text[]      NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- API tokens, stored as SHA-256 digests: a leaked table reveals no token.
CREATE TABLE tokens (
    digest     text        PRIMARY KEY,
    user_id    text        NOT NULL REFERENCES users (id),
    label      text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
