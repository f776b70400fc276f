-- Processes started by other processes (start steps). The key names the step that
-- asked ("<parent id>/<effect id>"), so a retried start activity gets the id it
-- allocated the first time and starts no second process.
CREATE TABLE process_starts (
    key        text        PRIMARY KEY,
    child_id   text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
