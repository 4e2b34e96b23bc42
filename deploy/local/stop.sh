#!/usr/bin/env bash
# `make stop`: stops what `make run` started.
#
# If the run.sh recorded in .data/run.pid is alive, it gets SIGTERM and does its
# own orderly shutdown (programs, then the stack); this waits for it to finish.
# Otherwise (run.sh was killed, or never got as far as its trap), it kills the
# programs still recorded under .data/pids and runs `stack.sh down`.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$HERE/../.." && pwd -P)"
DATA="$ROOT/.data"
PIDS="$DATA/pids"
RUN_PID="$DATA/run.pid"
RUN_WAIT=180 # run.sh needs up to 20 s for the programs, then stack.sh down
STOP_TIMEOUT=20

log() { printf 'stop: %s\n' "$*" >&2; }

pid_alive() {
    [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null &&
        ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# True when pid $1 is alive and its command line mentions $2 (guards against
# pids recycled since they were recorded).
pid_is() {
    pid_alive "$1" && tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF -- "$2"
}

run_pid="$(tr -dc '0-9' 2>/dev/null <"$RUN_PID" || true)"
if pid_is "$run_pid" run.sh; then
    log "asking make run (pid $run_pid) to stop"
    kill -TERM "$run_pid"
    deadline=$((SECONDS + RUN_WAIT))
    while pid_alive "$run_pid"; do
        if ((SECONDS >= deadline)); then
            log "run.sh (pid $run_pid) still running after ${RUN_WAIT} s; stopping what it started myself"
            break
        fi
        sleep 0.3
    done
    if ! pid_alive "$run_pid"; then
        log "stopped"
        exit 0
    fi
fi

# Leftovers: programs recorded by run.sh, then the stack.
shopt -s nullglob
pids=()
for file in "$PIDS"/*.pid; do
    name="$(basename "$file" .pid)"
    pid="$(tr -dc '0-9' <"$file" || true)"
    if pid_is "$pid" "$name"; then
        log "stopping $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        pids+=("$pid")
    fi
    rm -f "$file"
done
deadline=$((SECONDS + STOP_TIMEOUT))
for pid in "${pids[@]}"; do
    while pid_alive "$pid"; do
        if ((SECONDS >= deadline)); then
            log "pid $pid still running after ${STOP_TIMEOUT} s, killing it"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
done
"$HERE/stack.sh" down
rm -f "$RUN_PID" "$DATA/commlog.env" "$DATA/commlog.env.next"
log "stopped"
