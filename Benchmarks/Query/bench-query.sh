#!/usr/bin/env bash
# The query benchmark: query-api against the same SQL run by pgbench, on one organisation with many entries.
#
#   make bench-query                 10 million entries (seeded once, kept in the database commlog_bench)
#   ENTRIES=1000000 make bench-query a smaller run
#
# Four requests (REQUESTS, default all four), each for DURATION seconds (default 20) at CONCURRENCY connections (default 8):
#   timeline  GET /v1/communications?client_id=<random of 100,000 clients>&limit=50   (a staff member's view)
#   board     GET /v1/communications?type=phone&limit=50                               (a manager's board)
#   search    GET /v1/communications?q=<one of 10,000 rare words>&limit=50             (free text, board-wide)
#   directory GET /v1/directory/search?q=<a name, two words, an email or a phone prefix>&limit=10 on another
#             organisation of 200,000 clients, 200,000 patients, 50,000 connections and 200 staff (the pickers
#             of the page); its goal is an absolute one, p99 within 10 ms; pgbench calls the same function
#             (commlog_directory_search) with the arguments query-api gives it for the same mix of look-ups.
# The API is driven by wrk (latency percentiles from its --latency report); the SQL by pgbench with the
# statement query-api runs for the same request (commlog_read: the tenant set and the page joined with its
# participants, in one statement), sent the way postgres-nio sends it (extended protocol, planned per execution: `-M extended`),
# per-transaction latencies from its log. It prints p50, p99 and requests/s of both, the ratio
# of the API's p99 to the goal (2 × SQL p99 + 2 ms), the API's throughput against pgbench's (goal 0.7), and
# query-api's resident memory, idle and at its peak. Then the web page (Benchmarks/Query/bench-pages.py, PAGES=0
# skips it): headless Chromium opens client timelines and the board one after the other and reports the time to a
# rendered screen (first contentful paint, from Navigation and Paint Timing; goal p95 under 300 ms) and the bytes.
#
# query-api's database pool (POOL, default: cores + 1) is sized for the database, not for the HTTP
# connections: requests beyond it wait for a connection. On one machine that also runs PostgreSQL and wrk,
# more busy backends than cores make the slowest requests much slower. Measured on 2 cores, board page,
# 8 HTTP connections: pool 3: p99 8.4-9.4 ms at 1,520-1,600 req/s; pool 4: 12-14 ms; pool 8: 30-37 ms at
# 1,600-1,700 req/s. With 3 HTTP connections, pool 8 and pool 3 answer alike (p99 3.2 and 3.4 ms).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
ENTRIES="${ENTRIES:-10000000}"
DURATION="${DURATION:-20}"
CONCURRENCY="${CONCURRENCY:-8}"
POOL="${POOL:-$(($(nproc) + 1))}"
REQUESTS="${REQUESTS:-timeline board search directory}"
CLIENTS=100000
ORG=org-bench
DIRECTORY_ORG=org-bench-directory
DIRECTORY_CLIENTS=200000
WORK="$ROOT/.data/bench-query"
mkdir -p "$WORK" .data/logs
set -a; . .data/stack.env; set +a
BIN="${COMMLOG_BIN:?COMMLOG_BIN must name the folder of the built programs}"

# A database of its own, so that the tests' database stays small.
OWNER_URL="${COMMLOG_DATABASE_OWNER_URL%/*}/commlog_bench"
APP_URL="${COMMLOG_DATABASE_URL%/*}/commlog_bench"
psql -q "$COMMLOG_DATABASE_OWNER_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = 'commlog_bench'" | grep -q 1 ||
    psql -q "$COMMLOG_DATABASE_OWNER_URL" -c "CREATE DATABASE commlog_bench"
COMMLOG_DATABASE_OWNER_URL="$OWNER_URL" COMMLOG_DATABASE_URL="$APP_URL" "$BIN/commlog" migrate >/dev/null

have="$(psql -q "$OWNER_URL" -tAc "SELECT count(*) FROM communications WHERE organisation_id = '$ORG'")"
if ((have < ENTRIES)); then
    echo "seeding $((ENTRIES - have)) entries (of $ENTRIES) into commlog_bench; this is done once"
    chunk=1000000
    for ((start = have + 1; start <= ENTRIES; start += chunk)); do
        end=$((start + chunk - 1 > ENTRIES ? ENTRIES : start + chunk - 1))
        t0=$SECONDS
        psql -q -v ON_ERROR_STOP=1 "$OWNER_URL" <<SQL
-- Every fifth entry is a call with a staff handler; subjects hold common words and one rare reference word.
WITH words AS (SELECT ARRAY['vaccination','booster','appointment','reminder','invoice','lab','results','surgery',
    'dental','checkup','follow','up','prescription','refill','worming','flea','treatment','x-ray','weight','diet'] AS w),
rows AS (
    SELECT i, gen_random_uuid() AS id,
           (ARRAY['email','sms','phone','mail','note'])[1 + i % 5] AS type,
           timestamptz '2021-06-01' + i * (interval '1 second' * (150000000.0 / $ENTRIES)) AS at,
           'c-' || ((i::bigint * 7919) % $CLIENTS) AS client
    FROM generate_series($start, $end) AS i
), inserted AS (
    INSERT INTO communications (organisation_id, id, type, direction, status, occurred_at, client_id, author_staff_id,
                                reason, subject, notes, content, source, source_ref)
    SELECT '$ORG', r.id, r.type, CASE WHEN r.type = 'note' THEN NULL WHEN r.i % 2 = 0 THEN 'inbound' ELSE 'outbound' END,
           'closed', r.at, r.client, 's-' || (r.i % 40),
           CASE r.type WHEN 'email' THEN 'AD_HOC_EMAIL' WHEN 'sms' THEN 'AD_HOC_SMS' END,
           w[1 + r.i % 20] || ' ' || w[1 + (r.i / 20) % 20] || ' ref' || ((r.i::bigint * 104729) % 10000),
           CASE WHEN r.i % 3 = 0 THEN 'called back about the ' || w[1 + (r.i / 7) % 20] END,
           CASE WHEN r.type IN ('email', 'sms') THEN 'Dear client, about the ' || w[1 + (r.i / 3) % 20] || ' of your pet.' END,
           CASE r.type WHEN 'phone' THEN 'phone' WHEN 'note' THEN 'manual' ELSE 'practice' END, 'bench-' || r.i
    FROM rows r, words
    RETURNING id, type, occurred_at, author_staff_id
)
INSERT INTO participants (organisation_id, communication_id, position, role, kind, ref_id, occurred_at)
SELECT '$ORG', id, 0, 'handler', 'staff', author_staff_id, occurred_at FROM inserted WHERE type = 'phone';
SQL
        echo "  $end entries ($((SECONDS - t0)) s for this million)"
    done
    psql -q "$OWNER_URL" -c "VACUUM (ANALYZE) communications" -c "VACUUM (ANALYZE) participants"
fi

# The directory the names come from: every client of the entries and the 40 staff, with names.
clients="$(psql -q "$OWNER_URL" -tAc "SELECT count(*) FROM clients WHERE organisation_id = '$ORG'")"
if ((clients < CLIENTS)); then
    echo "seeding the directory ($CLIENTS clients, 40 staff) into commlog_bench; this is done once"
    psql -q -v ON_ERROR_STOP=1 "$OWNER_URL" <<SQL
INSERT INTO clients (organisation_id, id, name)
SELECT '$ORG', 'c-' || i, 'Client ' || i FROM generate_series(0, $CLIENTS - 1) AS i ON CONFLICT DO NOTHING;
INSERT INTO staff (organisation_id, id, name)
SELECT '$ORG', 's-' || i, 'Staff member ' || i FROM generate_series(0, 39) AS i ON CONFLICT DO NOTHING;
SQL
    psql -q "$OWNER_URL" -c "VACUUM (ANALYZE) clients" -c "VACUUM (ANALYZE) staff"
fi

# The directory of the look-up benchmark: names drawn from common first names, surnames and pet names, so
# that a prefix matches as many records as it would at a large practice (a surname's 3 letters: ~2,000).
have_directory="$(psql -q "$OWNER_URL" -tAc "SELECT count(*) FROM clients WHERE organisation_id = '$DIRECTORY_ORG'")"
if ((have_directory < DIRECTORY_CLIENTS)); then
    echo "seeding the look-up directory ($DIRECTORY_CLIENTS clients) into commlog_bench; this is done once"
    psql -q -v ON_ERROR_STOP=1 "$OWNER_URL" -f "$ROOT/Benchmarks/Query/seed-directory.sql" \
        -v org="$DIRECTORY_ORG" -v clients="$DIRECTORY_CLIENTS" >/dev/null
    psql -q "$OWNER_URL" -c "VACUUM (ANALYZE) directory_words" -c "VACUUM (ANALYZE) contact_points" -c "VACUUM (ANALYZE) clients"
fi

# query-api on the benchmark database.
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
SECRET="bench-query-secret-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
COMMLOG_DATABASE_URL="$APP_URL" COMMLOG_HTTP_PORT="$PORT" COMMLOG_JWT_SECRET="$SECRET" COMMLOG_LOG_LEVEL=warning \
    COMMLOG_DATABASE_POOL_SIZE="$POOL" "$BIN/query-api" >.data/logs/bench-query-api.log 2>&1 &
API_PID=$!
trap 'kill $API_PID 2>/dev/null || true; wait $API_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
# Resident memory (MB) of query-api: now, ready and idle; VmHWM at the end, its peak.
resident() { awk -v key="$1:" '$1 == key { printf "%.1f", $2 / 1024 }' "/proc/$API_PID/status"; }
sleep 2
API_IDLE_MB="$(resident VmRSS)"
# Its parts: the program's own data, and pages mapped from files (its code and the libraries', clean and shared).
API_IDLE_PARTS="its own data $(resident RssAnon) MB, mapped from files $(resident RssFile) MB"
TOKEN="$(COMMLOG_JWT_SECRET="$SECRET" "$BIN/commlog" token --org "$ORG" --staff m-1 --role manager)"
DIRECTORY_TOKEN="$(COMMLOG_JWT_SECRET="$SECRET" "$BIN/commlog" token --org "$DIRECTORY_ORG" --staff m-1 --role manager)"

# The SQL query-api runs for a manager's page (no visibility condition), as pgbench statements: one
# statement, commlog_read (migration 0007), which sets the tenant and runs the page joined with its
# participants; the values travel in one text array ($1 inside the page), the organisation and the limit first.
COLUMNS="c.id, c.type, c.direction, c.status, c.occurred_at, c.claimed_at, c.answered_at, c.ended_at, c.closed_at, c.outcome, c.duration_s,
  c.client_id, c.patient_id, c.location_id, c.author_staff_id, c.reason, c.address, c.subject, c.description, c.notes,
  c.source, c.source_ref, c.template, c.reminder_type, c.reminder_count, c.ambiguous, c.show_in_patient_history, c.print_in_patient_history,
  c.version,
  EXISTS (SELECT 1 FROM recordings r WHERE r.organisation_id = c.organisation_id AND r.communication_id = c.id) AS has_recording,
  (extract(epoch FROM c.occurred_at) * 1000000)::bigint AS occurred_at_us,
  (SELECT nullif(x.name, '') FROM clients x WHERE x.organisation_id = c.organisation_id AND x.id = c.client_id) AS client_name,
  (SELECT nullif(x.name, '') FROM patients x WHERE x.organisation_id = c.organisation_id AND x.id = c.patient_id) AS patient_name,
  (SELECT nullif(x.name, '') FROM locations x WHERE x.organisation_id = c.organisation_id AND x.id = c.location_id) AS location_name,
  (SELECT nullif(x.name, '') FROM staff x WHERE x.organisation_id = c.organisation_id AND x.id = c.author_staff_id) AS author_name,
  coalesce((SELECT x.name FROM reasons x WHERE x.organisation_id = c.organisation_id AND x.code = c.reason),
           (SELECT x.name FROM reasons x WHERE x.organisation_id IS NULL AND x.code = c.reason)) AS reason_label"
ROW="id uuid, type text, direction text, status text, occurred_at timestamptz, claimed_at timestamptz, answered_at timestamptz,
  ended_at timestamptz, closed_at timestamptz, outcome text, duration_s integer, client_id text, patient_id text, location_id text,
  author_staff_id text, reason text, address text, subject text, description text, notes text, source text, source_ref text,
  template text, reminder_type text, reminder_count integer, ambiguous boolean, show_in_patient_history boolean,
  print_in_patient_history boolean, version integer, has_recording boolean, occurred_at_us bigint, client_name text, patient_name text,
  location_name text, author_name text, reason_label text, participant_role text, participant_kind text, participant_ref_id text,
  participant_address text, participant_name text"
pgbench_script() { # name, \set lines, condition (on $1[3]), the third value[, common table expression]
    cat >"$WORK/$1.sql" <<SQL
$2
SELECT * FROM commlog_read('$ORG', \$page\$WITH ${5:-}page AS (SELECT $COLUMNS FROM communications c
  WHERE c.organisation_id = \$1[1] AND c.deleted_at IS NULL AND $3
  ORDER BY c.occurred_at DESC, c.id DESC LIMIT \$1[2]::bigint)
SELECT page.*, p.role, p.kind, p.ref_id, p.address,
  coalesce(CASE p.kind WHEN 'staff' THEN (SELECT nullif(x.name, '') FROM staff x WHERE x.organisation_id = p.organisation_id AND x.id = p.ref_id)
                       WHEN 'client' THEN (SELECT nullif(x.name, '') FROM clients x WHERE x.organisation_id = p.organisation_id AND x.id = p.ref_id)
                       WHEN 'connection' THEN (SELECT nullif(x.name, '') FROM connections x WHERE x.organisation_id = p.organisation_id AND x.id = p.ref_id) END,
           p.name)
  FROM page LEFT JOIN participants p ON p.organisation_id = \$1[1] AND p.communication_id = page.id
  ORDER BY page.occurred_at DESC, page.id DESC, p.position\$page\$, ARRAY['$ORG', '51', $4]) AS read($ROW);
SQL
}
pgbench_script timeline '\set c random(0, 99999)' 'c.client_id = $1[3]' "'c-' || :c"
pgbench_script board '' 'c.type = $1[3]' "'phone'"
pgbench_script search '\set r random(0, 9999)' "c.id IN (SELECT m FROM matches)" "'ref' || :r" \
    "matches AS MATERIALIZED (SELECT m FROM commlog_search_newest(websearch_to_tsquery('simple', \$1[3]), timestamptz 'infinity', 102) AS m), "

# The directory look-up as pgbench runs it: the function query-api calls (commlog_directory_search, migration
# 0018) with the arguments query-api gives it for the same mix of look-ups as wrk sends (a surname's first 3 to 5
# letters, a first name and a surname's start, an email's start, a mobile number's start).
cat >"$WORK/directory.sql" <<SQL
\\set s random(1, 100)
\\set f random(1, 60)
\\set n random(3, 5)
\\set k random(1, 4)
\\set d random(0, 99)
\\if :k = 1
SELECT * FROM (SELECT lower(left(surnames[:s], :n)) AS w FROM commlog_bench_names) q,
    commlog_directory_search('$DIRECTORY_ORG', '{client,patient,connection,staff}', '', q.w, 20, ARRAY[q.w],
                             ARRAY['email'], ARRAY[q.w], true, 'm-1', q.w, 10, 20);
\\elif :k = 2
SELECT * FROM (SELECT lower(firsts[:f]) AS a, lower(left(surnames[:s], 2)) AS b FROM commlog_bench_names) q,
    commlog_directory_search('$DIRECTORY_ORG', '{client,patient,connection,staff}', ' ' || q.a || ' ' || q.b, q.a, 400, ARRAY[q.a, q.b],
                             '{}', '{}', true, 'm-1', q.a || ' ' || q.b, 10, 20);
\\elif :k = 3
SELECT * FROM (SELECT lower(firsts[:f]) AS a, lower(left(surnames[:s], 2)) AS b FROM commlog_bench_names) q,
    commlog_directory_search('$DIRECTORY_ORG', '{client,patient,connection,staff}', ' ' || q.a || ' ' || q.b, q.a, 400, ARRAY[q.a, q.b],
                             ARRAY['email'], ARRAY[q.a || '.' || q.b], true, 'm-1', q.a || '.' || q.b, 10, 20);
\\else
SELECT * FROM (SELECT '4477009' || :d AS digits) q,
    commlog_directory_search('$DIRECTORY_ORG', '{client,patient,connection,staff}', '', q.digits, 20, ARRAY[q.digits],
                             ARRAY['email', 'phone', 'extension'], ARRAY['+' || q.digits, '+' || q.digits, q.digits], true, 'm-1', '+' || q.digits, 10, 20);
\\endif
SQL

wrk_script() { # name, path expression (Lua)[, token]
    cat >"$WORK/$1.lua" <<LUA
wrk.headers["Authorization"] = "Bearer ${3:-$TOKEN}"
${4:-}
request = function() return wrk.format("GET", $2) end
LUA
}
wrk_script timeline '"/v1/communications?limit=50&client_id=c-" .. math.random(0, 99999)'
wrk_script board '"/v1/communications?limit=50&type=phone"'
wrk_script search '"/v1/communications?limit=50&q=ref" .. math.random(0, 9999)'
# A surname's first 3 to 5 letters, a first name and a surname's start, an email's start, a mobile number's start.
names="$(psql -q "$OWNER_URL" -tAc "SELECT array_to_string(surnames, ' ') || '|' || array_to_string(firsts, ' ') FROM commlog_bench_names")"
wrk_script directory 'directory_query()' "$DIRECTORY_TOKEN" "
local surnames, firsts = {}, {}
for w in string.gmatch('${names%%|*}', '%S+') do surnames[#surnames + 1] = w end
for w in string.gmatch('${names#*|}', '%S+') do firsts[#firsts + 1] = w end
function directory_query()
  local s, f, kind = surnames[math.random(#surnames)], firsts[math.random(#firsts)], math.random(4)
  local q
  if kind == 1 then q = string.sub(s, 1, math.random(3, 5))
  elseif kind == 2 then q = f .. '%20' .. string.sub(s, 1, 2)
  elseif kind == 3 then q = string.lower(f) .. '.' .. string.sub(string.lower(s), 1, 2)
  else q = '%2B4477009' .. math.random(0, 99) end
  return '/v1/directory/search?limit=10&q=' .. q
end"

to_ms() { # wrk latency (e.g. 1.23ms, 850.00us, 1.02s) in milliseconds
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}

printf '\n%s entries, %s connections, %s s per request (%s cores; query-api pool %s)\n' "$ENTRIES" "$CONCURRENCY" "$DURATION" "$(nproc)" "$POOL"
printf '%-9s | %10s %10s %9s | %10s %10s %9s | %8s\n' request "API p50" "API p99" "API req/s" "SQL p50" "SQL p99" "SQL tx/s" "p99 goal"
for request in $REQUESTS; do
    # Warm both paths, then measure.
    wrk -t2 -c"$CONCURRENCY" -d3s -s "$WORK/$request.lua" "http://127.0.0.1:$PORT" >/dev/null
    report="$(wrk -t2 -c"$CONCURRENCY" -d"${DURATION}s" --latency -s "$WORK/$request.lua" "http://127.0.0.1:$PORT")"
    api_p50="$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$report")")"
    api_p99="$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$report")")"
    api_rps="$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' <<<"$report")"
    errors="$(awk '/Non-2xx/ { print $NF }' <<<"$report")"
    [[ -z "$errors" ]] || echo "  warning: $errors non-2xx answers from the API for $request"

    rm -f "$WORK"/pgbench_log.*
    (cd "$WORK" && PGOPTIONS="-c jit=off" pgbench -n -M extended -c "$CONCURRENCY" -j 2 -T 3 -f "$request.sql" "$APP_URL" >/dev/null 2>&1)
    (cd "$WORK" && rm -f pgbench_log.* && PGOPTIONS="-c jit=off" pgbench -n -M extended -c "$CONCURRENCY" -j 2 -T "$DURATION" -l -f "$request.sql" "$APP_URL" >"$WORK/pgbench.out" 2>&1)
    sql_tps="$(awk '/^tps/ { printf "%.0f", $3 }' "$WORK/pgbench.out")"
    read -r sql_p50 sql_p99 < <(cat "$WORK"/pgbench_log.* | awk '{ print $3 }' | sort -n |
        awk '{ v[NR] = $1 } END { printf "%.2f %.2f\n", v[int(NR * 0.50)] / 1000, v[int(NR * 0.99)] / 1000 }')
    goal="$(awk -v s="$sql_p99" 'BEGIN { printf "%.2f", 2 * s + 2 }')"
    [[ "$request" != directory ]] || goal=10.00
    verdict="$(awk -v a="$api_p99" -v g="$goal" 'BEGIN { print (a <= g ? "met" : "missed") }')"
    printf '%-9s | %8s ms %8s ms %9s | %8s ms %8s ms %9s | %5s ms %s (API/SQL p99 %.1f×; throughput API/SQL %.2f, goal 0.70)\n' \
        "$request" "$api_p50" "$api_p99" "$api_rps" "$sql_p50" "$sql_p99" "$sql_tps" "$goal" "$verdict" \
        "$(awk -v a="$api_p99" -v s="$sql_p99" 'BEGIN { printf "%.1f", (s > 0 ? a / s : 0) }')" \
        "$(awk -v a="$api_rps" -v s="$sql_tps" 'BEGIN { printf "%.2f", (s > 0 ? a / s : 0) }')"
done
printf 'query-api resident memory: idle %s MB (limit 40) (%s), peak %s MB (limit 150)\n' "$API_IDLE_MB" "$API_IDLE_PARTS" "$(resident VmHWM)"

# The web page: time to a rendered client timeline and board in headless Chromium (PAGES=0 skips it).
if [[ "${PAGES:-1}" != 0 ]]; then
    LAUNCH="$(COMMLOG_JWT_SECRET="$SECRET" COMMLOG_QUERY_API_URL="http://127.0.0.1:$PORT" "$BIN/commlog" launch-url --org "$ORG" --staff m-1 --role manager --to /board)"
    Tests/Browser/run.sh --python Benchmarks/Query/bench-pages.py "$LAUNCH" "http://127.0.0.1:$PORT" "$CLIENTS" "${PAGE_SAMPLES:-40}"
fi

# The plan of a client's timeline page at this size: an index range, never a scan of the table.
echo
echo "plan of a timeline page:"
psql -q "$OWNER_URL" -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT c.id FROM communications c
  WHERE c.organisation_id = '$ORG' AND c.deleted_at IS NULL AND c.client_id = 'c-4242'
  ORDER BY c.occurred_at DESC, c.id DESC LIMIT 51" | sed 's/^/  /'
