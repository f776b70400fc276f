-- What an agent filters the queue by, kept on the process row by the
-- projection (see project): who it is assigned to and which group, the
-- configuration item, and its title and description for full-text search.
ALTER TABLE processes
    ADD COLUMN assignee         text,
    ADD COLUMN assignment_group text,
    ADD COLUMN ci               text,
    ADD COLUMN search           tsvector NOT NULL DEFAULT ''::tsvector,
    ADD COLUMN search_text      text NOT NULL DEFAULT '';
UPDATE processes SET
    assignee         = nullif(view->'vars'->>'assignee', ''),
    assignment_group = nullif(view->'vars'->>'assignment_group', ''),
    ci               = nullif(coalesce(view->'vars'->>'ci', view->'input'->>'ci'), ''),
    search_text      = concat_ws(' ', view->'input'->>'title', view->'input'->>'description'),
    search           = to_tsvector('simple', concat_ws(' ', view->'input'->>'title', view->'input'->>'description'));
CREATE INDEX processes_assignee ON processes (assignee, next_due) WHERE ended_at IS NULL;
CREATE INDEX processes_assignment_group ON processes (assignment_group, next_due) WHERE ended_at IS NULL;
CREATE INDEX processes_started_by ON processes (started_by, started_at DESC);
CREATE INDEX processes_ci ON processes (ci) WHERE ci IS NOT NULL;
CREATE INDEX processes_search ON processes USING gin (search);
