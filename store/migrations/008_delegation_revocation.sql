-- A delegation can be revoked before it ends. The row stays for the record: its
-- ends_at moves to the moment of revocation (or to starts_at, for one that had
-- not begun, which leaves an empty period) and who revoked it is kept.
ALTER TABLE delegations
    ADD COLUMN revoked_at timestamptz,
    ADD COLUMN revoked_by text NOT NULL DEFAULT '';

-- An empty period (ends_at = starts_at) is what a revoked future delegation
-- leaves: replace 005's CHECK (ends_at > starts_at), whatever it was named.
DO $$
DECLARE c text;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint
             WHERE conrelid = 'delegations'::regclass AND contype = 'c'
               AND pg_get_constraintdef(oid) LIKE '%ends_at > starts_at%'
    LOOP
        EXECUTE format('ALTER TABLE delegations DROP CONSTRAINT %I', c);
    END LOOP;
END $$;
ALTER TABLE delegations ADD CONSTRAINT delegations_period CHECK (ends_at >= starts_at);
