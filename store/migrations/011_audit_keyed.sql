-- A keyed audit chain. Plain SHA-256 links (002) can be recomputed by anyone who
-- can write the database; from now on every record is linked with HMAC-SHA-256
-- under a secret key the database never sees. link says how a record is linked:
-- the records already here keep their SHA-256 links and stay verifiable, and a
-- verifier refuses an unkeyed record after a keyed one. key_id names the key (not
-- the key itself) so a verifier can tell "written with another key" from
-- "altered". Adding the columns rewrites no row, so the append-only trigger is
-- not involved.
ALTER TABLE audit_log ADD COLUMN link text NOT NULL DEFAULT 'sha256'
    CHECK (link IN ('sha256', 'hmac-sha256'));
-- Every new record names its link explicitly.
ALTER TABLE audit_log ALTER COLUMN link DROP DEFAULT;
ALTER TABLE audit_log ADD COLUMN key_id text NOT NULL DEFAULT '';

-- The outbox of signed checkpoints of the chain's head (seq, hash, time, HMAC):
-- the notifier delivers them to the notification webhook in seq order, so a
-- receiver outside the database keeps a copy the database writer cannot
-- rewrite. seq is the key: several servers checkpointing the same head queue
-- it once.
CREATE TABLE audit_checkpoints (
    seq          bigint      PRIMARY KEY,
    hash         text        NOT NULL,
    at           timestamptz NOT NULL,
    key_id       text        NOT NULL,
    mac          text        NOT NULL,
    delivered_at timestamptz
);
CREATE INDEX audit_checkpoints_undelivered ON audit_checkpoints (seq) WHERE delivered_at IS NULL;
