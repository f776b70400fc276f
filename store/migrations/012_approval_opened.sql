-- Compact projections (engine.CompactView) carry no votes and only the agenda
-- items that changed; the store merges them into the view it holds, which
-- needs to know which approval that view's votes and items belong to: the
-- event after which the process entered its current state.
ALTER TABLE processes ADD COLUMN approval_opened bigint NOT NULL DEFAULT 0;
-- A lean process's stored view holds no votes: its votes are its vote events,
-- and readers put them back (store/votes.go), so a meeting's row is not
-- rewritten with every vote cast so far at each new vote.
ALTER TABLE processes ADD COLUMN lean boolean NOT NULL DEFAULT false;
