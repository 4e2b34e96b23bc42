-- The entries filed under no client, newest first, for managers to work through (GET /v1/communications?unfiled=true):
-- few among many, so an index of their own rather than a walk down the whole board.
CREATE INDEX communications_unfiled ON communications (organisation_id, occurred_at DESC, id DESC)
    WHERE deleted_at IS NULL AND client_id IS NULL;
