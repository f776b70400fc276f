-- Named groups of users (the CAB, the change managers), so an approval can name a
-- group instead of listing people, and membership changes in one place.
CREATE TABLE groups (
    id         text        PRIMARY KEY,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE group_members (
    group_id text NOT NULL REFERENCES groups (id),
    user_id  text NOT NULL REFERENCES users (id),
    PRIMARY KEY (group_id, user_id)
);
-- Members looks up the groups of many users, and users' groups are listed.
CREATE INDEX group_members_user ON group_members (user_id);
