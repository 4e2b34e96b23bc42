#!/usr/bin/env bash
# Makes a virtual environment with pinned packages and prints its bin folder; pip runs again only when the
# requirements file changes (a stamp of its SHA-256 in the environment).
#
#   deploy/local/python-tools.sh                    .data/tools-venv from deploy/local/python-tools.txt: the
#                                                   Python tools make test uses
#   deploy/local/python-tools.sh VENV REQUIREMENTS [PIP ARGUMENTS...]
#                                                   another one (Tests/Browser/run.sh: .data/browser-venv)
#
# Debian 12's python3 refuses pip install outside a virtual environment (PEP 668); python3-venv is installed
# with apt when missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
VENV="${1:-$ROOT/.data/tools-venv}"
REQUIREMENTS="${2:-$ROOT/deploy/local/python-tools.txt}"
shift $(($# < 2 ? $# : 2))
STAMP="$VENV/.requirements.sha256"

log() { printf 'python tools: %s\n' "$*" >&2; }

if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        log "installing python3-venv (apt)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null ||
            { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null; }
    fi
    log "creating $VENV"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV"
fi
wanted="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
if [[ "$(cat "$STAMP" 2>/dev/null || true)" != "$wanted" ]]; then
    log "installing $(basename "$REQUIREMENTS") into $VENV"
    links=()
    [[ -d /opt/wheels ]] && links=(--find-links /opt/wheels)
    "$VENV/bin/pip" install -q --disable-pip-version-check "${links[@]}" "$@" -r "$REQUIREMENTS" >&2
    echo "$wanted" >"$STAMP"
fi
echo "$VENV/bin"
