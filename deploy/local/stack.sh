#!/usr/bin/env bash
# Local development/test stack for Commlog: PostgreSQL, RabbitMQ and (for the
# IMAP tests) a throwaway Dovecot, each run as a plain background process bound
# to 127.0.0.1 with its data under .data/ in the repository root. No systemd,
# no Docker: this is what `make run`, `make test` and .ci/run use, on a
# developer's machine and in CI (Debian 12, root).
#
# Usage: stack.sh up [--with-dovecot] [--fast]   install what is missing, start
#                                                 (leaves running servers alone)
#        stack.sh down                            stop everything started here
#        stack.sh status                          one line per server
#        stack.sh rabbitmq-stop | rabbitmq-start  stop/start only the broker
#                                                 (data survives)
#        stack.sh rabbitmqctl ARGS...             rabbitmqctl against the broker
#        stack.sh env                             print the path of the env file
#
# --fast (tests only) turns off PostgreSQL's fsync, synchronous_commit and
# full_page_writes: a crash can lose or corrupt data. Benchmarks and fault
# tests must not use it.
#
# Ports can be overridden with COMMLOG_PG_PORT, COMMLOG_AMQP_PORT (the broker
# also uses AMQP+1 for Erlang distribution and AMQP+2 for its private epmd)
# and COMMLOG_IMAP_PORT (Dovecot also listens for IMAP over TLS on IMAP+1, with a
# certificate for localhost and 127.0.0.1 from a throwaway CA of its own, and
# checks XOAUTH2 tokens with the OAuth2 user-info endpoint a test serves on port 31145, COMMLOG_OAUTH2_PORT).
#
# After `up`, .data/stack.env holds KEY=value lines (no quotes, no export) with
# the URLs and credentials; the passwords are generated once and kept in
# .data/secrets/ so later `up`s reuse them.
set -euo pipefail
umask 022

SCRIPT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/$(basename "${BASH_SOURCE[0]}")"
ROOT="$(cd "$(dirname "$SCRIPT")/../.." && pwd -P)"
DATA="$ROOT/.data"
LOGS="$DATA/logs"
SECRETS="$DATA/secrets"
ENV_FILE="$DATA/stack.env"
# Where PostgreSQL's and Dovecot's files live (see state_dir below).
STATE_DIR_RECORD="$DATA/state-dir"

PG_PORT="${COMMLOG_PG_PORT:-55432}"
AMQP_PORT="${COMMLOG_AMQP_PORT:-55672}"
IMAP_PORT="${COMMLOG_IMAP_PORT:-51143}"
IMAPS_PORT=$((IMAP_PORT + 1))
# Served by a test only while it runs, so it must lie below the kernel's ephemeral range (32768 and up on
# Linux): there, an outgoing connection could take it in between and the test could not listen on it.
OAUTH2_PORT="${COMMLOG_OAUTH2_PORT:-31145}"
PGBIN=/usr/lib/postgresql/15/bin

RMQ_DIR="$DATA/rabbitmq"
RMQ_WRAPPER_PID="$RMQ_DIR/server.pid"   # the rabbitmq-server shell wrapper (ours)
RMQ_BEAM_PID="$RMQ_DIR/rabbit.pid"      # the Erlang VM (written by RabbitMQ)

IMAP_USER=shared@example.org
IMAP_PASSWORD=shared-secret
IMAP_OTHER_USER=other@example.org
IMAP_OTHER_PASSWORD=other-secret

log() { printf 'stack: %s\n' "$*" >&2; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# --- helpers -----------------------------------------------------------------

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True when process $1 exists and is not a zombie (orphans are reaped by PID 1,
# which may take a moment on some machines).
pid_alive() {
    [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null &&
        ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

read_pid() {
    if [[ -s "$1" ]]; then tr -dc '0-9' <"$1"; fi
}

rand_hex() { # $1 = number of random bytes
    od -An -vtx1 -N"$1" /dev/urandom | tr -d ' \n'
}

# Prints the secret stored in .data/secrets/$1, generating it first if missing.
secret() {
    local file="$SECRETS/$1"
    if [[ ! -s "$file" ]]; then
        mkdir -p "$SECRETS"
        chmod 700 "$SECRETS"
        (umask 077 && rand_hex 24 >"$file.tmp" && mv "$file.tmp" "$file")
    fi
    cat "$file"
}

# Runs a command as the postgres user from / (the checkout may be unreadable
# for that user, and some tools complain about an unreachable cwd).
as_postgres() {
    (cd / && runuser -u postgres -- "$@")
}

# Serialises concurrent stack.sh invocations (e.g. `make test` while `make run`
# starts). Every daemon below is started with `9>&-` so none inherits the lock.
take_lock() {
    mkdir -p "$DATA"
    chmod 755 "$DATA"
    exec 9>"$DATA/.stack.lock"
    flock -w 300 9 || die "another stack.sh has held $DATA/.stack.lock for 5 minutes"
}

# --- packages ----------------------------------------------------------------

ensure_packages() {
    local wanted=(rabbitmq-server librabbitmq-dev amqp-tools libetpan-dev dovecot-imapd
        libgmime-3.0-dev libphonenumber-dev python3 curl isync openssl ca-certificates)
    [[ -x "$PGBIN/postgres" ]] || wanted+=(postgresql-15)
    local missing=() p
    for p in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return 0
    log "installing ${missing[*]} (apt-get)"
    # Keep the packages' own services (system PostgreSQL/RabbitMQ/Dovecot on the
    # default ports) from starting during installation: we run our own.
    local policy=/usr/sbin/policy-rc.d added_policy=""
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        added_policy=1
    fi
    local rc=0
    {
        apt-get update -q &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    } </dev/null >&2 9>&- || rc=$?
    [[ -n "$added_policy" ]] && rm -f "$policy"
    ((rc == 0)) || die "apt-get install failed (exit $rc)"
    [[ -x "$PGBIN/postgres" ]] || die "PostgreSQL 15 binaries not found in $PGBIN after installation"
}

# --- where PostgreSQL and Dovecot keep their files -----------------------------

# PostgreSQL runs as `postgres` and Dovecot's helpers as `dovecot`, `dovenull`
# and `mail`: they must be able to traverse every parent of their directories.
# CI may clone under a private home directory (e.g. /root at mode 700), and
# Unix socket paths are limited to ~107 bytes, so when .data is not reachable
# by those users, or its path is long, their files go to
# /var/tmp/commlog-<hash of the checkout path> instead. The choice is made once
# and recorded in .data/state-dir so later runs find the same place.
state_dir() {
    if [[ -s "$STATE_DIR_RECORD" ]]; then
        cat "$STATE_DIR_RECORD"
        return
    fi
    local dir="$DATA" user
    if ((${#DATA} > 50)); then
        dir="$(fallback_dir)"
    else
        for user in postgres mail dovecot dovenull; do
            if id "$user" >/dev/null 2>&1 && ! (cd / && runuser -u "$user" -- test -x "$DATA"); then
                dir="$(fallback_dir)"
                break
            fi
        done
    fi
    mkdir -p "$dir"
    chmod 755 "$dir"
    printf '%s\n' "$dir" >"$STATE_DIR_RECORD"
    [[ "$dir" == "$DATA" ]] || log "$DATA is not reachable by the server users (or too long): using $dir"
    printf '%s\n' "$dir"
}

fallback_dir() {
    printf '/var/tmp/commlog-%s\n' "$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
}

# --- PostgreSQL ----------------------------------------------------------------

pg_dir() { printf '%s/postgres\n' "$(state_dir)"; }

pg_running() {
    local dir
    dir="$(pg_dir)"
    [[ -f "$dir/data/PG_VERSION" ]] && as_postgres "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

pg_up() { # $1 = "fast" or ""
    local dir
    dir="$(pg_dir)"
    mkdir -p "$dir"
    chown postgres: "$dir"
    chmod 700 "$dir"

    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
        log "postgresql: initdb in $dir/data"
        rm -rf "$dir/data"
        as_postgres "$PGBIN/initdb" -D "$dir/data" -U postgres \
            --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
            </dev/null >>"$LOGS/postgresql-initdb.log" 2>&1 ||
            die "initdb failed, see $LOGS/postgresql-initdb.log"
    fi

    if pg_running; then
        log "postgresql: already running on 127.0.0.1:$PG_PORT"
    else
        port_open "$PG_PORT" && die "port $PG_PORT is in use by another process (set COMMLOG_PG_PORT)"
        # (pg_ctl hands these to a shell: quote the path)
        # max_connections: the test suite runs many programs at once, each with its own pool.
        local opts="-c listen_addresses=127.0.0.1 -p $PG_PORT -k '$dir' -c max_connections=500"
        [[ "$1" == fast ]] && opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        log "postgresql: starting on 127.0.0.1:$PG_PORT${1:+ ($1)}"
        # No -l: the server inherits pg_ctl's stdout/stderr, which root opens
        # here, so the log can live under .data even when postgres cannot reach
        # it. setsid keeps it out of the caller's process group (a Ctrl-C in
        # `make run` must not reach it directly).
        as_postgres setsid -w "$PGBIN/pg_ctl" -D "$dir/data" -w -t 60 -o "$opts" start \
            </dev/null >>"$LOGS/postgresql.log" 2>&1 9>&- ||
            die "PostgreSQL did not start, see $LOGS/postgresql.log"
    fi

    # Roles and database: created on first start; passwords re-applied every
    # time so they always match .data/secrets (idempotent).
    local owner_pass app_pass
    owner_pass="$(secret pg-owner-password)"
    app_pass="$(secret pg-app-password)"
    as_postgres "$PGBIN/psql" -h "$dir" -p "$PG_PORT" -U postgres -d postgres \
        -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL || die "could not create the commlog roles/database"
SELECT format('CREATE ROLE commlog_owner LOGIN')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'commlog_owner')\gexec
ALTER ROLE commlog_owner LOGIN PASSWORD '$owner_pass';
-- Local stack only: the migration tests apply the migrations to scratch databases of their own.
ALTER ROLE commlog_owner CREATEDB;
SELECT format('CREATE ROLE commlog_app LOGIN')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'commlog_app')\gexec
ALTER ROLE commlog_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD '$app_pass';
SELECT 'CREATE DATABASE commlog OWNER commlog_owner'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'commlog')\gexec
GRANT CONNECT ON DATABASE commlog TO commlog_app;
SQL
}

pg_down() {
    [[ -s "$STATE_DIR_RECORD" ]] || return 0
    local dir
    dir="$(pg_dir)"
    if pg_running; then
        log "postgresql: stopping"
        as_postgres "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop </dev/null >>"$LOGS/postgresql.log" 2>&1 ||
            die "pg_ctl stop failed, see $LOGS/postgresql.log"
    fi
}

# --- RabbitMQ ------------------------------------------------------------------

# Everything RabbitMQ reads or writes points under .data/rabbitmq; the Erlang
# cookie lives in $HOME, and a private epmd port keeps it apart from any other
# Erlang node on the machine. Exported only in the subshells that need it.
rmq_env() {
    export RABBITMQ_NODENAME=commlog@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    export RABBITMQ_NODE_PORT="$AMQP_PORT" RABBITMQ_DIST_PORT=$((AMQP_PORT + 1))
    export ERL_EPMD_PORT=$((AMQP_PORT + 2)) ERL_EPMD_ADDRESS=127.0.0.1
    export RABBITMQ_CONF_ENV_FILE="$RMQ_DIR/rabbitmq-env.conf"
    export RABBITMQ_CONFIG_FILE="$RMQ_DIR/rabbitmq.conf"
    export RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_DIR/advanced.config"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_DIR/enabled_plugins"
    export RABBITMQ_MNESIA_BASE="$RMQ_DIR/mnesia" RABBITMQ_LOG_BASE="$RMQ_DIR/log"
    export RABBITMQ_PID_FILE="$RMQ_BEAM_PID"
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    export HOME="$RMQ_DIR/home" PATH="/usr/lib/rabbitmq/bin:$PATH"
}

amqp_url() {
    printf 'amqp://commlog:%s@127.0.0.1:%s/commlog\n' "$(secret amqp-password)" "$AMQP_PORT"
}

# Pid of our running broker (the wrapper, else the VM itself), or nothing.
rmq_pid() {
    local pid
    for pid in "$(read_pid "$RMQ_WRAPPER_PID")" "$(read_pid "$RMQ_BEAM_PID")"; do
        if pid_alive "$pid" && grep -qa rabbit "/proc/$pid/cmdline" 2>/dev/null; then
            printf '%s\n' "$pid"
            return 0
        fi
    done
    return 1
}

rmq_running() { rmq_pid >/dev/null; }

rmq_write_config() {
    mkdir -p "$RMQ_DIR/home" "$RMQ_DIR/mnesia" "$RMQ_DIR/log"
    : >"$RMQ_DIR/rabbitmq-env.conf"
    echo '[].' >"$RMQ_DIR/advanced.config"
    echo '[].' >"$RMQ_DIR/enabled_plugins"
    # default_* only take effect when the node boots with an empty database
    # (first start); the password is kept in .data/secrets, so it stays valid.
    (umask 077 && cat >"$RMQ_DIR/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$AMQP_PORT
default_vhost = commlog
default_user = commlog
default_pass = $(secret amqp-password)
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
loopback_users = none
disk_free_limit.absolute = 50MB
EOF
    )
}

rmq_start() {
    mkdir -p "$LOGS"
    if rmq_running; then
        log "rabbitmq: already running on 127.0.0.1:$AMQP_PORT"
    else
        port_open "$AMQP_PORT" && die "port $AMQP_PORT is in use by another process (set COMMLOG_AMQP_PORT)"
        rmq_write_config
        log "rabbitmq: starting on 127.0.0.1:$AMQP_PORT"
        # Bypass /usr/sbin/rabbitmq-server (it switches to the rabbitmq user and
        # its own directories); setsid + </dev/null + log file so that no caller
        # (make, a CI harness) waits on inherited pipes or signals it.
        (
            rmq_env
            cd "$RMQ_DIR"
            setsid /usr/lib/rabbitmq/bin/rabbitmq-server </dev/null >>"$LOGS/rabbitmq.log" 2>&1 9>&- &
            echo $! >"$RMQ_WRAPPER_PID"
        )
    fi
    rmq_wait_ready
}

# Waits until the broker accepts AMQP connections and the vhost/user work.
rmq_wait_ready() {
    local url deadline=$((SECONDS + 120))
    url="$(amqp_url)"
    until port_open "$AMQP_PORT" &&
        timeout 10 amqp-publish -u "$url" -r commlog.stack.ping -b ping </dev/null >/dev/null 2>&1; do
        if ! rmq_running; then
            tail -n 30 "$LOGS/rabbitmq.log" >&2 || true
            die "RabbitMQ exited during startup, see $LOGS/rabbitmq.log and $RMQ_DIR/log/"
        fi
        ((SECONDS < deadline)) ||
            die "RabbitMQ did not accept AMQP on 127.0.0.1:$AMQP_PORT within 120 s, see $LOGS/rabbitmq.log and $RMQ_DIR/log/"
        sleep 0.5
    done
}

rmq_stop() {
    local pid beam deadline
    if pid="$(rmq_pid)"; then
        beam="$(read_pid "$RMQ_BEAM_PID")"
        log "rabbitmq: stopping"
        # SIGTERM to the wrapper makes it stop the VM gracefully (durable
        # queues and persistent messages are kept); without a wrapper the VM
        # handles SIGTERM itself.
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + 60))
        while pid_alive "$pid" || { pid_alive "$beam" && grep -qa rabbit "/proc/$beam/cmdline" 2>/dev/null; }; do
            if ((SECONDS >= deadline)); then
                log "rabbitmq: did not stop within 60 s, killing it"
                kill -KILL "$pid" "$beam" 2>/dev/null || true
                break
            fi
            sleep 0.2
        done
    fi
    rm -f "$RMQ_WRAPPER_PID"
    # The VM started a private epmd (on AMQP+2): stop it too.
    if [[ -d "$RMQ_DIR" ]]; then
        (rmq_env && epmd -kill) </dev/null >/dev/null 2>&1 || true
    fi
}

# --- Dovecot -------------------------------------------------------------------

dv_dir() { printf '%s/dovecot\n' "$(state_dir)"; }

dv_pid() {
    local pid
    [[ -s "$STATE_DIR_RECORD" ]] || return 1
    pid="$(read_pid "$(dv_dir)/run/master.pid")"
    pid_alive "$pid" && grep -qa dovecot "/proc/$pid/cmdline" 2>/dev/null && printf '%s\n' "$pid"
}

dv_running() { dv_pid >/dev/null; }

# A CA and a server certificate (localhost, 127.0.0.1) for Dovecot's TLS, made once.
dv_certificates() {
    local tls="$1/tls"
    [[ -s "$tls/server.pem" && -s "$tls/ca.pem" ]] && return 0
    mkdir -p "$tls"
    (
        cd "$tls"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 -subj "/CN=Commlog test CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
        openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost"
        printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
            "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 3650 -extfile server.ext
    ) >>"$LOGS/dovecot-certificates.log" 2>&1 || die "could not make Dovecot's certificates, see $LOGS/dovecot-certificates.log"
    chmod 600 "$tls/ca.key" "$tls/server.key"
    chmod 644 "$tls/ca.pem" "$tls/server.pem"
}

dv_write_config() {
    local dir="$1"
    mkdir -p "$dir/run" "$dir/state" "$dir/mail" "$dir/home"
    chown mail:mail "$dir/mail" "$dir/home"
    dv_certificates "$dir"
    cat >"$dir/users" <<EOF
$IMAP_USER:{PLAIN}$IMAP_PASSWORD
$IMAP_OTHER_USER:{PLAIN}$IMAP_OTHER_PASSWORD
EOF
    chmod 644 "$dir/users" # read by the auth process (user dovecot)
    cat >"$dir/oauth2.conf.ext" <<EOF
introspection_mode = auth
introspection_url = http://127.0.0.1:$OAUTH2_PORT/userinfo
force_introspection = yes
username_attribute = email
EOF
    chmod 644 "$dir/oauth2.conf.ext"
    cat >"$dir/dovecot.conf" <<EOF
# Throwaway Dovecot for Commlog's IMAP tests (generated by stack.sh).
base_dir = $dir/run
state_dir = $dir/state
log_path = $LOGS/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <$dir/tls/server.pem
ssl_key = <$dir/tls/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
mail_location = maildir:$dir/mail/%u
mail_uid = mail
mail_gid = mail
# root is refused as a mail user; mail is uid/gid 8
first_valid_uid = 8
first_valid_gid = 8

# XOAUTH2: the token is checked with the user-info endpoint of the OAuth2 test (nobody serves it otherwise).
passdb {
  driver = oauth2
  mechanisms = xoauth2
  args = $dir/oauth2.conf.ext
}
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u $dir/users
}
userdb {
  driver = static
  args = uid=mail gid=mail home=$dir/home/%u
}

namespace inbox {
  inbox = yes
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
}

service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
  }
}
service anvil {
  chroot =
}
EOF
}

dv_up() {
    local dir
    dir="$(dv_dir)"
    if dv_running; then
        log "dovecot: already running on 127.0.0.1:$IMAP_PORT"
    else
        port_open "$IMAP_PORT" && die "port $IMAP_PORT is in use by another process (set COMMLOG_IMAP_PORT)"
        port_open "$IMAPS_PORT" && die "port $IMAPS_PORT is in use by another process (set COMMLOG_IMAP_PORT)"
        dv_write_config "$dir"
        log "dovecot: starting on 127.0.0.1:$IMAP_PORT"
        # (`;`, not `&&`: with `&&` the whole list, i.e. a copy of this shell
        # holding the lock, would be backgrounded and wait for dovecot.)
        (
            cd /
            setsid dovecot -F -c "$dir/dovecot.conf" </dev/null >>"$LOGS/dovecot.log" 2>&1 9>&- &
        )
    fi
    dv_wait_ready
}

# Waits until a test user can log in over IMAP and sees Sent.
dv_wait_ready() {
    local deadline=$((SECONDS + 30))
    until port_open "$IMAP_PORT" && timeout 10 python3 - "$IMAP_PORT" "$IMAP_USER" "$IMAP_PASSWORD" <<'PY' >/dev/null 2>&1; do
import imaplib, sys
c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
c.login(sys.argv[2], sys.argv[3])
typ, data = c.list()
assert typ == "OK" and any(b"\\Sent" in line for line in data), data
c.logout()
PY
        ((SECONDS < deadline)) || {
            tail -n 30 "$LOGS/dovecot.log" >&2 || true
            die "Dovecot did not accept IMAP logins on 127.0.0.1:$IMAP_PORT within 30 s, see $LOGS/dovecot.log"
        }
        sleep 0.3
    done
}

dv_down() {
    local pid dir deadline
    pid="$(dv_pid)" || return 0
    dir="$(dv_dir)"
    log "dovecot: stopping"
    doveadm -c "$dir/dovecot.conf" stop </dev/null >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 20))
    while pid_alive "$pid"; do
        if ((SECONDS >= deadline)); then
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
}

# --- env file --------------------------------------------------------------------

write_env() {
    local tmp="$ENV_FILE.tmp"
    (
        umask 077
        {
            echo "COMMLOG_DATABASE_URL=postgres://commlog_app:$(secret pg-app-password)@127.0.0.1:$PG_PORT/commlog"
            echo "COMMLOG_DATABASE_OWNER_URL=postgres://commlog_owner:$(secret pg-owner-password)@127.0.0.1:$PG_PORT/commlog"
            echo "COMMLOG_AMQP_URL=$(amqp_url)"
            echo "COMMLOG_STACK_SCRIPT=$SCRIPT"
            if dv_running; then
                echo "COMMLOG_TEST_IMAP_HOST=127.0.0.1"
                echo "COMMLOG_TEST_IMAP_PORT=$IMAP_PORT"
                echo "COMMLOG_TEST_IMAPS_PORT=$IMAPS_PORT"
                echo "COMMLOG_TEST_IMAP_CA_FILE=$(dv_dir)/tls/ca.pem"
                echo "COMMLOG_TEST_IMAP_OAUTH2_PORT=$OAUTH2_PORT"
                echo "COMMLOG_TEST_IMAP_USER=$IMAP_USER"
                echo "COMMLOG_TEST_IMAP_PASSWORD=$IMAP_PASSWORD"
                echo "COMMLOG_TEST_IMAP_OTHER_USER=$IMAP_OTHER_USER"
                echo "COMMLOG_TEST_IMAP_OTHER_PASSWORD=$IMAP_OTHER_PASSWORD"
            fi
        } >"$tmp"
    )
    mv "$tmp" "$ENV_FILE"
}

# --- subcommands ------------------------------------------------------------------

cmd_up() {
    local with_dovecot="" fast="" arg
    for arg in "$@"; do
        case "$arg" in
        --with-dovecot) with_dovecot=1 ;;
        --fast) fast=fast ;;
        *) die "unknown option for up: $arg (expected --with-dovecot, --fast)" ;;
        esac
    done
    [[ $EUID -eq 0 ]] || die "must run as root (it installs packages and switches to the postgres user)"
    take_lock
    ensure_packages
    # Normally created by the postgresql package; needed before state_dir.
    id postgres >/dev/null 2>&1 ||
        useradd --system --no-create-home --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
    mkdir -p "$LOGS"
    pg_up "$fast"
    rmq_start
    [[ -n "$with_dovecot" ]] && dv_up
    write_env
    log "ready; environment in $ENV_FILE"
}

cmd_down() {
    [[ -d "$DATA" ]] || return 0
    take_lock
    mkdir -p "$LOGS"
    dv_down
    rmq_stop
    pg_down
}

cmd_status() {
    local pid
    if [[ -s "$STATE_DIR_RECORD" ]] && pg_running; then
        echo "postgresql  running      127.0.0.1:$PG_PORT  (data $(pg_dir)/data)"
    else
        echo "postgresql  not running  127.0.0.1:$PG_PORT"
    fi
    if pid="$(rmq_pid)"; then
        echo "rabbitmq    running      127.0.0.1:$AMQP_PORT  (pid $pid)"
    else
        echo "rabbitmq    not running  127.0.0.1:$AMQP_PORT"
    fi
    if pid="$(dv_pid)"; then
        echo "dovecot     running      127.0.0.1:$IMAP_PORT  (pid $pid)"
    else
        echo "dovecot     not running  127.0.0.1:$IMAP_PORT"
    fi
}

main() {
    local cmd="${1:-}"
    shift || true
    case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down ;;
    status) cmd_status ;;
    rabbitmq-stop)
        take_lock
        rmq_stop
        ;;
    rabbitmq-start)
        take_lock
        rmq_start
        ;;
    rabbitmqctl) (rmq_env && rabbitmqctl "$@") ;;
    env) echo "$ENV_FILE" ;;
    *)
        sed -n '2,/^set -euo/p' "$SCRIPT" | sed '$d; s/^# \{0,1\}//' >&2
        exit 2
        ;;
    esac
}

main "$@"
