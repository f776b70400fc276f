-- Where each definition version came from, so that a start of `dev` or `serve
-- --definitions DIR` publishes a file only when that file changed, and never over
-- a version a person published after it.
--   origin      'file': a definitions directory, published at start by the user
--               itilflow; 'api': PUT /api/v1/definitions/{name}; 'cli': `itilflow
--               definitions publish FILE`.
--   origin_file the file's path as it was given (file and cli versions). The
--               file's content hash is the version's hash: its source is the
--               file's bytes.
-- Backfill: versions published by the user itilflow came from the definitions
-- directory at start (that was the only publisher of that name); every other
-- version came from the API, the only other way to publish before this
-- migration. Their paths were not recorded, so origin_file stays ''.
ALTER TABLE definitions
    ADD COLUMN origin      text NOT NULL DEFAULT 'api' CHECK (origin IN ('file', 'api', 'cli')),
    ADD COLUMN origin_file text NOT NULL DEFAULT '';
UPDATE definitions SET origin = 'file' WHERE published_by = 'itilflow';
ALTER TABLE definitions ALTER COLUMN origin DROP DEFAULT;

-- A retired definition starts no new processes; running ones go on. Each row is
-- one retirement, kept after its reinstatement for the record; at most one per
-- name is in force (reinstated_at IS NULL). It is per name, not per version:
-- publishing a new version does not reinstate a definition.
CREATE TABLE definition_retirements (
    id            bigserial   PRIMARY KEY,
    name          text        NOT NULL,
    retired_at    timestamptz NOT NULL DEFAULT now(),
    retired_by    text        NOT NULL,
    reason        text        NOT NULL CHECK (btrim(reason) <> ''),
    reinstated_at timestamptz,
    reinstated_by text        NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX definition_retirements_in_force ON definition_retirements (name)
    WHERE reinstated_at IS NULL;
