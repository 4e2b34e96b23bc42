-- A time later than when Commlog received an entry (an email's Date: header, a phone event, a manual entry dated
-- ahead) would pin the entry to the top of every timeline. The entry keeps what the sender claimed in claimed_at,
-- and occurred_at, by which every timeline is ordered, is no later than created_at, when Commlog received it.
-- One rule for every writer: this trigger. Writers copy occurred_at into participants from the stored row.
ALTER TABLE communications ADD COLUMN claimed_at timestamptz;

CREATE FUNCTION commlog_clamp_occurred_at() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF NEW.occurred_at > NEW.created_at THEN
        NEW.claimed_at := NEW.occurred_at;
        NEW.occurred_at := NEW.created_at;
    ELSIF TG_OP = 'INSERT' OR NEW.occurred_at IS DISTINCT FROM OLD.occurred_at THEN
        -- A time no later than the receipt (set again, or corrected): nothing was clamped.
        NEW.claimed_at := NULL;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER communications_occurred_by_receipt
    BEFORE INSERT OR UPDATE OF occurred_at ON communications
    FOR EACH ROW EXECUTE FUNCTION commlog_clamp_occurred_at();
