#!/usr/bin/env bash
# The browser tests: pytest + Selenium driving headless Chromium against the real query-api and call-bridge
# (started by Tests/Browser/conftest.py on free ports) and the local stack's PostgreSQL and RabbitMQ.
#
#   set -a; . .data/stack.env; COMMLOG_BIN="$(swift build --show-bin-path)"; set +a
#   Tests/Browser/run.sh [pytest arguments, e.g. -k smoke -x]
#   Tests/Browser/run.sh --python SCRIPT [arguments]   (a script of its own with the same Chromium and packages:
#                                                      Benchmarks/Query/bench-pages.py)
#
# Installs what is missing: chromium and chromium-driver (apt), and a virtualenv at .data/browser-venv with the
# pinned packages of Tests/Browser/requirements.txt (pip runs again only when that file changes).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
cd "$ROOT"
HERE="$ROOT/Tests/Browser"
VENV="$ROOT/.data/browser-venv"
REQUIREMENTS="$HERE/requirements.txt"

log() { printf 'browser tests: %s\n' "$*" >&2; }
fail() {
    log "error: $*"
    exit 1
}

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    log "installing $* (apt)"
    apt-get install -y -q "$@" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "$@" >/dev/null; }
}

# --- what the tests need from the caller --------------------------------------------------------------------

SCRIPT=""
if [[ "${1:-}" == "--python" ]]; then
    SCRIPT="${2:?--python needs a script}"
    shift 2
else
    [[ -n "${COMMLOG_DATABASE_URL:-}" && -n "${COMMLOG_DATABASE_OWNER_URL:-}" && -n "${COMMLOG_AMQP_URL:-}" ]] ||
        fail "load the stack's environment first: set -a; . .data/stack.env; set +a (deploy/local/stack.sh up starts the stack)"
    [[ -n "${COMMLOG_BIN:-}" ]] || fail "set COMMLOG_BIN to the folder of the built programs (swift build --show-bin-path)"
    for program in query-api call-bridge reminder-logger commlog; do
        [[ -x "$COMMLOG_BIN/$program" ]] || fail "$COMMLOG_BIN/$program is missing (swift build)"
    done
fi

# --- Chromium, chromedriver, psql ---------------------------------------------------------------------------

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v psql >/dev/null || missing+=(postgresql-client)
((${#missing[@]} == 0)) || apt_install "${missing[@]}"

# --- the virtualenv -------------------------------------------------------------------------------------------

# --ignore-requires-python: for axe-selenium-python (see requirements.txt); every package is pinned.
"$ROOT/deploy/local/python-tools.sh" "$VENV" "$REQUIREMENTS" --ignore-requires-python >/dev/null

# --- the tests ------------------------------------------------------------------------------------------------

# Selenium must not look for (or download) a driver or browser of its own: conftest.py names /usr/bin/chromedriver.
export SE_OFFLINE=true
# No __pycache__ in the work tree.
export PYTHONDONTWRITEBYTECODE=1
mkdir -p .data/logs
[[ -z "$SCRIPT" ]] || exec "$VENV/bin/python" "$SCRIPT" "$@"
exec "$VENV/bin/python" -m pytest "$HERE" --rootdir="$ROOT" -p no:cacheprovider "$@"
