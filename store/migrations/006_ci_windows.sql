-- Change windows reserved on configuration items: one row per open process that
-- has scheduled work on an item. The API reserves before it schedules; the
-- projection releases the row when the process ends.
CREATE TABLE ci_windows (
    process_id  text        PRIMARY KEY REFERENCES processes (id),
    ci          text        NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX ci_windows_ci ON ci_windows (ci, starts_at);
