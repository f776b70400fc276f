-- The approvals inbox reads the open processes that are in an approval step.
CREATE INDEX processes_open_approvals ON processes (started_at, id)
    WHERE ended_at IS NULL AND view ? 'approval';
