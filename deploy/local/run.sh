#!/usr/bin/env bash
# `make run`: the whole of Commlog on this machine, in the foreground.
#
#  1. refuses to start twice (.data/run.pid holds the pid of a live run.sh);
#  2. starts PostgreSQL and RabbitMQ (deploy/local/stack.sh up), builds the
#     programs (swift build, debug) and migrates the database (`commlog migrate`,
#     which connects with COMMLOG_DATABASE_OWNER_URL from .data/stack.env);
#  3. generates once, and keeps under .data/secrets, the JWT secret and the
#     mailbox-secret encryption key;
#  4. starts query-api (8080), call-bridge (8081), reminder-logger (8082) and
#     email-ingestor (8083) in the background, logs in .data/logs/<name>.log,
#     and waits for each one's GET /readyz to answer 200;
#  5. seeds demo data (`commlog demo-data`, idempotent), then writes
#     .data/commlog.env (atomically: it exists only while everything is up) and
#     prints where to look, with launch links of the web page for a demo manager
#     and a demo staff member (`commlog launch-url`);
#  6. stays in the foreground until SIGINT/SIGTERM (Ctrl-C or `make stop`),
#     then stops the programs (SIGTERM, SIGKILL after 20 s), runs
#     `stack.sh down`, removes run.pid and exits 0. A program that dies on its
#     own is reported; the others keep running.
#
# COMMLOG_RUN_BIN=/some/dir (testing this script without the Swift code): use
# the programs in that folder and skip `swift build`.
set -euo pipefail
umask 022

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$HERE/../.." && pwd -P)"
STACK="$HERE/stack.sh"
DATA="$ROOT/.data"
LOGS="$DATA/logs"
PIDS="$DATA/pids"
SECRETS="$DATA/secrets"
RUN_PID="$DATA/run.pid"
STACK_ENV="$DATA/stack.env"
APP_ENV="$DATA/commlog.env"
APP_ENV_NEXT="$DATA/commlog.env.next" # what the programs start with until all is ready

# name:port, in start order.
PROGRAMS=(query-api:8080 call-bridge:8081 reminder-logger:8082 email-ingestor:8083)
READY_TIMEOUT=60
STOP_TIMEOUT=20

log() { printf 'run: %s\n' "$*" >&2; }

pid_alive() {
    [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null &&
        ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# True when $1 is a live run.sh (guards against a recycled pid in run.pid).
is_run_sh() {
    pid_alive "$1" && tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -q 'run\.sh'
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints .data/secrets/$1, creating it with the command "${@:2}" if missing.
secret() {
    local file="$SECRETS/$1"
    shift
    if [[ ! -s "$file" ]]; then
        mkdir -p "$SECRETS"
        chmod 700 "$SECRETS"
        (umask 077 && "$@" >"$file.tmp" && mv "$file.tmp" "$file")
    fi
    cat "$file"
}

hex64() { od -An -vtx1 -N32 /dev/urandom | tr -d ' \n'; }
base64_32() { head -c 32 /dev/urandom | base64 -w0; }

# Replaces the current (sub)shell with "${@:2}", run with the KEY=value lines
# of file $1 exported. Use only in a subshell or a background job: exec keeps
# the pid, so $! is the program itself and a SIGTERM reaches it.
exec_with_env() {
    set -a
    # shellcheck disable=SC1090
    . "$1"
    set +a
    shift
    exec "$@"
}

# Runs a (possibly long) command in the background and waits for it, so that a
# signal's trap fires at once instead of after the command (bash runs traps
# only between foreground commands). The trap kills $CHILD.
CHILD=""
interruptible() {
    local rc=0
    "$@" </dev/null &
    CHILD=$!
    wait "$CHILD" || rc=$?
    CHILD=""
    return "$rc"
}

# --- one run at a time ---------------------------------------------------------

mkdir -p "$DATA" "$LOGS" "$PIDS"
# noclobber makes creating run.pid atomic; a stale file (dead pid) is replaced.
if ! (set -C && echo $$ >"$RUN_PID") 2>/dev/null; then
    old="$(tr -dc '0-9' 2>/dev/null <"$RUN_PID" || true)"
    if is_run_sh "$old"; then
        echo "Commlog is already running (make run, pid $old); use make stop to stop it." >&2
        exit 1
    fi
    echo $$ >"$RUN_PID"
fi
# commlog.env exists only while everything is up: drop a stale one.
rm -f "$APP_ENV" "$APP_ENV_NEXT"

# --- stopping ------------------------------------------------------------------

declare -A PID_OF=()  # name -> pid of the programs started
declare -A GONE=()    # name -> 1 once it has exited
SHUTTING_DOWN=""

stop_programs() {
    local name pid deadline alive
    for name in "${!PID_OF[@]}"; do
        if pid_alive "${PID_OF[$name]}"; then kill -TERM "${PID_OF[$name]}" 2>/dev/null || true; fi
    done
    deadline=$((SECONDS + STOP_TIMEOUT))
    while :; do
        alive=()
        for name in "${!PID_OF[@]}"; do
            pid_alive "${PID_OF[$name]}" && alive+=("$name")
        done
        ((${#alive[@]} == 0)) && break
        if ((SECONDS >= deadline)); then
            log "still running after ${STOP_TIMEOUT} s, killing: ${alive[*]}"
            for name in "${alive[@]}"; do kill -KILL "${PID_OF[$name]}" 2>/dev/null || true; done
            break
        fi
        sleep 0.2
    done
    for name in "${!PID_OF[@]}"; do
        pid="${PID_OF[$name]}"
        wait "$pid" 2>/dev/null || true
        rm -f "$PIDS/$name.pid"
    done
}

# Runs on every exit (signal, failure, or normal end).
cleanup() {
    local rc=$?
    [[ -n "$SHUTTING_DOWN" ]] && return
    SHUTTING_DOWN=1
    trap '' INT TERM
    if [[ -n "$CHILD" ]]; then
        kill -TERM "$CHILD" 2>/dev/null || true
        wait "$CHILD" 2>/dev/null || true
    fi
    rm -f "$APP_ENV" "$APP_ENV_NEXT"
    if ((${#PID_OF[@]})); then
        log "stopping the programs"
        stop_programs
    fi
    log "stopping the stack"
    # setsid: a second Ctrl-C on the terminal must not interrupt the shutdown.
    setsid -w "$STACK" down </dev/null || log "stack.sh down failed (exit $?)"
    if [[ "$(cat "$RUN_PID" 2>/dev/null)" == "$$" ]]; then
        rm -f "$RUN_PID"
    fi
    log "stopped"
    return "$rc"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

fail() {
    log "error: $*"
    exit 1
}

# --- stack, build, migrate -------------------------------------------------------

interruptible "$STACK" up || fail "stack.sh up failed"

if [[ -n "${COMMLOG_RUN_BIN:-}" ]]; then
    BIN="$(cd "$COMMLOG_RUN_BIN" && pwd -P)"
    log "COMMLOG_RUN_BIN set: using the programs in $BIN, no swift build"
else
    command -v swift >/dev/null ||
        fail "Swift 6 is not installed (swift is not on PATH): install the toolchain for Debian 12 from https://www.swift.org/install/linux/, put its usr/bin on PATH, and run make run again"
    log "swift build (debug)"
    cd "$ROOT"
    interruptible swift build || fail "swift build failed"
    BIN="$(swift build --show-bin-path)"
fi
for name in commlog "${PROGRAMS[@]%%:*}"; do
    [[ -x "$BIN/$name" ]] || fail "$BIN/$name is missing or not executable"
done

log "migrating the database"
interruptible exec_with_env "$STACK_ENV" "$BIN/commlog" migrate || fail "commlog migrate failed"

JWT_SECRET="$(secret jwt-secret hex64)"
SECRET_KEY="$(secret secret-key base64_32)"

# The programs' environment: the stack's, less what only tests and scripts use.
(
    umask 077
    {
        grep -v -e '^COMMLOG_TEST_' -e '^COMMLOG_STACK_SCRIPT=' "$STACK_ENV"
        echo "COMMLOG_QUERY_API_URL=http://127.0.0.1:8080"
        echo "COMMLOG_CALL_BRIDGE_URL=http://127.0.0.1:8081"
        echo "COMMLOG_JWT_SECRET=$JWT_SECRET"
        echo "COMMLOG_SECRET_KEY=$SECRET_KEY"
        echo "COMMLOG_BIN=$BIN"
        # Recordings of the local demo come from this machine; nothing else that is not public is fetched.
        echo "COMMLOG_RECORDING_HOSTS=127.0.0.1"
    } >"$APP_ENV_NEXT"
)

# --- the programs ----------------------------------------------------------------

for entry in "${PROGRAMS[@]}"; do
    name="${entry%%:*}" port="${entry##*:}"
    # Something else answering /readyz on our port would fool the check below.
    port_open "$port" && fail "port $port (for $name) is already in use by another process"
    log "starting $name on 127.0.0.1:$port (log: $LOGS/$name.log)"
    echo "=== make run: starting $name on port $port, $(date '+%F %T') ===" >>"$LOGS/$name.log"
    (
        cd "$ROOT"
        export COMMLOG_HTTP_PORT="$port"
        exec_with_env "$APP_ENV_NEXT" "$BIN/$name"
    ) </dev/null >>"$LOGS/$name.log" 2>&1 &
    PID_OF[$name]=$!
    echo "${PID_OF[$name]}" >"$PIDS/$name.pid"
done

for entry in "${PROGRAMS[@]}"; do
    name="${entry%%:*}" port="${entry##*:}"
    deadline=$((SECONDS + READY_TIMEOUT))
    until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/readyz" 2>/dev/null; do
        if ! pid_alive "${PID_OF[$name]}" || ((SECONDS >= deadline)); then
            if pid_alive "${PID_OF[$name]}"; then
                log "$name did not answer GET /readyz with 200 on port $port within ${READY_TIMEOUT} s"
            else
                log "$name exited during startup"
            fi
            log "last lines of $LOGS/$name.log:"
            tail -n 40 "$LOGS/$name.log" >&2 || true
            exit 1
        fi
        sleep 0.5
    done
    log "$name is ready"
done

log "seeding demo data"
interruptible exec_with_env "$APP_ENV_NEXT" "$BIN/commlog" demo-data || fail "commlog demo-data failed"

mv "$APP_ENV_NEXT" "$APP_ENV"

# Launch links of the web page for two demo staff members (each signs in its browser, for 12 hours).
launch_url() { (exec_with_env "$APP_ENV" "$BIN/commlog" launch-url --org demo-org --ttl 12h "$@") || echo "(commlog launch-url failed)"; }
MANAGER_LINK="$(launch_url --staff s-1 --role manager --to /board)"
STAFF_LINK="$(launch_url --staff s-2 --role staff --to /clients/c-1)"

cat <<EOF

Commlog is running. Environment ($APP_ENV):
$(sed 's/^/  /' "$APP_ENV")

  Web page:         open a link (each signs its browser in for 12 hours):
    Dr Sam Lee, manager, the board:
      $MANAGER_LINK
    Alex Kim, staff, client Ann Smith:
      $STAFF_LINK
  Query API:        http://127.0.0.1:8080  (health: /healthz, /readyz; metrics: /metrics)
  Call bridge:      http://127.0.0.1:8081
  reminder-logger:  http://127.0.0.1:8082/metrics   email-ingestor: http://127.0.0.1:8083/metrics
  Logs:             $LOGS/
  A token:          $BIN/commlog token --org demo-org --staff s-1 --role manager
  Admin:            $BIN/commlog --help   (dead letters: $BIN/commlog dead-letters list)
                    (with the environment above: set -a; . $APP_ENV; set +a)
  Stop:             Ctrl-C here, or make stop

EOF

# --- foreground until a signal ------------------------------------------------------

while :; do
    alive=()
    for name in "${!PID_OF[@]}"; do
        [[ -n "${GONE[$name]:-}" ]] && continue
        if pid_alive "${PID_OF[$name]}"; then
            alive+=("${PID_OF[$name]}")
        else
            rc=0
            wait "${PID_OF[$name]}" 2>/dev/null || rc=$?
            GONE[$name]=1
            rm -f "$PIDS/$name.pid"
            log "$name (pid ${PID_OF[$name]}) exited unexpectedly (status $rc); the others keep running. Log: $LOGS/$name.log"
        fi
    done
    if ((${#alive[@]})); then
        # Returns when one of them exits, or when a trapped signal arrives.
        wait -n "${alive[@]}" 2>/dev/null || true
    else
        sleep 5 &
        CHILD=$!
        wait "$CHILD" || true
        CHILD=""
    fi
done
