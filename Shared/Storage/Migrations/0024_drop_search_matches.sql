-- commlog_search_matches (0006) returned every entry matching the words; the board's search reads them through
-- commlog_search_newest (0023) since, with a null probe when it wants them all. Nothing calls the old one.
DROP FUNCTION commlog_search_matches(tsquery);
