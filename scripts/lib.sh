# shellcheck shell=bash
# Helpers shared by the scripts in this directory. Source it; do not run it.
#
# Conventions: human messages go to stderr (stdout is kept for output that
# callers capture or eval); secrets (PINs) are passed to programs through the
# environment of that one command, never as arguments, and never echoed.

# shellcheck disable=SC2034 # used by the scripts that source this file
SIGNET_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

say() { printf '%s\n' "$*" >&2; }
die() {
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	exit 1
}
# "==> what the next step does", for scripts that walk a person through steps.
step() { printf '\n==> %s\n' "$*" >&2; }

# Path of SoftHSM2's PKCS#11 module. $SIGNET_PKCS11_MODULE wins when set.
softhsm_module() {
	local multiarch candidate
	if [[ -n ${SIGNET_PKCS11_MODULE:-} ]]; then
		[[ -f $SIGNET_PKCS11_MODULE ]] || die "SIGNET_PKCS11_MODULE=$SIGNET_PKCS11_MODULE does not exist"
		printf '%s\n' "$SIGNET_PKCS11_MODULE"
		return
	fi
	multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -dumpmachine 2>/dev/null || true)
	for candidate in /usr/lib/softhsm/libsofthsm2.so \
		${multiarch:+"/usr/lib/$multiarch/softhsm/libsofthsm2.so"}; do
		if [[ -f $candidate ]]; then
			printf '%s\n' "$candidate"
			return
		fi
	done
	die "SoftHSM2's PKCS#11 module not found (is softhsm2 installed? run scripts/deps.sh)"
}

# Number of CPUs to build with.
build_jobs() { nproc 2>/dev/null || echo 2; }

# write_signetd_config FILE STATE_DIR TOKEN_LABEL ENDPOINT WORKERS LOG_LEVEL [SERVER_EXTRA]
# A signetd config for a token made by softhsm-token.sh (it reads
# $SIGNET_PKCS11_MODULE and $SIGNET_USER_PIN_FILE from its exports).
# SERVER_EXTRA is appended inside the server group. Who may call is
# $SIGNET_CONFIG_AUTH: by default anonymous callers on the ipc socket (a
# development setup); set it to auth/clients groups to declare clients.
write_signetd_config() {
	# signetd started as root refuses to serve as root unless told to: tests
	# and the demo run as whoever started them.
	local user=''
	((EUID != 0)) || user='user = "root";'
	local auth='auth: { allow_anonymous = true; };'
	auth=${SIGNET_CONFIG_AUTH:-$auth}
	cat >"$1" <<CONF
log_level = "$6";
state_dir = "$2";
$user
token: {
  module = "${SIGNET_PKCS11_MODULE:?}";
  uri = "pkcs11:token=$3";
  pin_file = "${SIGNET_USER_PIN_FILE:?}";
};
server: {
  endpoints = [ "$4" ];
  workers = $5;
  ${7:-}
};
$auth
CONF
}

# make_client_secrets FILE...: a fresh 256-bit client secret (hex) in each
# FILE, readable only by its owner.
make_client_secrets() {
	local f
	(
		umask 077
		for f in "$@"; do openssl rand -hex 32 >"$f"; done
	)
}

# start_signetd DAEMON CONF LOG CHECK...: start `DAEMON --config CONF` in the
# background, its output in LOG, SIGNETD_PID set at once (for the caller's
# EXIT trap), and wait until the command CHECK... (a health call with a
# short --timeout; a shell function is fine) succeeds, for 20 s at most. Dies
# if signetd exits first or never answers. Variables set before the call
# reach signetd's environment.
start_signetd() {
	local daemon=$1 conf=$2 log=$3
	shift 3
	"$daemon" --config "$conf" </dev/null >"$log" 2>&1 &
	SIGNETD_PID=$!
	for _ in $(seq 100); do
		kill -0 "$SIGNETD_PID" 2>/dev/null || die "signetd exited during start-up (log: $log)"
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	die "signetd did not answer within 20 s (log: $log)"
}

# end_run RC DIR KEEP LINES: what a script's EXIT trap does about its
# signetd and its throwaway directory: signetd stopped if it still runs, the
# last LINES of DIR/signetd.log shown when RC is not 0, and DIR removed
# unless KEEP is 1.
end_run() {
	local rc=$1 dir=$2 keep=$3 lines=$4
	if [[ -n ${SIGNETD_PID:-} ]] && kill -0 "$SIGNETD_PID" 2>/dev/null; then
		kill -TERM "$SIGNETD_PID" 2>/dev/null || true
		wait "$SIGNETD_PID" 2>/dev/null || true
	fi
	if ((rc != 0)) && [[ -s $dir/signetd.log ]]; then
		say "--- signetd log ($dir/signetd.log) ---"
		tail -n "$lines" "$dir/signetd.log" >&2
	fi
	if [[ $keep == 1 ]]; then
		say "kept $dir"
	else
		rm -rf -- "$dir"
	fi
}

# build_scepclient OUT WORKDIR: build the SCEP client of the tests, demo and
# bench (tests/integration/scepclient, on micromdm/scep from Debian's
# golang-github-micromdm-scep-dev) into OUT, offline: GOPATH mode over
# /usr/share/gocode, where the library's /v2 import path is a symlink made
# in WORKDIR (Debian ships it without the /v2 directory), no proxy, no
# module download.
build_scepclient() {
	local out=$1 work=$2 gocode=/usr/share/gocode
	command -v go >/dev/null || die "go not found (scripts/deps.sh installs golang-go)"
	[[ -d $gocode/src/github.com/micromdm/scep/scep ]] ||
		die "micromdm/scep not found in $gocode (scripts/deps.sh installs golang-github-micromdm-scep-dev)"
	mkdir -p "$work/gopath/src/github.com/micromdm/scep" "$work/gopath/src/scepclient" "$work/gocache"
	ln -sfn "$gocode/src/github.com/micromdm/scep" "$work/gopath/src/github.com/micromdm/scep/v2"
	cp "$SIGNET_ROOT/tests/integration/scepclient/main.go" "$work/gopath/src/scepclient/"
	(cd "$work/gopath/src/scepclient" &&
		GO111MODULE=off GOPATH="$work/gopath:$gocode" GOCACHE="$work/gocache" GOFLAGS='' \
			GOPROXY=off go build -o "$out" .)
}

# write_gatewayd_config FILE PORT ENDPOINT CLIENT SECRET_FILE [EXTRA]: a
# signet-gatewayd config on 127.0.0.1:PORT, enrolments mdm (the default) and
# any other name signetd knows; EXTRA is appended at the top level.
write_gatewayd_config() {
	local user=''
	((EUID != 0)) || user='user = "root";'
	cat >"$1" <<CONF
listen = "127.0.0.1:$2";
$user
signetd = { endpoints = [ "$3" ]; client = "$4"; secret_file = "$5"; timeout_ms = 20000; };
scep = { path = "/scep"; default = "mdm"; };
limits = { max_body = 16384; max_connections = 32; per_source_per_minute = 0; };
${6:-}
CONF
}

# start_gatewayd BIN CONF LOG ENDPOINT SECRET_FILE [EXTRA [CACERT]]: BIN
# (signet-gatewayd) as client "gateway" of ENDPOINT on a free 127.0.0.1 port,
# up to five ports tried, config in CONF (write_gatewayd_config, with EXTRA),
# output appended to LOG; answering plain HTTP, or HTTPS checked against
# CACERT when given. Sets GATEWAYD_PID and GATEWAYD_PORT, or dies.
start_gatewayd() {
	local bin=$1 conf=$2 log=$3 endpoint=$4 secret=$5 extra=${6:-} cacert=${7:-}
	local probe=(curl -s -o /dev/null) scheme=http
	[[ -z $cacert ]] || probe+=(--cacert "$cacert") scheme=https
	for _ in 1 2 3 4 5; do
		GATEWAYD_PORT=$((20000 + RANDOM % 12000))
		write_gatewayd_config "$conf" "$GATEWAYD_PORT" "$endpoint" gateway "$secret" "$extra"
		"$bin" --config "$conf" >>"$log" 2>&1 &
		GATEWAYD_PID=$!
		for _ in $(seq 50); do
			"${probe[@]}" "$scheme://127.0.0.1:$GATEWAYD_PORT/" && return 0
			kill -0 "$GATEWAYD_PID" 2>/dev/null || break
			sleep 0.1
		done
		# still running but silent: not a port clash, so another port will not help
		kill -0 "$GATEWAYD_PID" 2>/dev/null && die "signet-gatewayd did not answer (log: $log)"
		GATEWAYD_PID=
	done
	die "signet-gatewayd did not start (log: $log)"
}

# free_port [N]: print a port P such that P .. P+N-1 are bound by nothing,
# TCP or UDP, v4 or v6 (read from /proc/net: no extra tool), picked at random
# below the ephemeral range. Something may still take it before the caller
# binds it, so callers retry on a bind error.
free_port() {
	local n=${1:-1} p i busy
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 12000)) busy=0
		for ((i = 0; i < n; i++)); do
			# ":PORT " in hex is a local or remote port in every row; either makes it busy
			if grep -qsF -- "$(printf ':%04X ' $((p + i)))" /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6; then
				busy=1
				break
			fi
		done
		((busy)) || {
			echo "$p"
			return 0
		}
	done
	return 1
}

# ---- a private PostgreSQL server, for the tests and the bench ----
#
# pg_start DIR makes (once) and starts a PostgreSQL 15 cluster of its own in
# DIR: the data in DIR/data, its Unix socket in DIR, TCP on 127.0.0.1 at a
# free port, scram-sha-256 for every connection, fsync on (what is tested
# is durability). Role `signet` (random password in DIR/password, 0600,
# owned by whoever runs this: signetd reads it as database_password_file)
# owns database `signet`. Exports PG_DIR, PG_PORT, PG_SOCKDIR, PG_URI (what
# signetd's records.database takes: no password in it), PG_PASSWORD_FILE.
# pg_start on a DIR made before starts that cluster again, on its port.
# One server at a time per shell: the PG_* variables name it.
# Two variables change the server at each start (pg_start, pg_restart):
# PG_SETTINGS_EXTRA, more lines for its postgresql.conf (ssl = on, ...), and
# PG_HBA_TCP, the pg_hba.conf lines for TCP connections (one a line) instead
# of "host all all 127.0.0.1/32 scram-sha-256"; the Unix socket keeps its
# scram-sha-256 line, which pg_psql uses.
PG_BIN=${SIGNET_PG_BIN:-/usr/lib/postgresql/15/bin}
PG_ADMIN=pgadmin # the cluster's superuser, used only to create the role and databases

# pg_as CMD...: run CMD as the cluster's owner: user postgres when we are
# root (initdb and postgres refuse to run as root), ourselves otherwise; from
# PG_DIR, so that postgres is not left in a directory it may not enter.
pg_as() {
	if ((EUID == 0)); then
		(cd "$PG_DIR" && runuser -u postgres -- "$@")
	else
		(cd "$PG_DIR" && "$@")
	fi
}

# pg_settings PORT: the cluster's own settings (included by postgresql.conf).
pg_settings() {
	cat <<CONF
port = $1
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_DIR'
unix_socket_permissions = 0777
fsync = on
synchronous_commit = on
full_page_writes = on
shared_buffers = 16MB
max_connections = 64
log_connections = off
CONF
	[[ -z ${PG_SETTINGS_EXTRA:-} ]] || printf '%s\n' "$PG_SETTINGS_EXTRA"
}

# pg_hba: the cluster's pg_hba.conf (pg_start's PG_HBA_TCP).
pg_hba() {
	echo "local all all scram-sha-256"
	printf '%s\n' "${PG_HBA_TCP:-host all all 127.0.0.1/32 scram-sha-256}"
}

# pg_init: a new cluster in PG_DIR/data; passwords in PG_DIR/password (the
# role signet's) and PG_DIR/pgpass (libpq's password file, both roles, for
# psql: passwords never go in argv).
pg_init() {
	local superpw
	superpw=$(openssl rand -hex 24) || die "openssl rand failed"
	if ((EUID == 0)); then
		chown postgres: "$PG_DIR"
		runuser -u postgres -- test -x "$PG_DIR" ||
			die "user postgres cannot reach $PG_DIR: each directory above it must be searchable (o+x)"
	fi
	(
		umask 077
		printf '%s\n' "$superpw" >"$PG_DIR/superuser.pw"
		openssl rand -hex 24 >"$PG_DIR/password"
		printf '*:*:*:signet:%s\n*:*:*:%s:%s\n' "$(cat "$PG_DIR/password")" "$PG_ADMIN" "$superpw" \
			>"$PG_DIR/pgpass"
	) || die "cannot write the passwords in $PG_DIR"
	((EUID != 0)) || chown postgres: "$PG_DIR/superuser.pw"
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_ADMIN" --pwfile="$PG_DIR/superuser.pw" \
		--auth=scram-sha-256 -E UTF8 --no-locale >"$PG_DIR/initdb.log" 2>&1 ||
		die "initdb failed: $(tail -5 "$PG_DIR/initdb.log")"
	rm -f "$PG_DIR/superuser.pw"
	echo "include = 'signet.conf'" | pg_as tee -a "$PG_DIR/data/postgresql.conf" >/dev/null
}

# pg_ctl_start: start the cluster on the port in PG_DIR/port, or on a new
# free one (up to five) when there is none yet or it was taken before we
# bound it.
pg_ctl_start() {
	local fixed=0 port
	[[ -s $PG_DIR/port ]] && fixed=1
	for _ in 1 2 3 4 5; do
		if ((fixed)); then
			port=$(cat "$PG_DIR/port")
		else
			port=$(free_port 1) || die "no free port for PostgreSQL"
		fi
		pg_settings "$port" | pg_as tee "$PG_DIR/data/signet.conf" >/dev/null
		pg_hba | pg_as tee "$PG_DIR/data/pg_hba.conf" >/dev/null
		if pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 -s start \
			>>"$PG_DIR/pg_ctl.log" 2>&1; then
			echo "$port" >"$PG_DIR/port"
			PG_PORT=$port
			return 0
		fi
		((fixed)) && break
		grep -q "could not bind\|Address already in use" "$PG_DIR/postgres.log" || break
	done
	die "PostgreSQL did not start in $PG_DIR: $(tail -5 "$PG_DIR/postgres.log" 2>/dev/null)"
}

pg_start() {
	local dir=${1:?pg_start DIR} fresh=0
	[[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl && -x $PG_BIN/psql ]] ||
		die "PostgreSQL's server programs are not in $PG_BIN (scripts/deps.sh installs postgresql)"
	mkdir -p "$dir"
	PG_DIR=$(cd "$dir" && pwd -P)
	# a socket path is at most 107 bytes: DIR/.s.PGSQL.NNNNN must fit
	((${#PG_DIR} <= 90)) || die "$PG_DIR is too long a path for a Unix socket"
	if [[ ! -d $PG_DIR/data ]]; then
		pg_init
		fresh=1
	fi
	pg_ctl_start
	PG_SOCKDIR=$PG_DIR
	PG_PASSWORD_FILE=$PG_DIR/password
	PG_URI="postgresql://signet@/signet?host=$PG_SOCKDIR&port=$PG_PORT"
	export PG_DIR PG_PORT PG_SOCKDIR PG_URI PG_PASSWORD_FILE
	((fresh)) || return 0
	# the password reaches the server on psql's stdin, never in argv
	{
		printf "CREATE ROLE signet LOGIN PASSWORD '%s';\n" "$(cat "$PG_PASSWORD_FILE")"
		echo "CREATE DATABASE signet OWNER signet;"
	} | pg_admin_psql -f - >/dev/null || die "cannot create role and database signet"
}

# pg_stop: a fast shutdown (sessions ended, a clean checkpoint); pg_kill: an
# immediate one (the postmaster and every backend gone at once, recovery
# at the next start, as after a crash). Quiet when it is not running.
pg_stop() { pg_ctl_stop fast; }
pg_kill() { pg_ctl_stop immediate; }
pg_ctl_stop() {
	[[ -n ${PG_DIR:-} && -f $PG_DIR/data/postmaster.pid ]] || return 0
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m "$1" -w -t 60 -s stop >>"$PG_DIR/pg_ctl.log" 2>&1 ||
		die "pg_ctl stop -m $1 failed: $(tail -3 "$PG_DIR/pg_ctl.log")"
}
pg_restart() {
	pg_stop
	pg_start "$PG_DIR"
}

# pg_running: is the cluster up (pg_ctl status)?
pg_running() {
	[[ -n ${PG_DIR:-} ]] && pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1
}

# pg_psql SQL: run SQL as role signet in database signet ($PG_DB overrides),
# unaligned and tuples only ("a|b" per row, as sqlite3 prints), stopping at
# the first error. pg_psql -f FILE (or other psql options) instead of SQL.
pg_psql() {
	local sql=(-c "$1")
	[[ $1 != -* ]] || sql=("$@")
	PGPASSFILE=$PG_DIR/pgpass PGCONNECT_TIMEOUT=10 "$PG_BIN/psql" -XAtqw -v ON_ERROR_STOP=1 \
		-h "$PG_SOCKDIR" -p "$PG_PORT" -U signet -d "${PG_DB:-signet}" "${sql[@]}"
}

# pg_admin_psql PSQL-ARGS...: psql as the superuser, in database postgres.
pg_admin_psql() {
	PGPASSFILE=$PG_DIR/pgpass PGCONNECT_TIMEOUT=10 "$PG_BIN/psql" -XAtqw -v ON_ERROR_STOP=1 \
		-h "$PG_SOCKDIR" -p "$PG_PORT" -U "$PG_ADMIN" -d postgres "$@"
}

# pg_createdb NAME: another empty database, owned by signet.
pg_createdb() {
	pg_admin_psql -c "CREATE DATABASE \"$1\" OWNER signet" >/dev/null || die "cannot create database $1"
}

# pg_uri DB: PG_URI for database DB instead of signet.
pg_uri() { printf 'postgresql://signet@/%s?host=%s&port=%s\n' "$1" "$PG_SOCKDIR" "$PG_PORT"; }
