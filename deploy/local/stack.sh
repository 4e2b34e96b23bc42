#!/usr/bin/env bash
# Local development/test stack for Commlog: PostgreSQL, RabbitMQ and (for the
# IMAP tests) a throwaway Dovecot, each run as a plain background process bound
# to 127.0.0.1 with its data under .data/ in the repository root. No systemd,
# no Docker: this is what `make run`, `make test` and .ci/run use, on a
# developer's machine and in CI (Debian 12, root).
#
# Usage: stack.sh up [--with-dovecot] [--fast] [--cluster] [--replica] [--pgbouncer]
#                                  install what is missing, start (leaves running
#                                  servers alone), load deploy/rabbitmq/definitions.json
#        stack.sh down             stop everything started here
#        stack.sh status           one line per server
#        stack.sh rabbitmq-stop | rabbitmq-start
#                                  stop/start only the single broker (data survives)
#        stack.sh postgres-stop | postgres-start | postgres-restart
#                                  stop (pg_ctl -m fast) / start only the primary, with
#                                  the options (--fast or not) it was last started with
#        stack.sh dovecot-stop | dovecot-start
#                                  stop/start only Dovecot (mail survives)
#        stack.sh cluster-stop N | cluster-start N | cluster-kill N
#                                  stop (gracefully), start, or kill -9 the VM of
#                                  cluster node N (1..3); its data survives
#        stack.sh replica-pause | replica-resume
#                                  pause/resume WAL replay on the standby (it keeps
#                                  receiving WAL but falls behind on purpose)
#        stack.sh rabbitmqctl ARGS...
#                                  rabbitmqctl against the single broker
#        stack.sh env              print the path of the env file
#
# --fast (tests only) turns off PostgreSQL's fsync, synchronous_commit and
# full_page_writes (on the primary and the standby): a crash can lose or corrupt
# data. Benchmarks and fault tests must not use it.
#
# --cluster starts three more RabbitMQ nodes clustered on 127.0.0.1
# (commlog-c1@localhost..c3, data under .data/rabbitmq-cluster/N), apart from the
# single broker the test suite uses. --replica starts a streaming standby of
# PostgreSQL (from pg_basebackup, hot_standby on). --pgbouncer starts PgBouncer
# (transaction pooling) in front of the primary.
#
# Ports can be overridden with COMMLOG_PG_PORT, COMMLOG_AMQP_PORT (the broker
# also uses AMQP+1 for Erlang distribution and AMQP+2 for its private epmd)
# and COMMLOG_IMAP_PORT (Dovecot also listens for IMAP over TLS on IMAP+1, with a
# certificate for localhost and 127.0.0.1 from a throwaway CA of its own, and
# checks XOAUTH2 tokens with the OAuth2 user-info endpoint a test serves on port 31145, COMMLOG_OAUTH2_PORT).
# The extra servers derive theirs: the standby listens on PG+1 and PgBouncer on
# PG+2; cluster node N takes AMQP+10+3(N-1) for AMQP and the port after it for
# Erlang distribution (AMQP+10/+11, +13/+14, +16/+17), and the three share one
# private epmd on AMQP+12.
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
STANDBY_PORT=$((PG_PORT + 1))
PGBOUNCER_PORT=$((PG_PORT + 2))
PGBIN=/usr/lib/postgresql/15/bin

RMQ_DIR="$DATA/rabbitmq"
RMQ_WRAPPER_PID="$RMQ_DIR/server.pid"   # the rabbitmq-server shell wrapper (ours)
RMQ_BEAM_PID="$RMQ_DIR/rabbit.pid"      # the Erlang VM (written by RabbitMQ)
# Vhost, exchanges, queues, policies and the programs' users (deploy/README.md).
DEFINITIONS="$ROOT/deploy/rabbitmq/definitions.json"

# The three-node cluster (--cluster): node N in $CL_DIR/N, see cl_amqp_port.
CL_DIR="$DATA/rabbitmq-cluster"
CL_NODES=(1 2 3)
CL_EPMD_PORT=$((AMQP_PORT + 12))

IMAP_USER=shared@example.org
IMAP_PASSWORD=shared-secret
IMAP_OTHER_USER=other@example.org
IMAP_OTHER_PASSWORD=other-secret

log() { printf 'stack: %s\n' "$*" >&2; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# --- helpers -----------------------------------------------------------------

# The servers' ports lie in the kernel's range for outgoing connections (32768-60999): a connection that took
# one of them as its own end would keep a server from listening there (a cluster node once failed to start so,
# its port held by another program's connection). Reserving them keeps the kernel from handing them out; where
# /proc/sys cannot be written (a container) they stay as they are.
reserve_ports() {
    local file=/proc/sys/net/ipv4/ip_local_reserved_ports
    local ports="$PG_PORT-$((PG_PORT + 2)),$AMQP_PORT-$((AMQP_PORT + 2)),$((AMQP_PORT + 10))-$((AMQP_PORT + 17)),$IMAP_PORT-$IMAPS_PORT"
    [[ -r "$file" && -w "$file" ]] || return 0
    local current
    current="$(cat "$file")"
    echo "${current:+$current,}$ports" >"$file" 2>/dev/null ||
        log "could not reserve the stack's ports in $file; an outgoing connection may take one of them"
}

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
        libgmime-3.0-dev libphonenumber-dev python3 curl isync openssl ca-certificates pgbouncer)
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
# "fast" or "durable": how the primary was last started (see pg_up), for postgres-start.
PG_MODE_RECORD="$DATA/postgres-mode"

pg_running() {
    local dir
    dir="$(pg_dir)"
    [[ -f "$dir/data/PG_VERSION" ]] && as_postgres "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

# Starts the server of data directory $2 on port $3 ($1 names it in messages and its log file, $4 = "fast" or
# "", $5 = more options), its socket in the PostgreSQL state directory.
pg_launch() {
    local name="$1" data="$2" port="$3" mode="$4" extra="${5:-}"
    port_open "$port" && die "port $port is in use by another process (set COMMLOG_PG_PORT)"
    # (pg_ctl hands these to a shell: quote the path)
    # max_connections: the test suite runs many programs at once, each with its own pool.
    local opts="-c listen_addresses=127.0.0.1 -p $port -k '$(pg_dir)' -c max_connections=500${extra:+ $extra}"
    [[ "$mode" == fast ]] && opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    log "$name: starting on 127.0.0.1:$port${mode:+ ($mode)}"
    # No -l: the server inherits pg_ctl's stdout/stderr, which root opens
    # here, so the log can live under .data even when postgres cannot reach
    # it. setsid keeps it out of the caller's process group (a Ctrl-C in
    # `make run` must not reach it directly).
    as_postgres setsid -w "$PGBIN/pg_ctl" -D "$data" -w -t 60 -o "$opts" start \
        </dev/null >>"$LOGS/$name.log" 2>&1 9>&- ||
        die "$name did not start, see $LOGS/$name.log"
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

    if pg_running && [[ "$(pg_superuser_psql "$PG_PORT" -At -c 'SHOW server_version')" != "$("$PGBIN/postgres" --version | sed 's/^postgres (PostgreSQL) //')" ]]; then
        # apt upgraded PostgreSQL under the running server (installing a package that depends on it can): its
        # extensions, plpgsql among them, would no longer load (undefined symbols), so it is restarted as it was started.
        log "postgresql: the running server is older than its binaries; restarting it"
        pg_down
        pg_launch postgresql "$dir/data" "$PG_PORT" "$(cat "$PG_MODE_RECORD" 2>/dev/null || echo durable)"
    elif pg_running; then
        log "postgresql: already running on 127.0.0.1:$PG_PORT"
    else
        # What postgres-start starts it with again (a restart keeps the durability it was started with).
        printf '%s\n' "${1:-durable}" >"$PG_MODE_RECORD"
        pg_launch postgresql "$dir/data" "$PG_PORT" "$1"
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

# postgres-stop: the primary alone (the standby and PgBouncer reconnect by themselves). The mode it runs in is
# recorded first when no `up` recorded it (a server started by an older stack.sh): fsync off means --fast.
pg_stop_alone() {
    [[ -s "$STATE_DIR_RECORD" ]] || return 0
    if pg_running && [[ ! -s "$PG_MODE_RECORD" ]]; then
        if [[ "$(pg_superuser_psql "$PG_PORT" -At -c 'SHOW fsync' 2>/dev/null)" == off ]]; then
            echo fast >"$PG_MODE_RECORD"
        else
            echo durable >"$PG_MODE_RECORD"
        fi
    fi
    pg_down
}

# postgres-start: as `up` started it (--fast or not, from the record; durable when there is none).
pg_start_alone() {
    local mode=""
    [[ "$(cat "$PG_MODE_RECORD" 2>/dev/null || true)" == fast ]] && mode=fast
    pg_up "$mode"
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

# --- PostgreSQL standby (--replica) ------------------------------------------------

# A streaming standby of the primary, made with pg_basebackup; its data beside
# the primary's, its socket in the same folder (a different port).
standby_data() { printf '%s/standby\n' "$(pg_dir)"; }
REPLICATION_SLOT=commlog_standby

standby_running() {
    local data
    data="$(standby_data)"
    [[ -f "$data/PG_VERSION" ]] && as_postgres "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1
}

# psql as the superuser through the Unix socket, to the server on port $1.
pg_superuser_psql() {
    local port="$1"
    shift
    as_postgres "$PGBIN/psql" -h "$(pg_dir)" -p "$port" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1 "$@"
}

standby_up() { # $1 = "fast" or ""
    local dir data repl_pass slot_state
    dir="$(pg_dir)"
    data="$(standby_data)"
    repl_pass="$(secret pg-replication-password)"
    # On the primary: the replication role, its pg_hba line, and a slot so the primary keeps the WAL the
    # standby has not received (at most 1 GB of it: past that the slot is lost and the standby made again).
    pg_superuser_psql "$PG_PORT" >/dev/null <<SQL || die "could not prepare the primary for replication"
SELECT format('CREATE ROLE commlog_replicator')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'commlog_replicator')\gexec
ALTER ROLE commlog_replicator LOGIN REPLICATION NOSUPERUSER PASSWORD '$repl_pass';
ALTER SYSTEM SET max_slot_wal_keep_size = '1GB';
SELECT pg_reload_conf();
SQL
    if ! grep -Eq '^host[[:space:]]+replication[[:space:]]+commlog_replicator[[:space:]]+127\.0\.0\.1/32[[:space:]]+scram-sha-256' "$dir/data/pg_hba.conf"; then
        printf '%s\n' "host    replication     commlog_replicator 127.0.0.1/32         scram-sha-256" >>"$dir/data/pg_hba.conf"
        pg_superuser_psql "$PG_PORT" -c 'SELECT pg_reload_conf()' >/dev/null
    fi
    slot_state="$(pg_superuser_psql "$PG_PORT" -At -c \
        "SELECT coalesce(wal_status, 'none') FROM pg_replication_slots WHERE slot_name = '$REPLICATION_SLOT'")"
    if [[ "$slot_state" == lost ]]; then
        log "postgresql-standby: it fell more than 1 GB behind and lost its slot: making it again"
        standby_down
        rm -rf "$data"
    fi
    if [[ ! -f "$data/PG_VERSION" ]]; then
        log "postgresql-standby: pg_basebackup into $data"
        rm -rf "$data"
        [[ -n "$slot_state" ]] && pg_superuser_psql "$PG_PORT" -c "SELECT pg_drop_replication_slot('$REPLICATION_SLOT')" >/dev/null
        # -R writes standby.signal and primary_conninfo (with the password) into its postgresql.auto.conf;
        # -C -S creates the slot and streams through it.
        as_postgres env PGPASSWORD="$repl_pass" "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U commlog_replicator \
            -D "$data" -R -C -S "$REPLICATION_SLOT" -X stream -c fast -w \
            </dev/null >>"$LOGS/postgresql-standby.log" 2>&1 ||
            die "pg_basebackup failed, see $LOGS/postgresql-standby.log"
    fi
    if standby_running; then
        log "postgresql-standby: already running on 127.0.0.1:$STANDBY_PORT"
    else
        # (max_connections must be at least the primary's on a hot standby.)
        pg_launch postgresql-standby "$data" "$STANDBY_PORT" "$1" "-c hot_standby=on"
    fi
    [[ "$(pg_superuser_psql "$STANDBY_PORT" -At -c 'SELECT pg_is_in_recovery()')" == t ]] ||
        die "the server on 127.0.0.1:$STANDBY_PORT is not in recovery (not a standby), see $LOGS/postgresql-standby.log"
}

standby_down() {
    [[ -s "$STATE_DIR_RECORD" ]] || return 0
    if standby_running; then
        log "postgresql-standby: stopping"
        as_postgres "$PGBIN/pg_ctl" -D "$(standby_data)" -m fast -w -t 60 stop </dev/null >>"$LOGS/postgresql-standby.log" 2>&1 ||
            die "pg_ctl stop (standby) failed, see $LOGS/postgresql-standby.log"
    fi
}

# replica-pause / replica-resume: $1 = pause or resume.
standby_replay() {
    standby_running || die "the PostgreSQL standby is not running (stack.sh up --replica)"
    pg_superuser_psql "$STANDBY_PORT" -At -c "SELECT pg_wal_replay_$1()" >/dev/null ||
        die "could not $1 WAL replay on the standby"
    # (pause_state says "pause requested" until the startup process has actually stopped replaying)
    log "postgresql-standby: WAL replay $(pg_superuser_psql "$STANDBY_PORT" -At -c 'SELECT pg_get_wal_replay_pause_state()')"
}

# --- PgBouncer (--pgbouncer) ------------------------------------------------------

# Debian's pgbouncer as a plain process in front of the primary. It refuses to
# run as root: it runs as postgres, its files in a folder of the state dir.
pgb_dir() { printf '%s/pgbouncer\n' "$(state_dir)"; }

pgb_pid() {
    local pid
    [[ -s "$STATE_DIR_RECORD" ]] || return 1
    pid="$(read_pid "$(pgb_dir)/pgbouncer.pid")"
    pid_alive "$pid" && grep -qa pgbouncer "/proc/$pid/cmdline" 2>/dev/null && printf '%s\n' "$pid"
}

pgb_running() { pgb_pid >/dev/null; }

pgb_write_config() {
    local dir="$1"
    # Plain passwords: PgBouncer checks its clients with SCRAM against them and logs in to
    # PostgreSQL (scram-sha-256) with them. pgbouncer_admin exists only here (the admin console).
    (umask 077 && cat >"$dir/userlist.txt" <<EOF
"commlog_app" "$(secret pg-app-password)"
"commlog_owner" "$(secret pg-owner-password)"
"pgbouncer_admin" "$(secret pgbouncer-admin-password)"
EOF
    )
    cat >"$dir/pgbouncer.ini" <<EOF
; Throwaway PgBouncer for Commlog's tests (generated by stack.sh).
[databases]
commlog = host=127.0.0.1 port=$PG_PORT dbname=commlog

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir = $dir
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
admin_users = pgbouncer_admin
stats_users = commlog_owner
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
; Clients send these in the startup packet (the programs send jit=off; JDBC-style clients extra_float_digits
; and options): PgBouncer refuses a parameter it does not track unless told to ignore it. jit=off still holds:
; pgb_up sets it on the app role.
ignore_startup_parameters = extra_float_digits,options,jit
pidfile = $dir/pgbouncer.pid
EOF
    chown postgres: "$dir/userlist.txt" "$dir/pgbouncer.ini"
    chmod 600 "$dir/userlist.txt"
}

pgb_up() {
    local dir
    dir="$(pgb_dir)"
    if pgb_running; then
        log "pgbouncer: already running on 127.0.0.1:$PGBOUNCER_PORT"
    else
        port_open "$PGBOUNCER_PORT" && die "port $PGBOUNCER_PORT is in use by another process (set COMMLOG_PG_PORT)"
        mkdir -p "$dir"
        chown postgres: "$dir"
        chmod 700 "$dir"
        pgb_write_config "$dir"
        # The programs ask for jit=off when they connect, which PgBouncer drops (see pgb_write_config).
        pg_superuser_psql "$PG_PORT" -c 'ALTER ROLE commlog_app SET jit = off' >/dev/null ||
            die "could not set jit = off on commlog_app"
        log "pgbouncer: starting on 127.0.0.1:$PGBOUNCER_PORT"
        # In the foreground (no -d) so that its log goes to stderr, which root opens under .data. runuser's
        # session starts with 1024 descriptors, too few for max_client_conn: raise it (up to the hard limit).
        (
            cd /
            setsid runuser -u postgres -- /bin/sh -c 'ulimit -n 4096 2>/dev/null || true; exec /usr/sbin/pgbouncer "$0"' \
                "$dir/pgbouncer.ini" </dev/null >>"$LOGS/pgbouncer.log" 2>&1 9>&- &
        )
    fi
    pgb_wait_ready
}

# Waits until the app role gets through PgBouncer to PostgreSQL.
pgb_wait_ready() {
    local deadline=$((SECONDS + 30))
    until port_open "$PGBOUNCER_PORT" &&
        PGPASSWORD="$(secret pg-app-password)" timeout 10 "$PGBIN/psql" -h 127.0.0.1 -p "$PGBOUNCER_PORT" \
            -U commlog_app -d commlog -X -q -At -c 'SELECT 1' </dev/null >/dev/null 2>&1; do
        ((SECONDS < deadline)) || {
            tail -n 30 "$LOGS/pgbouncer.log" >&2 || true
            die "PgBouncer did not let commlog_app through on 127.0.0.1:$PGBOUNCER_PORT within 30 s, see $LOGS/pgbouncer.log"
        }
        sleep 0.3
    done
}

pgb_down() {
    local pid deadline
    pid="$(pgb_pid)" || return 0
    log "pgbouncer: stopping"
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 20))
    while pid_alive "$pid"; do
        if ((SECONDS >= deadline)); then
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
}

# --- RabbitMQ ------------------------------------------------------------------

# Everything RabbitMQ reads or writes points under .data/rabbitmq; the Erlang
# cookie lives in $HOME, and a private epmd port keeps it apart from any other
# Erlang node on the machine. Exported only in the subshells that need it.
rmq_env() {
    rmq_node_env commlog@localhost "$AMQP_PORT" $((AMQP_PORT + 2)) "$RMQ_DIR" "$RMQ_BEAM_PID"
}

# The environment of a node: name $1, AMQP port $2 (distribution on the next), epmd port $3, files under $4, the
# VM's pid file $5.
rmq_node_env() {
    export RABBITMQ_NODENAME="$1" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    export RABBITMQ_NODE_PORT="$2" RABBITMQ_DIST_PORT=$(($2 + 1))
    export ERL_EPMD_PORT="$3" ERL_EPMD_ADDRESS=127.0.0.1
    export RABBITMQ_CONF_ENV_FILE="$4/rabbitmq-env.conf"
    export RABBITMQ_CONFIG_FILE="$4/rabbitmq.conf"
    export RABBITMQ_ADVANCED_CONFIG_FILE="$4/advanced.config"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$4/enabled_plugins"
    export RABBITMQ_MNESIA_BASE="$4/mnesia" RABBITMQ_LOG_BASE="$4/log"
    export RABBITMQ_PID_FILE="$5"
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    export HOME="$4/home" PATH="/usr/lib/rabbitmq/bin:$PATH"
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
    rmq_write_config_in "$RMQ_DIR" "$AMQP_PORT" '[].'
}

# Writes a node's configuration into $1 for AMQP port $2, with advanced.config $3.
rmq_write_config_in() {
    local dir="$1" port="$2"
    mkdir -p "$dir/home" "$dir/mnesia" "$dir/log"
    : >"$dir/rabbitmq-env.conf"
    printf '%s\n' "$3" >"$dir/advanced.config"
    echo '[].' >"$dir/enabled_plugins"
    # default_* only take effect when the node boots with an empty database
    # (first start); the password is kept in .data/secrets, so it stays valid.
    (umask 077 && cat >"$dir/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$port
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
    amqp_wait_ready "$AMQP_PORT" "$LOGS/rabbitmq.log" "$RMQ_DIR/log/" rmq_running
}

# Waits until 127.0.0.1:$1 accepts AMQP as the commlog user; $2 and $3 are the
# node's logs, and the command after them says whether it is still alive.
amqp_wait_ready() {
    local port="$1" url deadline=$((SECONDS + 120))
    url="amqp://commlog:$(secret amqp-password)@127.0.0.1:$port/commlog"
    until port_open "$port" &&
        timeout 10 amqp-publish -u "$url" -r commlog.stack.ping -b ping </dev/null >/dev/null 2>&1; do
        if ! "${@:4}"; then
            tail -n 30 "$3" >&2 || true
            die "RabbitMQ exited during startup, see $3 and $4"
        fi
        ((SECONDS < deadline)) ||
            die "RabbitMQ did not accept AMQP on 127.0.0.1:$port within 120 s, see $3 and $4"
        sleep 0.5
    done
}

# rabbitmqctl (or another CLI tool given as $1, e.g. rabbitmq-queues) against the single broker.
rmq_ctl() {
    local tool="$1"
    shift
    (rmq_env && "$tool" -n "$RABBITMQ_NODENAME" -q "$@") </dev/null 9>&-
}

# The users deploy/rabbitmq/definitions.json declares, one a line.
definition_users() {
    python3 -c 'import json, sys; print("\n".join(u["name"] for u in json.load(open(sys.argv[1]))["users"]))' "$DEFINITIONS"
}

# Loads deploy/rabbitmq/definitions.json through the CLI function $1 (rmq_ctl or
# cl_ctl1), every user in it with its password from .data/secrets. The file
# carries no passwords ("password_hash": ""), and an import resets the hash of
# every user it lists; so what is imported is a copy with each user's hash
# filled in (RabbitMQ's rabbit_password_hashing_sha256: base64 of a 4-byte salt
# followed by SHA-256 of salt + password). That is one CLI call instead of one
# `rabbitmqctl change_password` per user after the import (1-2 s each on a busy
# machine), and no moment in which the users have no password.
# import_definitions is synchronous in 3.10: it prints "asynchronous", but the
# call returns when the import is done.
load_definitions() {
    local ctl="$1" user copy="$DATA/.definitions-with-passwords.json"
    for user in $(definition_users); do secret "amqp-$user-password" >/dev/null; done
    (umask 077 && python3 -c '
import base64, hashlib, json, os, sys
definitions = json.load(open(sys.argv[1]))
for user in definitions["users"]:
    password = open(os.path.join(sys.argv[2], "amqp-%s-password" % user["name"])).read().strip().encode()
    salt = os.urandom(4)
    user["password_hash"] = base64.b64encode(salt + hashlib.sha256(salt + password).digest()).decode()
    user["hashing_algorithm"] = "rabbit_password_hashing_sha256"
json.dump(definitions, sys.stdout)
' "$DEFINITIONS" "$SECRETS" >"$copy") || die "could not fill in the passwords of $DEFINITIONS"
    "$ctl" rabbitmqctl import_definitions "$copy" >>"$LOGS/rabbitmq-definitions.log" 2>&1 || {
        rm -f "$copy"
        die "could not import $DEFINITIONS, see $LOGS/rabbitmq-definitions.log"
    }
    rm -f "$copy"
}

# amqp://USER:PASSWORD@127.0.0.1:PORT/commlog for a user of the definitions on the single broker.
user_amqp_url() {
    printf 'amqp://%s:%s@127.0.0.1:%s/commlog\n' "$1" "$(secret "amqp-$1-password")" "$AMQP_PORT"
}

# Waits until broker $1's wrapper ($2) and VM ($3) are gone; kills both after 60 s.
rmq_wait_gone() {
    local name="$1" pid="$2" beam="$3" deadline=$((SECONDS + 60))
    while pid_alive "$pid" || { pid_alive "$beam" && grep -qa rabbit "/proc/$beam/cmdline" 2>/dev/null; }; do
        if ((SECONDS >= deadline)); then
            log "$name: did not stop within 60 s, killing it"
            kill -KILL "$pid" "$beam" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
}

rmq_stop() {
    local pid beam
    if pid="$(rmq_pid)"; then
        beam="$(read_pid "$RMQ_BEAM_PID")"
        log "rabbitmq: stopping"
        # SIGTERM to the wrapper makes it stop the VM gracefully (durable
        # queues and persistent messages are kept); without a wrapper the VM
        # handles SIGTERM itself.
        kill -TERM "$pid" 2>/dev/null || true
        rmq_wait_gone rabbitmq "$pid" "$beam"
    fi
    rm -f "$RMQ_WRAPPER_PID"
    # The VM started a private epmd (on AMQP+2): stop it too.
    if [[ -d "$RMQ_DIR" ]]; then
        (rmq_env && epmd -kill) </dev/null >/dev/null 2>&1 || true
    fi
}

# --- RabbitMQ cluster (--cluster) -------------------------------------------------

# Three nodes on 127.0.0.1, apart from the single broker: node N has its own
# name, ports and data under .data/rabbitmq-cluster/N, all three share one
# private epmd (so they find each other) and one Erlang cookie.
cl_node() { printf 'commlog-c%s@localhost\n' "$1"; }
cl_amqp_port() { printf '%s\n' $((AMQP_PORT + 10 + 3 * ($1 - 1))); }
cl_dir() { printf '%s/%s\n' "$CL_DIR" "$1"; }

cl_env() { # $1 = node number
    local dir port
    dir="$(cl_dir "$1")"
    port="$(cl_amqp_port "$1")"
    rmq_node_env "commlog-c$1@localhost" "$port" "$CL_EPMD_PORT" "$dir" "$dir/rabbit.pid"
}

# A CLI tool ($2: rabbitmqctl, rabbitmq-queues) against cluster node $1.
cl_ctl() {
    local n="$1" tool="$2"
    shift 2
    (cl_env "$n" && "$tool" -n "$RABBITMQ_NODENAME" -q "$@") </dev/null 9>&-
}
cl_ctl1() { cl_ctl 1 "$@"; }

# Pid of node $1 (its wrapper, else its VM), or nothing.
cl_pid() {
    local dir pid
    dir="$(cl_dir "$1")"
    for pid in "$(read_pid "$dir/server.pid")" "$(read_pid "$dir/rabbit.pid")"; do
        if pid_alive "$pid" && grep -qa rabbit "/proc/$pid/cmdline" 2>/dev/null; then
            printf '%s\n' "$pid"
            return 0
        fi
    done
    return 1
}

cl_running() { cl_pid "$1" >/dev/null; }
cl_any_running() {
    local n
    for n in "${CL_NODES[@]}"; do cl_running "$n" && return 0; done
    return 1
}

cl_check_node() {
    [[ "${1:-}" =~ ^[123]$ ]] || die "expected a cluster node number, 1, 2 or 3 (got '${1:-}')"
}

# Starts node $1 in the background (does not wait).
cl_launch() {
    local n="$1" dir port
    dir="$(cl_dir "$n")"
    port="$(cl_amqp_port "$n")"
    if cl_running "$n"; then
        log "rabbitmq-c$n: already running on 127.0.0.1:$port"
        return 0
    fi
    port_open "$port" && die "port $port is in use by another process (set COMMLOG_AMQP_PORT)"
    port_open $((port + 1)) && die "port $((port + 1)) is in use by another process (set COMMLOG_AMQP_PORT)"
    # quorum_cluster_size: a quorum queue gets a member on every node (when all are up).
    rmq_write_config_in "$dir" "$port" '[{rabbit, [{quorum_cluster_size, 3}]}].'
    # The same cookie on every node, or they refuse each other.
    rm -f "$dir/home/.erlang.cookie"
    (umask 277 && secret erlang-cookie-cluster | tr -d '\n' >"$dir/home/.erlang.cookie")
    log "rabbitmq-c$n: starting $(cl_node "$n") on 127.0.0.1:$port"
    (
        cl_env "$n"
        cd "$dir"
        setsid /usr/lib/rabbitmq/bin/rabbitmq-server </dev/null >>"$LOGS/rabbitmq-c$n.log" 2>&1 9>&- &
        echo $! >"$dir/server.pid"
    )
}

cl_wait_ready() {
    amqp_wait_ready "$(cl_amqp_port "$1")" "$LOGS/rabbitmq-c$1.log" "$(cl_dir "$1")/log/" cl_running "$1"
}

# Node $1 knows node 1 as a member of its cluster (it restarts into it by itself). RabbitMQ 3 keeps
# the members it knows in cluster_nodes.config, read here without a (slow) CLI call when it is there.
cl_joined() {
    local known
    known="$(cl_dir "$1")/mnesia/$(cl_node "$1")/cluster_nodes.config"
    if [[ -s "$known" ]]; then
        grep -q "'$(cl_node 1)'" "$known"
    else
        cl_ctl "$1" rabbitmqctl cluster_status --formatter json 2>/dev/null | grep -q "\"$(cl_node 1)\""
    fi
}

cl_up() {
    local n
    mkdir -p "$CL_DIR"
    # All at once: a node that was not the last to stop waits for its peers before it opens its ports.
    for n in "${CL_NODES[@]}"; do cl_launch "$n"; done
    for n in "${CL_NODES[@]}"; do cl_wait_ready "$n"; done
    for n in "${CL_NODES[@]:1}"; do
        cl_joined "$n" && continue
        log "rabbitmq-c$n: joining $(cl_node 1)"
        {
            cl_ctl "$n" rabbitmqctl stop_app &&
                cl_ctl "$n" rabbitmqctl join_cluster "$(cl_node 1)" &&
                cl_ctl "$n" rabbitmqctl start_app
        } >>"$LOGS/rabbitmq-c$n.log" 2>&1 || die "rabbitmq-c$n could not join $(cl_node 1), see $LOGS/rabbitmq-c$n.log"
        cl_wait_ready "$n"
    done
    load_definitions cl_ctl1
    # A quorum queue declared while a node was down has no member there, and RabbitMQ 3.10
    # never adds one by itself: when one lacks a member, add the missing ones on every node
    # (nothing happens where a member exists).
    if cl_ctl1 rabbitmqctl list_queues -p commlog --no-table-headers type members |
        awk -v nodes="${#CL_NODES[@]}" '$1 == "quorum" && gsub(/@/, "@") < nodes { short = 1 } END { exit !short }'; then
        for n in "${CL_NODES[@]}"; do
            log "rabbitmq-c$n: adding the quorum queue members it lacks"
            cl_ctl1 rabbitmq-queues grow "$(cl_node "$n")" all --vhost-pattern '^commlog$' --queue-pattern '.*' \
                >>"$LOGS/rabbitmq-definitions.log" 2>&1 || true
        done
    fi
}

# Stops node $1 (the whole VM, gracefully; $2 = kill for SIGKILL). Its data is kept.
cl_stop() {
    local n="$1" how="${2:-}" pid beam dir
    dir="$(cl_dir "$n")"
    if pid="$(cl_pid "$n")"; then
        beam="$(read_pid "$dir/rabbit.pid")"
        if [[ "$how" == kill ]]; then
            log "rabbitmq-c$n: killing its VM (SIGKILL)"
            pid_alive "$beam" && kill -KILL "$beam" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        else
            log "rabbitmq-c$n: stopping"
            kill -TERM "$pid" 2>/dev/null || true
        fi
        rmq_wait_gone "rabbitmq-c$n" "$pid" "$beam"
    fi
    rm -f "$dir/server.pid"
}

cl_down() {
    local n
    [[ -d "$CL_DIR" ]] || return 0
    for n in "${CL_NODES[@]}"; do cl_stop "$n"; done
    # The nodes' shared epmd (on AMQP+12).
    (cl_env 1 && epmd -kill) </dev/null >/dev/null 2>&1 || true
}

cl_amqp_url() {
    local n url
    url="amqp://commlog:$(secret amqp-password)@127.0.0.1:$(cl_amqp_port 1)/commlog"
    for n in "${CL_NODES[@]:1}"; do url+=",127.0.0.1:$(cl_amqp_port "$n")"; done
    printf '%s\n' "$url"
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
    # The imap processes of logged-in clients outlive the master (shutdown_clients notwithstanding): a client
    # would go on as if the server were there. End those holding a connection on our ports.
    local pids
    pids="$(ss -Htnp state established "( sport = :$IMAP_PORT or sport = :$IMAPS_PORT )" 2>/dev/null |
        grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u || true)"
    if [[ -n "$pids" ]]; then
        log "dovecot: ending the sessions still connected ($(echo $pids))"
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
    fi
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
            # The users of deploy/rabbitmq/definitions.json on the single broker (COMMLOG_TEST_AMQP_PHONE_URL
            # for phone-system, COMMLOG_TEST_AMQP_REMINDER_LOGGER_URL for reminder-logger, ...).
            local user name
            for user in $(definition_users); do
                name="${user%-system}"
                name="${name//-/_}"
                echo "COMMLOG_TEST_AMQP_${name^^}_URL=$(user_amqp_url "$user")"
            done
            if cl_any_running; then
                echo "COMMLOG_TEST_CLUSTER_AMQP_URL=$(cl_amqp_url)"
            fi
            if standby_running; then
                echo "COMMLOG_TEST_DATABASE_READ_URL=postgres://commlog_app:$(secret pg-app-password)@127.0.0.1:$STANDBY_PORT/commlog"
            fi
            if pgb_running; then
                echo "COMMLOG_TEST_PGBOUNCER_URL=postgres://commlog_app:$(secret pg-app-password)@127.0.0.1:$PGBOUNCER_PORT/commlog"
                echo "COMMLOG_TEST_PGBOUNCER_ADMIN_URL=postgres://pgbouncer_admin:$(secret pgbouncer-admin-password)@127.0.0.1:$PGBOUNCER_PORT/pgbouncer"
            fi
        } >"$tmp"
    )
    mv "$tmp" "$ENV_FILE"
}

# --- subcommands ------------------------------------------------------------------

cmd_up() {
    local with_dovecot="" fast="" cluster="" replica="" pgbouncer="" arg
    for arg in "$@"; do
        case "$arg" in
        --with-dovecot) with_dovecot=1 ;;
        --fast) fast=fast ;;
        --cluster) cluster=1 ;;
        --replica) replica=1 ;;
        --pgbouncer) pgbouncer=1 ;;
        *) die "unknown option for up: $arg (expected --with-dovecot, --fast, --cluster, --replica, --pgbouncer)" ;;
        esac
    done
    [[ $EUID -eq 0 ]] || die "must run as root (it installs packages and switches to the postgres user)"
    take_lock
    ensure_packages
    # Normally created by the postgresql package; needed before state_dir.
    id postgres >/dev/null 2>&1 ||
        useradd --system --no-create-home --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
    mkdir -p "$LOGS"
    reserve_ports
    pg_up "$fast"
    [[ -n "$replica" ]] && standby_up "$fast"
    [[ -n "$pgbouncer" ]] && pgb_up
    rmq_start
    load_definitions rmq_ctl
    [[ -n "$cluster" ]] && cl_up
    [[ -n "$with_dovecot" ]] && dv_up
    write_env
    log "ready; environment in $ENV_FILE"
}

cmd_down() {
    [[ -d "$DATA" ]] || return 0
    take_lock
    mkdir -p "$LOGS"
    dv_down
    cl_down
    rmq_stop
    pgb_down
    standby_down
    pg_down
}

cmd_status() {
    local pid
    if [[ -s "$STATE_DIR_RECORD" ]] && pg_running; then
        echo "postgresql  running      127.0.0.1:$PG_PORT  (data $(pg_dir)/data, $(cat "$PG_MODE_RECORD" 2>/dev/null || echo 'mode not recorded'))"
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
    if [[ -s "$STATE_DIR_RECORD" ]] && standby_running; then
        echo "standby     running      127.0.0.1:$STANDBY_PORT  (data $(standby_data), WAL replay" \
            "$(pg_superuser_psql "$STANDBY_PORT" -At -c 'SELECT pg_get_wal_replay_pause_state()' 2>/dev/null || echo unknown))"
    else
        echo "standby     not running  127.0.0.1:$STANDBY_PORT"
    fi
    if pid="$(pgb_pid)"; then
        echo "pgbouncer   running      127.0.0.1:$PGBOUNCER_PORT  (pid $pid)"
    else
        echo "pgbouncer   not running  127.0.0.1:$PGBOUNCER_PORT"
    fi
    local n
    for n in "${CL_NODES[@]}"; do
        if pid="$(cl_pid "$n")"; then
            echo "rabbitmq-c$n running      127.0.0.1:$(cl_amqp_port "$n")  (pid $pid, $(cl_node "$n"))"
        else
            echo "rabbitmq-c$n not running  127.0.0.1:$(cl_amqp_port "$n")"
        fi
    done
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
    postgres-stop | postgres-start | postgres-restart)
        take_lock
        mkdir -p "$LOGS"
        [[ "$cmd" == postgres-start ]] || pg_stop_alone
        [[ "$cmd" == postgres-stop ]] || pg_start_alone
        ;;
    dovecot-stop)
        take_lock
        mkdir -p "$LOGS"
        dv_down
        ;;
    dovecot-start)
        take_lock
        mkdir -p "$LOGS"
        dv_up
        ;;
    cluster-stop | cluster-kill)
        cl_check_node "${1:-}"
        take_lock
        mkdir -p "$LOGS"
        if [[ "$cmd" == cluster-kill ]]; then cl_stop "$1" kill; else cl_stop "$1"; fi
        ;;
    cluster-start)
        cl_check_node "${1:-}"
        take_lock
        mkdir -p "$LOGS"
        # A node that was in the cluster rejoins it by itself.
        cl_launch "$1"
        cl_wait_ready "$1"
        ;;
    replica-pause) standby_replay pause ;;
    replica-resume) standby_replay resume ;;
    env) echo "$ENV_FILE" ;;
    *)
        sed -n '2,/^set -euo/p' "$SCRIPT" | sed '$d; s/^# \{0,1\}//' >&2
        exit 2
        ;;
    esac
}

main "$@"
