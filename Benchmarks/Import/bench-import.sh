#!/usr/bin/env bash
# The legacy notes import benchmark: `commlog import notes` against raw COPY of the same rows.
#
#   make bench-import              1,000,000 notes (ROWS), a CSV generated once under .data/bench-import/
#   ROWS=100000 make bench-import  a smaller run
#
# In a database of its own (commlog_import_bench, emptied before each run), one after the other:
#   1. raw COPY of the file into a plain table with the file's columns (no index): the engine's limit for
#      taking these rows in, the reference of the goal (import at least 0.5 of it);
#   2. raw COPY of the file into a table shaped like the log (communications' columns, defaults, constraints,
#      generated full-text column and indexes, the file's columns renamed onto legacy_id -> source_ref,
#      text -> description, category -> reason), for what the log's indexes cost on their own;
#   3. `commlog import notes --org bench-import FILE`, the release build, as a practice runs it.
# Both COPYs are psql's \copy, which reads the file on the client side as the command does.
# It needs COMMLOG_BIN (the release build's folder) and the stack's COMMLOG_DATABASE_OWNER_URL and COMMLOG_DATABASE_URL.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
ROWS="${ROWS:-1000000}"
BIN="${COMMLOG_BIN:?COMMLOG_BIN must name the folder of the built programs}"
: "${COMMLOG_DATABASE_OWNER_URL:?the environment of the stack (.data/stack.env) is needed}"
WORK="$ROOT/.data/bench-import"
FILE="$WORK/notes-$ROWS.csv"
ORG=bench-import
mkdir -p "$WORK"

# The export, made once: a practice's notes over ten years, 20,000 clients, a patient on two notes in three,
# ten categories, an author on most, a text of 40 to 400 characters with commas, some with quotes and line breaks.
if [[ ! -s "$FILE" ]]; then
    echo "writing $ROWS notes to $FILE; this is done once"
    awk -v rows="$ROWS" 'BEGIN {
        srand(20261203)
        split("Phone call|Surgery follow-up|Grooming|Billing|Reminder query|Complaint|Referral|Lab results|Boarding|General", categories, "|")
        split("called the client about the results, all normal|left a message on the mobile, will try again tomorrow|client asked about the invoice and the payment plan|booked the follow-up for next week, reminded about fasting|owner reports the wound is clean, no discharge, eating well|discussed the quote, client will think about it and call back", phrases, "|")
        print "legacy_id,occurred_at,client_id,patient_id,category,text,author_staff_id,location_id"
        for (i = 1; i <= rows; i++) {
            t = 1262304000 + int(i * (315360000 / rows))
            text = ""
            n = 1 + int(rand() * 6)
            for (j = 0; j < n; j++) text = text (j ? ", " : "") phrases[1 + int(rand() * 6)]
            if (i % 50 == 0) text = text "\nSecond line: \"\"as discussed\"\""
            patient = (i % 3 == 0) ? "" : "p-" int(rand() * 30000)
            author = (i % 5 == 0) ? "" : "s-" (1 + i % 40)
            printf "%d,%s,c-%d,%s,%s,\"%s\",%s,loc-%d\n", 100000 + i, strftime("%Y-%m-%d %H:%M:%S", t, 1), int(rand() * 20000), patient,
                categories[1 + i % 10], text, author, 1 + i % 3
        }
    }' >"$FILE.partial"
    mv "$FILE.partial" "$FILE"
fi
bytes="$(stat -c %s "$FILE")"

# A database of its own, emptied before each run.
OWNER_URL="${COMMLOG_DATABASE_OWNER_URL%/*}/commlog_import_bench"
APP_URL="${COMMLOG_DATABASE_URL%/*}/commlog_import_bench"
psql -q "$COMMLOG_DATABASE_OWNER_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = 'commlog_import_bench'" | grep -q 1 ||
    psql -q "$COMMLOG_DATABASE_OWNER_URL" -c "CREATE DATABASE commlog_import_bench"
COMMLOG_DATABASE_OWNER_URL="$OWNER_URL" COMMLOG_DATABASE_URL="$APP_URL" "$BIN/commlog" migrate >/dev/null
psql -q -v ON_ERROR_STOP=1 "$OWNER_URL" <<SQL
SET client_min_messages = warning;
TRUNCATE communications CASCADE;
DELETE FROM reasons WHERE organisation_id = '$ORG';
INSERT INTO organisations (id, name, timezone) VALUES ('$ORG', 'Import benchmark', 'Australia/Sydney') ON CONFLICT (id) DO NOTHING;
DROP TABLE IF EXISTS bench_plain, bench_log;
CREATE TABLE bench_plain (legacy_id text, occurred_at timestamptz, client_id text, patient_id text, category text, text text,
                          author_staff_id text, location_id text);
CREATE TABLE bench_log (LIKE communications INCLUDING ALL);
ALTER TABLE bench_log ALTER COLUMN organisation_id SET DEFAULT '$ORG', ALTER COLUMN type SET DEFAULT 'note',
    ALTER COLUMN source SET DEFAULT 'import';
ALTER TABLE bench_log RENAME COLUMN source_ref TO legacy_id;
ALTER TABLE bench_log RENAME COLUMN description TO text;
ALTER TABLE bench_log RENAME COLUMN reason TO category;
SQL

now() { date +%s.%N; }
rate() { awk -v rows="$ROWS" -v start="$1" -v end="$2" 'BEGIN { printf "%.0f", rows / (end - start) }'; }
copy_into() {
    local start end
    start="$(now)"
    PGTZ=Australia/Sydney psql -q -v ON_ERROR_STOP=1 "$OWNER_URL" \
        -c "\\copy $1 (legacy_id, occurred_at, client_id, patient_id, category, text, author_staff_id, location_id) FROM '$FILE' WITH (FORMAT csv, HEADER true)"
    end="$(now)"
    rate "$start" "$end"
}

echo "import benchmark: $ROWS notes, $((bytes / 1048576)) MiB of CSV ($(nproc) cores)"
plain="$(copy_into bench_plain)"
printf '  raw COPY into a plain table with the same columns:                %9s rows/s\n' "$plain"
logshaped="$(copy_into bench_log)"
printf '  raw COPY into a table shaped like the log (its indexes):          %9s rows/s\n' "$logshaped"
psql -q "$OWNER_URL" -c "DROP TABLE bench_plain, bench_log" >/dev/null

start="$(now)"
COMMLOG_DATABASE_OWNER_URL="$OWNER_URL" COMMLOG_DATABASE_URL="$APP_URL" "$BIN/commlog" import notes --org "$ORG" "$FILE" \
    >"$WORK/import.out" 2>"$WORK/import.err" || { cat "$WORK/import.out" "$WORK/import.err"; exit 1; }
end="$(now)"
imported="$(psql -q "$OWNER_URL" -tAc "SELECT count(*) FROM communications WHERE organisation_id = '$ORG' AND source = 'import'")"
[[ "$imported" == "$ROWS" ]] || { echo "the import logged $imported notes of $ROWS"; cat "$WORK/import.out" "$WORK/import.err"; exit 1; }
import="$(rate "$start" "$end")"
printf '  commlog import notes (release build), file -> committed notes:   %9s rows/s\n' "$import"
awk -v i="$import" -v p="$plain" -v l="$logshaped" 'BEGIN {
    printf "  ratio to raw COPY into the plain table: %.2f (goal >= 0.50); to COPY into the log-shaped table: %.2f\n", i / p, i / l }'
