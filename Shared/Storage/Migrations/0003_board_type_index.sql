-- The board filtered by type (a manager's "all calls", "all letters"): one index range per type, newest first,
-- instead of walking the whole board and skipping the other types (a rare type would read most of the log).
CREATE INDEX communications_board_type ON communications (organisation_id, type, occurred_at DESC, id DESC) WHERE deleted_at IS NULL;
