-- Directory events may be redelivered or arrive out of order: each row remembers the occurred_at of the
-- event that last wrote it, and an older event no longer overwrites a newer one.
ALTER TABLE organisations ADD COLUMN source_at timestamptz;
ALTER TABLE locations ADD COLUMN source_at timestamptz;
ALTER TABLE staff ADD COLUMN source_at timestamptz;
ALTER TABLE clients ADD COLUMN source_at timestamptz;
ALTER TABLE patients ADD COLUMN source_at timestamptz;
ALTER TABLE connections ADD COLUMN source_at timestamptz;
