-- The dead letters nobody has replayed yet, counted by queue on every scrape of /metrics
-- (commlog_dead_letters_waiting): an index of those alone stays small however long the archive grows.
CREATE INDEX dead_letters_waiting ON dead_letters (queue) WHERE replayed_at IS NULL;
