-- The configuration item registry (a small CMDB): what incidents, problems and
-- changes name in their `ci` fields. A process's `ci` column (015) holds the id
-- it names; the registry says what that item is. parent makes a tree (a blade
-- in its chassis); it is checked when the transaction commits, so an import may
-- list children before their parents.
CREATE TABLE cis (
    id          text        PRIMARY KEY,
    name        text        NOT NULL,
    type        text        NOT NULL DEFAULT '',
    service     text        NOT NULL DEFAULT '',
    owner       text        NOT NULL DEFAULT '',
    location    text        NOT NULL DEFAULT '',
    parent      text        REFERENCES cis (id) DEFERRABLE INITIALLY DEFERRED,
    updated_by  text        NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (parent IS NULL OR parent <> id)
);
CREATE INDEX cis_parent ON cis (parent) WHERE parent IS NOT NULL;
