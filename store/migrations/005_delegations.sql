-- An approver hands their votes to another user for a period (leave, absence).
CREATE TABLE delegations (
    id          bigserial   PRIMARY KEY,
    from_user   text        NOT NULL REFERENCES users (id),
    to_user     text        NOT NULL REFERENCES users (id),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    reason      text        NOT NULL DEFAULT '',
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    CHECK (from_user <> to_user)
);
CREATE INDEX delegations_to ON delegations (to_user, ends_at);
CREATE INDEX delegations_from ON delegations (from_user, ends_at);
