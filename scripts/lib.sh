#!/usr/bin/env bash
# scripts/lib.sh — shared helpers for the operational scripts of `eservices`.
#
# Sourced by scripts/up, scripts/down, scripts/test (and usable by hand:
# `source scripts/lib.sh` in a scratch *script*; note that it turns on
# `set -euo pipefail` in the shell that sources it).
#
# What lives here:
#   * project root and logging helpers           (ESERVICES_ROOT, info, warn, err, die)
#   * Debian package installation                (ensure_packages)
#   * TCP port helpers                           (port_in_use, port_is_free, free_port, wait_for_port)
#   * a private PostgreSQL cluster               (pg_bin_dir, pg_pick_data_dir, pg_start, pg_stop,
#                                                 pg_psql, pg_ensure_db, pg_running_port)
#   * a private Redis server                     (redis_start, redis_stop)
#   * a throwaway SMTP sink (aiosmtpd)           (smtp_start, smtp_stop)
#   * small utilities                            (ensure_password_file, read_password,
#                                                 env_file_get, env_file_set, stop_pid)
#
# PostgreSQL refuses to run as root: when these helpers run as root, every
# PostgreSQL server command runs as the unprivileged `postgres` system user
# (runuser), and the data directory is owned by that user. Otherwise they run
# as the current user. The system-wide cluster (pg_ctlcluster, systemd,
# port 5432) is never touched: everything here works on explicit data
# directories and explicit ports.

# Several functions set globals for their callers (PG_STARTED, PG_ACTUAL_PORT,
# REDIS_STARTED, ...), which shellcheck cannot see used in this file.
# shellcheck disable=SC2034

set -euo pipefail

# Sourcing twice is harmless: the second time does nothing.
if [[ -n "${ESERVICES_LIB_SOURCED:-}" ]]; then
    return 0
fi
ESERVICES_LIB_SOURCED=1

# --------------------------------------------------------------------------
# Project root, PATH, logging
# --------------------------------------------------------------------------

# Absolute path of the repository root (the parent of this scripts/ folder).
ESERVICES_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
export ESERVICES_ROOT

# Cargo installed by rustup lives in ~/.cargo/bin, which non-login shells
# (CI, cron, sudo) may not have on PATH.
if [[ -d "${HOME:-/root}/.cargo/bin" && ":${PATH}:" != *":${HOME:-/root}/.cargo/bin:"* ]]; then
    export PATH="${HOME:-/root}/.cargo/bin:${PATH}"
fi

# Name shown in front of every message: the script that sourced us.
ES_SCRIPT_NAME="$(basename -- "${0:-lib.sh}")"

# Messages go to stderr so that functions can return values on stdout.
info() { printf '[%s] %s\n' "$ES_SCRIPT_NAME" "$*" >&2; }
warn() { printf '[%s] WARNING: %s\n' "$ES_SCRIPT_NAME" "$*" >&2; }
err() { printf '[%s] ERROR: %s\n' "$ES_SCRIPT_NAME" "$*" >&2; }
die() {
    err "$*"
    exit 1
}

# is_root: true when running with uid 0.
is_root() { [[ "$(id -u)" -eq 0 ]]; }

# abs_path PATH: absolute, normalised path (the path need not exist).
abs_path() { realpath -m -- "$1"; }

# short_hash STRING: a short stable checksum, used to derive unique /tmp names.
short_hash() { printf '%s' "$1" | cksum | cut -d' ' -f1; }

# run_privileged CMD...: run CMD as root (directly, or through password-less
# sudo when we are not root).
run_privileged() {
    if is_root; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        err "root privileges needed to run: $*"
        return 1
    fi
}

# --------------------------------------------------------------------------
# Debian packages
# --------------------------------------------------------------------------

# dpkg_installed PKG: true if the Debian package PKG is installed.
dpkg_installed() {
    local status
    status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)"
    [[ "$status" == "install ok installed" ]]
}

# ensure_packages PKG...: install, with apt-get, those of PKG... that are not
# installed yet (checked with dpkg). The package `postgresql` is treated
# specially: it counts as present as soon as any initdb binary can be found
# (see pg_bin_dir), whichever package provided it. `apt-get update` runs once
# per process, and only if something has to be installed.
ensure_packages() {
    local pkg
    local -a missing=()
    for pkg in "$@"; do
        if [[ "$pkg" == postgresql ]]; then
            pg_bin_dir >/dev/null 2>&1 || missing+=("$pkg")
        elif ! dpkg_installed "$pkg"; then
            missing+=("$pkg")
        fi
    done
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        err "missing packages (${missing[*]}) and no apt-get to install them; install them by hand"
        return 1
    fi
    info "installing missing Debian packages: ${missing[*]}"
    if [[ -z "${ES_APT_UPDATED:-}" ]]; then
        run_privileged env DEBIAN_FRONTEND=noninteractive \
            apt-get -o DPkg::Lock::Timeout=300 update -qq </dev/null
        ES_APT_UPDATED=1
    fi
    run_privileged env DEBIAN_FRONTEND=noninteractive \
        apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends \
        "${missing[@]}" </dev/null
}

# --------------------------------------------------------------------------
# TCP ports
# --------------------------------------------------------------------------

# es_python: print a python3 interpreter to use for small socket checks
# (Debian's /usr/bin/python3 preferred), or fail if there is none.
es_python() {
    if [[ -x /usr/bin/python3 ]]; then
        printf '%s\n' /usr/bin/python3
    else
        command -v python3
    fi
}

# port_in_use HOST PORT: true if something accepts TCP connections on
# HOST:PORT (probed with bash's /dev/tcp, 2 s timeout).
port_in_use() {
    local host="$1" port="$2"
    # shellcheck disable=SC2016  # $1/$2 are expanded by the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$host" "$port" >/dev/null 2>&1
}

# port_is_free HOST PORT: true if a server could listen on HOST:PORT right
# now. Tries to bind the port (with SO_REUSEADDR, as servers do) when a
# python3 is available, which also catches listeners on 0.0.0.0 / [::];
# otherwise falls back to "nothing accepts connections there".
port_is_free() {
    local host="$1" port="$2" py
    if py="$(es_python 2>/dev/null)"; then
        "$py" - "$host" "$port" <<'PY' 2>/dev/null
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
family = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(family, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind((host, port))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
    elif port_in_use "$host" "$port"; then
        return 1
    fi
}

# free_port [START]: print the first free loopback TCP port at or after START
# (default: a random port in 20000-29999, below Linux's ephemeral range, so
# that concurrent runs rarely race for the same port). Scans 1000 ports.
free_port() {
    local port="${1:-$((20000 + RANDOM % 10000))}"
    local last=$((port + 1000))
    while ((port <= last && port <= 65535)); do
        if port_is_free 127.0.0.1 "$port"; then
            printf '%s\n' "$port"
            return 0
        fi
        port=$((port + 1))
    done
    err "no free TCP port found on 127.0.0.1 in ${1:-20000+}..$last"
    return 1
}

# wait_for_port HOST PORT [TIMEOUT_SECONDS=30]: wait until HOST:PORT accepts
# TCP connections; fails after TIMEOUT seconds.
wait_for_port() {
    local host="$1" port="$2" timeout="${3:-30}"
    local deadline=$((SECONDS + timeout))
    until port_in_use "$host" "$port"; do
        if ((SECONDS >= deadline)); then
            err "nothing is listening on $host:$port after ${timeout}s"
            return 1
        fi
        sleep 0.2
    done
}

# addr_host ADDR / addr_port ADDR: split "host:port" or "[v6]:port".
addr_host() {
    local host="${1%:*}"
    host="${host#[}"
    printf '%s\n' "${host%]}"
}
addr_port() { printf '%s\n' "${1##*:}"; }

# addr_probe_host ADDR: the host to connect to in order to reach a server
# bound to ADDR (a wildcard address is reached through loopback).
addr_probe_host() {
    local host
    host="$(addr_host "$1")"
    case "$host" in
        "" | 0.0.0.0) printf '127.0.0.1\n' ;;
        "::") printf '::1\n' ;;
        *) printf '%s\n' "$host" ;;
    esac
}

# --------------------------------------------------------------------------
# Processes and small files
# --------------------------------------------------------------------------

# pid_alive PID: true if process PID exists.
pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# stop_pid PID [TIMEOUT_SECONDS=30] [NAME]: send TERM to PID, wait up to
# TIMEOUT seconds for it to exit, then KILL it. Works for processes that are
# not our children (polls with kill -0).
stop_pid() {
    local pid="$1" timeout="${2:-30}" name="${3:-process}"
    pid_alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + timeout))
    while pid_alive "$pid"; do
        if ((SECONDS >= deadline)); then
            warn "$name (pid $pid) did not exit within ${timeout}s; sending KILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.2
    done
    # Reap it if it happens to be our child (avoids a zombie and a message).
    wait "$pid" 2>/dev/null || true
}

# ensure_password_file FILE: create FILE (mode 600) with a random
# alphanumeric password if it does not exist or is empty.
ensure_password_file() {
    local file="$1" pw=""
    if [[ -s "$file" ]]; then
        return 0
    fi
    mkdir -p "$(dirname "$file")"
    while ((${#pw} < 20)); do
        pw="$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
    done
    (
        umask 077
        printf '%s\n' "$pw" >"$file"
    )
}

# read_password FILE: print the password stored in FILE (first line).
read_password() { head -n 1 "$1" | tr -d '\r\n'; }

# env_file_get FILE KEY: print the value of the last KEY=... line of a
# dotenv FILE (an `export ` prefix and surrounding quotes are removed).
# Prints nothing if FILE or KEY is absent.
env_file_get() {
    local file="$1" key="$2"
    [[ -f "$file" ]] || return 0
    awk -v key="$key" '
        { line = $0; sub(/^[ \t]*export[ \t]+/, "", line) }
        index(line, key "=") == 1 { value = substr(line, length(key) + 2); found = 1 }
        END {
            if (found) {
                if (value ~ /^".*"$/ || value ~ /^\x27.*\x27$/) value = substr(value, 2, length(value) - 2)
                print value
            }
        }' "$file"
}

# env_file_set FILE KEY VALUE: in dotenv FILE, replace the first KEY=... line
# with KEY=VALUE (dropping any later duplicates), or append it; every other
# line is kept as it is. The file keeps its permissions.
env_file_set() {
    local file="$1" key="$2" tmp
    tmp="$(mktemp "${file}.XXXXXX")"
    touch "$file"
    ES_ENV_VALUE="$3" awk -v key="$key" '
        BEGIN { value = ENVIRON["ES_ENV_VALUE"] }
        {
            line = $0; sub(/^[ \t]*export[ \t]+/, "", line)
            if (index(line, key "=") == 1) {
                if (!done) print key "=" value
                done = 1
                next
            }
            print
        }
        END { if (!done) print key "=" value }' "$file" >"$tmp"
    cat "$tmp" >"$file"
    rm -f "$tmp"
}

# --------------------------------------------------------------------------
# PostgreSQL (a private cluster in an explicit data directory)
# --------------------------------------------------------------------------

# The superuser that initdb creates, used by every connection we make.
ES_PG_SUPERUSER="eservices"

# pg_bin_dir: print the directory holding initdb/pg_ctl/postgres/psql.
# Order: $PG_BIN_DIR if set, the newest /usr/lib/postgresql/*/bin, then
# `pg_config --bindir`, then the directory of an `initdb` on PATH.
pg_bin_dir() {
    local dir
    if [[ -n "${PG_BIN_DIR:-}" && -x "${PG_BIN_DIR}/initdb" ]]; then
        printf '%s\n' "$PG_BIN_DIR"
        return 0
    fi
    local d
    local -a found=()
    for d in /usr/lib/postgresql/*/bin; do
        if [[ -x "$d/initdb" ]]; then
            found+=("$d")
        fi
    done
    dir=""
    if ((${#found[@]} > 0)); then
        dir="$(printf '%s\n' "${found[@]}" | sort -V | tail -n 1)"
    fi
    if [[ -z "$dir" ]] && command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
        [[ -x "$dir/initdb" ]] || dir=""
    fi
    if [[ -z "$dir" ]] && command -v initdb >/dev/null 2>&1; then
        dir="$(dirname "$(command -v initdb)")"
    fi
    if [[ -z "$dir" ]]; then
        return 1
    fi
    printf '%s\n' "$dir"
}

# pg_os_user: the OS user that owns and runs the cluster.
pg_os_user() {
    if is_root; then
        printf 'postgres\n'
    else
        id -un
    fi
}

# pg_as CMD...: run CMD as the cluster's OS user (postgres when we are root).
# Runs from / so that the postgres user never trips over an unreadable cwd.
pg_as() {
    if is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# pg_fallback_dir PREFERRED: the data directory used instead of PREFERRED
# when, running as root, the postgres user cannot reach PREFERRED (e.g. a
# checkout under /root, mode 700). Stable for a given PREFERRED, so reruns
# and scripts/down find it again.
pg_fallback_dir() {
    printf '/tmp/eservices-pg-%s/%s\n' "$(short_hash "$1")" "$(basename "$1")"
}

# pg_pick_data_dir PREFERRED [--no-create]: print the data directory to use.
# PREFERRED normally; its fallback (see pg_fallback_dir) if a cluster already
# lives there, or if we are root and the postgres user cannot traverse
# PREFERRED's parent. Creates PREFERRED's parent unless --no-create.
pg_pick_data_dir() {
    local preferred fallback parent
    preferred="$(abs_path "$1")"
    fallback="$(pg_fallback_dir "$preferred")"
    if [[ -f "$preferred/PG_VERSION" ]]; then
        printf '%s\n' "$preferred"
        return 0
    fi
    if [[ -f "$fallback/PG_VERSION" ]]; then
        printf '%s\n' "$fallback"
        return 0
    fi
    if [[ "${2:-}" == --no-create ]] || ! is_root; then
        printf '%s\n' "$preferred"
        return 0
    fi
    parent="$(dirname "$preferred")"
    mkdir -p "$parent"
    chmod o+x "$parent" 2>/dev/null || true
    if id postgres >/dev/null 2>&1 && pg_as test -x "$parent" 2>/dev/null; then
        printf '%s\n' "$preferred"
    else
        warn "the postgres user cannot reach $parent; using $fallback for the cluster instead"
        printf '%s\n' "$fallback"
    fi
}

# pg_socket_dir_for DATA_DIR: the unix socket directory for a cluster: a
# `sock` folder beside the data directory, or a /tmp folder if that path
# would be too long for a unix socket (about 107 bytes).
pg_socket_dir_for() {
    local data_dir sock
    data_dir="$(abs_path "$1")"
    sock="$(dirname "$data_dir")/sock"
    if ((${#sock} + 20 > 100)); then
        sock="/tmp/eservices-sock-$(short_hash "$data_dir")"
    fi
    printf '%s\n' "$sock"
}

# pg_is_running DATA_DIR: true if a postmaster runs on DATA_DIR.
pg_is_running() {
    local bin
    [[ -f "$1/PG_VERSION" ]] || return 1
    bin="$(pg_bin_dir)" || return 1
    pg_as "$bin/pg_ctl" -D "$1" status >/dev/null 2>&1
}

# pg_running_port DATA_DIR: print the port of the running cluster (line 4 of
# postmaster.pid). pg_running_socket_dir DATA_DIR: its socket dir (line 5).
pg_running_port() { sed -n 4p "$1/postmaster.pid"; }
pg_running_socket_dir() { sed -n 5p "$1/postmaster.pid"; }

# pg_psql DATA_DIR [PSQL_ARGS...]: run psql as the superuser against the
# `postgres` database of the running cluster in DATA_DIR, over its unix socket
# (trust authentication, so no password is needed). Extra arguments come last
# and may override the database (-d NAME).
pg_psql() {
    local data_dir="$1" bin
    shift
    bin="$(pg_bin_dir)" || return 1
    local psql="$bin/psql"
    [[ -x "$psql" ]] || psql="$(command -v psql)"
    "$psql" -X -q -v ON_ERROR_STOP=1 \
        -h "$(pg_running_socket_dir "$data_dir")" -p "$(pg_running_port "$data_dir")" \
        -U "$ES_PG_SUPERUSER" -d postgres "$@"
}

# pg_ensure_db DATA_DIR DBNAME: create database DBNAME (owned by the
# superuser) in the running cluster if it does not exist yet.
pg_ensure_db() {
    local data_dir="$1" db="$2" exists
    exists="$(pg_psql "$data_dir" -tA -c "SELECT 1 FROM pg_database WHERE datname = '${db//\'/\'\'}'")"
    if [[ "$exists" != 1 ]]; then
        info "creating database $db"
        pg_psql "$data_dir" -c "CREATE DATABASE \"${db//\"/\"\"}\""
    fi
}

# pg_sync_password DATA_DIR PASSWORD_FILE: set the superuser's password to
# the one in PASSWORD_FILE (keeps the file the single source of truth, e.g.
# if the file was deleted and regenerated). Sent on stdin, not in argv.
pg_sync_password() {
    local pw
    pw="$(read_password "$2")"
    printf "ALTER ROLE \"%s\" PASSWORD '%s';\n" "$ES_PG_SUPERUSER" "${pw//\'/\'\'}" |
        pg_psql "$1" -f -
}

# pg_start DATA_DIR PORT PASSWORD_FILE [PORT_VAR=PG_PORT]
#
# Make sure a private PostgreSQL cluster runs in DATA_DIR, listening on
# 127.0.0.1:PORT and on a unix socket (see pg_socket_dir_for).
#   * An empty/missing DATA_DIR is initialised with initdb: superuser
#     `eservices` whose password is PASSWORD_FILE's (created if missing),
#     local (socket) connections trusted, TCP connections with scram-sha-256,
#     UTF8, locale C.UTF-8 (or C).
#   * Settings go to DATA_DIR/eservices.conf (rewritten on each start and
#     included from postgresql.conf); extra lines can be given in the env var
#     PG_EXTRA_CONF (newline-separated `name = value` lines).
#   * The server log is DATA_DIR's sibling file `<basename>.log`.
#   * If the cluster is already running, it is reused as is (its port is read
#     from postmaster.pid, and may differ from PORT).
#   * If PORT is taken by another program, fails with a message naming PORT
#     and PORT_VAR (the variable the user should change).
# Sets globals: PG_STARTED (1 if this call started the server, else 0),
# PG_ACTUAL_PORT, PG_SOCKET_DIR, PG_DATA_DIR, PG_LOG_FILE.
pg_start() {
    local data_dir port pwfile port_var bin parent sock log owner locale tmp_pw
    data_dir="$(abs_path "$1")"
    port="$2"
    pwfile="$(abs_path "$3")"
    port_var="${4:-PG_PORT}"
    PG_STARTED=0
    PG_ACTUAL_PORT=""
    PG_SOCKET_DIR=""
    PG_DATA_DIR="$data_dir"
    bin="$(pg_bin_dir)" || {
        err "PostgreSQL server binaries (initdb) not found; install the Debian package postgresql"
        return 1
    }
    if is_root && ! id postgres >/dev/null 2>&1; then
        err "running as root, but there is no 'postgres' system user to run PostgreSQL as"
        return 1
    fi
    owner="$(pg_os_user)"
    parent="$(dirname "$data_dir")"
    sock="$(pg_socket_dir_for "$data_dir")"
    log="$parent/$(basename "$data_dir").log"
    PG_LOG_FILE="$log"
    mkdir -p "$parent"
    ensure_password_file "$pwfile"

    # 1. Already running? Reuse it.
    if pg_is_running "$data_dir"; then
        PG_ACTUAL_PORT="$(pg_running_port "$data_dir")"
        PG_SOCKET_DIR="$(pg_running_socket_dir "$data_dir")"
        info "PostgreSQL already running in $data_dir on 127.0.0.1:$PG_ACTUAL_PORT; reusing it"
        if [[ "$PG_ACTUAL_PORT" != "$port" ]]; then
            warn "it listens on port $PG_ACTUAL_PORT, not on the requested $port ($port_var); using $PG_ACTUAL_PORT"
        fi
        pg_sync_password "$data_dir" "$pwfile"
        return 0
    fi

    # 2. The port must be free.
    if ! port_is_free 127.0.0.1 "$port"; then
        err "port $port on 127.0.0.1 is already in use by another program; set $port_var to a free port (for example $port_var=$(free_port $((port + 1)) 2>/dev/null || echo 'another port'))"
        return 1
    fi

    # 3. Initialise the cluster if the data directory is empty.
    if [[ ! -f "$data_dir/PG_VERSION" ]]; then
        if [[ -d "$data_dir" && -n "$(ls -A "$data_dir")" ]]; then
            err "$data_dir is not empty but holds no PostgreSQL cluster; remove it or choose another directory"
            return 1
        fi
        mkdir -p "$data_dir"
        chmod 700 "$data_dir"
        tmp_pw="$pwfile"
        if is_root; then
            chown postgres: "$data_dir"
            # initdb runs as postgres and must read the password: give it a
            # private copy instead of loosening PASSWORD_FILE.
            tmp_pw="$(mktemp /tmp/eservices-pgpw.XXXXXX)"
            cat "$pwfile" >"$tmp_pw"
            chown postgres: "$tmp_pw"
        fi
        if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
            locale="C.UTF-8"
        else
            locale="C"
        fi
        info "initialising a PostgreSQL cluster in $data_dir (superuser $ES_PG_SUPERUSER, owner $owner)"
        if ! pg_as "$bin/initdb" -D "$data_dir" -U "$ES_PG_SUPERUSER" \
            --auth-local=trust --auth-host=scram-sha-256 --pwfile="$tmp_pw" \
            -E UTF8 --locale="$locale" >"$parent/initdb.log" 2>&1; then
            [[ "$tmp_pw" == "$pwfile" ]] || rm -f "$tmp_pw"
            err "initdb failed; its output (in $parent/initdb.log):"
            cat "$parent/initdb.log" >&2
            return 1
        fi
        [[ "$tmp_pw" == "$pwfile" ]] || rm -f "$tmp_pw"
    elif is_root; then
        # A cluster made by someone else (e.g. an earlier non-root run).
        chown -R postgres: "$data_dir"
    fi

    # 4. Our settings, rewritten on every start (the port may have changed).
    {
        printf '# Written by scripts/lib.sh (pg_start) on every start; do not edit.\n'
        printf "listen_addresses = '127.0.0.1'\n"
        printf 'port = %s\n' "$port"
        printf "unix_socket_directories = '%s'\n" "${sock//\'/\'\'}"
        if [[ -n "${PG_EXTRA_CONF:-}" ]]; then
            printf '%s\n' "$PG_EXTRA_CONF"
        fi
    } >"$data_dir/eservices.conf"
    if ! grep -q "^include_if_exists = 'eservices.conf'" "$data_dir/postgresql.conf"; then
        printf "\ninclude_if_exists = 'eservices.conf'\n" >>"$data_dir/postgresql.conf"
    fi
    mkdir -p "$sock"
    touch "$log"
    if is_root; then
        chown postgres: "$data_dir/eservices.conf" "$sock" "$log"
    fi
    chmod 755 "$sock"

    # 5. Start and wait until it accepts connections.
    info "starting PostgreSQL ($data_dir) on 127.0.0.1:$port, log $log"
    if ! pg_as "$bin/pg_ctl" -D "$data_dir" -l "$log" -w -t 60 -s start; then
        err "PostgreSQL failed to start; last lines of $log:"
        tail -n 30 "$log" >&2 || true
        return 1
    fi
    PG_STARTED=1
    PG_ACTUAL_PORT="$port"
    PG_SOCKET_DIR="$sock"
    wait_for_port 127.0.0.1 "$port" 30
    pg_sync_password "$data_dir" "$pwfile"
}

# pg_stop DATA_DIR: stop the cluster in DATA_DIR (fast shutdown) if it runs.
# Idempotent; says what it did.
pg_stop() {
    local data_dir bin
    data_dir="$(abs_path "$1")"
    if ! pg_is_running "$data_dir"; then
        info "PostgreSQL ($data_dir): not running"
        return 0
    fi
    bin="$(pg_bin_dir)"
    if pg_as "$bin/pg_ctl" -D "$data_dir" -m fast -w -t 60 -s stop; then
        info "PostgreSQL ($data_dir): stopped"
    elif pg_is_running "$data_dir"; then
        err "PostgreSQL ($data_dir): could not be stopped"
        return 1
    else
        info "PostgreSQL ($data_dir): stopped"
    fi
}

# --------------------------------------------------------------------------
# Redis (a private server whose files live in one directory)
# --------------------------------------------------------------------------

# redis_server_bin: print the redis-server binary ($REDIS_SERVER if set).
redis_server_bin() {
    if [[ -n "${REDIS_SERVER:-}" ]]; then
        printf '%s\n' "$REDIS_SERVER"
    elif command -v redis-server >/dev/null 2>&1; then
        command -v redis-server
    elif [[ -x /usr/bin/redis-server ]]; then
        printf '/usr/bin/redis-server\n'
    else
        return 1
    fi
}

# redis_running_pid DIR: print the pid from DIR/redis.pid if that process is
# alive and is a redis-server; fail otherwise.
redis_running_pid() {
    local pid
    [[ -f "$1/redis.pid" ]] || return 1
    pid="$(tr -dc '0-9' <"$1/redis.pid")"
    pid_alive "$pid" || return 1
    grep -q redis "/proc/$pid/comm" 2>/dev/null || return 1
    printf '%s\n' "$pid"
}

# redis_start DIR PORT [PORT_VAR=REDIS_PORT] [EXTRA_REDIS_ARGS...]
#
# Make sure a private redis-server runs with its files in DIR (redis.pid,
# redis.log, dump.rdb, redis.port), bound to 127.0.0.1:PORT, daemonized, in
# protected mode. Reused if DIR/redis.pid names a live redis-server (its port
# is read from DIR/redis.port). If PORT is taken by another program, fails
# with a message naming PORT and PORT_VAR. Extra arguments are passed to
# redis-server (e.g. --save "" --appendonly no).
# Sets globals: REDIS_STARTED (1 if this call started it), REDIS_ACTUAL_PORT.
redis_start() {
    local dir port port_var server pid
    dir="$(abs_path "$1")"
    port="$2"
    port_var="${3:-REDIS_PORT}"
    shift 2
    if (($# > 0)); then shift; fi
    REDIS_STARTED=0
    REDIS_ACTUAL_PORT=""
    server="$(redis_server_bin)" || {
        err "redis-server not found; install the Debian package redis-server"
        return 1
    }
    mkdir -p "$dir"

    if pid="$(redis_running_pid "$dir")"; then
        REDIS_ACTUAL_PORT="$(cat "$dir/redis.port" 2>/dev/null || true)"
        if [[ -z "$REDIS_ACTUAL_PORT" ]]; then
            # Fall back to the process title: "redis-server 127.0.0.1:PORT".
            REDIS_ACTUAL_PORT="$(tr '\0' ' ' <"/proc/$pid/cmdline" | grep -oE ':[0-9]+' | head -n 1 | tr -d ':')"
        fi
        info "Redis already running ($dir, pid $pid) on 127.0.0.1:$REDIS_ACTUAL_PORT; reusing it"
        if [[ "$REDIS_ACTUAL_PORT" != "$port" ]]; then
            warn "it listens on port $REDIS_ACTUAL_PORT, not on the requested $port ($port_var); using $REDIS_ACTUAL_PORT"
        fi
        return 0
    fi
    rm -f "$dir/redis.pid"

    if ! port_is_free 127.0.0.1 "$port"; then
        err "port $port on 127.0.0.1 is already in use by another program; set $port_var to a free port (for example $port_var=$(free_port $((port + 1)) 2>/dev/null || echo 'another port'))"
        return 1
    fi

    info "starting Redis ($dir) on 127.0.0.1:$port, log $dir/redis.log"
    if ! "$server" --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes \
        --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --protected-mode yes "$@" </dev/null; then
        err "redis-server failed to start; last lines of $dir/redis.log:"
        tail -n 20 "$dir/redis.log" >&2 || true
        return 1
    fi
    printf '%s\n' "$port" >"$dir/redis.port"
    if ! wait_for_port 127.0.0.1 "$port" 30; then
        err "Redis did not come up; last lines of $dir/redis.log:"
        tail -n 20 "$dir/redis.log" >&2 || true
        return 1
    fi
    # The daemon writes its pidfile shortly after forking.
    local i
    for i in $(seq 50); do
        if redis_running_pid "$dir" >/dev/null; then
            break
        fi
        if [[ "$i" -eq 50 ]]; then
            warn "Redis is up but $dir/redis.pid did not appear"
        fi
        sleep 0.1
    done
    REDIS_STARTED=1
    REDIS_ACTUAL_PORT="$port"
}

# redis_stop DIR: shut down the redis-server of DIR (SIGTERM = SHUTDOWN,
# which saves if persistence is on), waiting up to 30 s. Idempotent.
redis_stop() {
    local dir pid
    dir="$(abs_path "$1")"
    if ! pid="$(redis_running_pid "$dir")"; then
        info "Redis ($dir): not running"
        rm -f "$dir/redis.pid"
        return 0
    fi
    stop_pid "$pid" 30 "redis-server"
    rm -f "$dir/redis.pid"
    info "Redis ($dir): stopped (pid $pid)"
}

# --------------------------------------------------------------------------
# SMTP sink (aiosmtpd, storing every message in a Maildir)
# --------------------------------------------------------------------------

# smtp_python: the interpreter that has aiosmtpd ($TEST_SMTP_PYTHON if set,
# else Debian's /usr/bin/python3 with python3-aiosmtpd).
smtp_python() { printf '%s\n' "${TEST_SMTP_PYTHON:-/usr/bin/python3}"; }

# smtp_running_pid DIR: print the pid in DIR/smtp.pid if it is alive.
smtp_running_pid() {
    local pid
    [[ -f "$1/smtp.pid" ]] || return 1
    pid="$(tr -dc '0-9' <"$1/smtp.pid")"
    pid_alive "$pid" || return 1
    grep -q aiosmtpd "/proc/$pid/cmdline" 2>/dev/null || return 1
    printf '%s\n' "$pid"
}

# smtp_start DIR PORT: start aiosmtpd in the background on 127.0.0.1:PORT,
# storing messages in the Maildir DIR/maildir (created, with cur/ new/ tmp/);
# pid in DIR/smtp.pid, log in DIR/smtp.log. -n: never setuid (matters as root).
smtp_start() {
    local dir port py pid
    dir="$(abs_path "$1")"
    port="$2"
    py="$(smtp_python)"
    mkdir -p "$dir/maildir/cur" "$dir/maildir/new" "$dir/maildir/tmp"
    if pid="$(smtp_running_pid "$dir")"; then
        info "aiosmtpd already running ($dir, pid $pid); reusing it"
        return 0
    fi
    if ! "$py" -c 'import aiosmtpd' 2>/dev/null; then
        err "$py cannot import aiosmtpd; install the Debian package python3-aiosmtpd"
        return 1
    fi
    if ! port_is_free 127.0.0.1 "$port"; then
        err "port $port on 127.0.0.1 is already in use by another program"
        return 1
    fi
    info "starting aiosmtpd on 127.0.0.1:$port, Maildir $dir/maildir, log $dir/smtp.log"
    nohup "$py" -m aiosmtpd -n -l "127.0.0.1:$port" \
        -c aiosmtpd.handlers.Mailbox "$dir/maildir" \
        >"$dir/smtp.log" 2>&1 </dev/null &
    pid=$!
    printf '%s\n' "$pid" >"$dir/smtp.pid"
    if ! wait_for_port 127.0.0.1 "$port" 30 || ! pid_alive "$pid"; then
        err "aiosmtpd did not come up; its log:"
        cat "$dir/smtp.log" >&2 || true
        return 1
    fi
}

# smtp_stop DIR: stop the aiosmtpd of DIR. Idempotent.
smtp_stop() {
    local dir pid
    dir="$(abs_path "$1")"
    if ! pid="$(smtp_running_pid "$dir")"; then
        info "aiosmtpd ($dir): not running"
        rm -f "$dir/smtp.pid"
        return 0
    fi
    stop_pid "$pid" 10 "aiosmtpd"
    rm -f "$dir/smtp.pid"
    info "aiosmtpd ($dir): stopped (pid $pid)"
}
