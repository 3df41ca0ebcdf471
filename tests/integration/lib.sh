# Shared helpers for the integration tests: a throwaway SoftHSM token, a
# config for it, and a real signetd started and stopped around each test.
# Source it; it expects SIGNET_SRC_DIR and SIGNET_BUILD_DIR (set by ctest).
set -euo pipefail

: "${SIGNET_SRC_DIR:?}" "${SIGNET_BUILD_DIR:?}"
# shellcheck source=scripts/lib.sh
. "$SIGNET_SRC_DIR/scripts/lib.sh"
SIGNETD="$SIGNET_BUILD_DIR/daemon/signetd"
SIGNET="$SIGNET_BUILD_DIR/client/cli/signet"
IT_LABEL="itest"
IT_DIR=""
IT_PID=""
# Where the records live: sqlite (STATE_DIR/ledger.db, the default) or pg (a
# private PostgreSQL server per test, started by it_setup: it_pg_start).
IT_BACKEND=${SIGNET_TEST_BACKEND:-sqlite}
case $IT_BACKEND in
sqlite | pg) ;;
*)
	echo "FAIL: SIGNET_TEST_BACKEND=$IT_BACKEND: want pg or sqlite" >&2
	exit 1
	;;
esac

it_fail() {
	echo "FAIL: $*" >&2
	if [[ -n "$IT_DIR" && -f "$IT_DIR/signetd.log" ]]; then
		echo "--- signetd log ---" >&2
		tail -n 50 "$IT_DIR/signetd.log" >&2
	fi
	if [[ -n ${PG_DIR:-} && -f $PG_DIR/postgres.log ]]; then
		echo "--- postgres log ---" >&2
		tail -n 20 "$PG_DIR/postgres.log" >&2
	fi
	exit 1
}

it_cleanup() {
	if [[ -n "$IT_PID" ]] && kill -0 "$IT_PID" 2>/dev/null; then
		kill -KILL "$IT_PID" 2>/dev/null || true
	fi
	# a subshell: pg_kill dies on failure, and the test's verdict is not its
	[[ -z ${PG_DIR:-} ]] || (pg_kill) >/dev/null 2>&1 || true
	[[ -n "$IT_DIR" && -z "${SIGNET_KEEP_TEST_DIR:-}" ]] && rm -rf "$IT_DIR"
	return 0
}

# it_tmpdir: a new temporary directory for the test, removed on exit.
it_tmpdir() {
	IT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/signet-itest.XXXXXX")
	trap it_cleanup EXIT
}

# it_setup: fresh token and config in a new temporary directory; with
# SIGNET_TEST_BACKEND=pg a PostgreSQL server too.
it_setup() {
	it_tmpdir
	eval "$("$SIGNET_SRC_DIR/scripts/softhsm-token.sh" "$IT_DIR/token" "$IT_LABEL" 2>"$IT_DIR/token.log")" ||
		it_fail "token setup: $(cat "$IT_DIR/token.log")"
	export SIGNET_ENDPOINT="ipc://$IT_DIR/signetd.sock"
	export SIGNET_TEST_TOKEN_LABEL="$IT_LABEL"
	[[ $IT_BACKEND != pg ]] || it_pg_start
	it_write_config "$IT_DIR/signetd.conf"
}

# it_pg_start: a private PostgreSQL server in $IT_DIR/pg (scripts/lib.sh:
# pg_start; PG_URI, PG_PASSWORD_FILE ... exported), stopped by it_cleanup.
# Once per test; a second call does nothing. Skips the test (77) where the
# server programs are not installed.
it_pg_start() {
	[[ -z ${PG_URI:-} ]] || return 0
	if [[ ! -x $PG_BIN/initdb ]]; then
		echo "SKIP: no PostgreSQL server programs in $PG_BIN (scripts/deps.sh installs postgresql)"
		exit 77
	fi
	# As root the server runs as user postgres (initdb refuses root) and must
	# reach its directory inside the test's, which mktemp made 0700: 0711
	# lets it (and others) pass through without listing the directory, and
	# the test's secrets (PIN, token, client keys) are 0600 files of root's.
	if ((EUID == 0)) && ! runuser -u postgres -- test -x "$IT_DIR"; then
		chmod 0711 "$IT_DIR"
	fi
	pg_start "$IT_DIR/pg"
}

# it_records_pg: the lines for inside `records: { }` that put the records
# on the test's PostgreSQL server; nothing when it has none (SQLite), so a
# test that runs on either backend writes them unconditionally.
it_records_pg() {
	[[ -n ${PG_URI:-} ]] || return 0
	printf '  database = "%s";\n  database_password_file = "%s";\n' "$PG_URI" "$PG_PASSWORD_FILE"
}

# it_records_group [LINE...]: a whole `records: { }` group of the LINEs and
# it_records_pg's, for a config that has none yet.
it_records_group() {
	echo "records: {"
	[[ $# -eq 0 ]] || printf '  %s\n' "$@"
	it_records_pg
	echo "};"
}

# it_sql SQL: run SQL against the ledger of the test's backend, one row a
# line, columns separated by '|': sqlite3 on $IT_DIR/state/ledger.db
# ($IT_STATE overrides the state directory), or pg_psql.
it_sql() {
	if [[ -n ${PG_URI:-} ]]; then
		pg_psql "$1"
	else
		sqlite3 -batch "${IT_STATE:-$IT_DIR/state}/ledger.db" "$1"
	fi
}

# it_write_config FILE [extra settings for the server group]
it_write_config() {
	write_signetd_config "$1" "$IT_DIR/state" "$IT_LABEL" "$SIGNET_ENDPOINT" 4 debug "${2:-}"
}

# it_start [config]: start signetd and wait until it answers Health.
it_start() {
	local conf="${1:-$IT_DIR/signetd.conf}"
	"$SIGNETD" --config "$conf" >>"$IT_DIR/signetd.log" 2>&1 &
	IT_PID=$!
	for _ in $(seq 1 100); do
		# an answer, even "who are you?" (26) from a daemon that wants credentials
		local rc=0
		"$SIGNET" --timeout 1000 health >/dev/null 2>&1 || rc=$?
		if ((rc == 0 || rc == 26)); then
			return 0
		fi
		kill -0 "$IT_PID" 2>/dev/null || it_fail "signetd exited during start-up"
		sleep 0.1
	done
	it_fail "signetd did not answer Health within 10 s"
}

# it_stop: SIGTERM, expect exit status 0 and the socket file gone.
it_stop() {
	local rc=0
	kill -TERM "$IT_PID"
	wait "$IT_PID" || rc=$?
	IT_PID=""
	[[ $rc -eq 0 ]] || it_fail "signetd exited with $rc after SIGTERM"
	[[ ! -e "$IT_DIR/signetd.sock" ]] || it_fail "socket file left behind"
}

# expect_rc WANT CMD...: run CMD, require exit status WANT, keep stderr in $IT_ERR.
expect_rc() {
	local want=$1 rc=0
	shift
	"$@" >"$IT_DIR/out" 2>"$IT_DIR/err" || rc=$?
	IT_ERR=$(cat "$IT_DIR/err")
	[[ $rc -eq $want ]] || it_fail "'$*' exited $rc, wanted $want: $IT_ERR"
}

# serial_ok CERT: the serial is a positive integer of 64 to 160 bits (RFC 5280:
# at most 20 octets; ours carry 127 random bits). OpenSSL prints it in hex,
# with a '-' when negative; a leading 0 nibble is an ordinary value.
serial_ok() {
	local hex
	hex=$(openssl x509 -in "$1" -noout -serial | cut -d= -f2)
	[[ $hex =~ ^[0-9A-F]+$ ]] || return 1
	hex=$(sed 's/^0*//' <<<"$hex")
	((${#hex} >= 16 && ${#hex} <= 40))
}

# it_free_port [N]: scripts/lib.sh's free_port.
it_free_port() { free_port "${1:-1}"; }

# it_foreign_client NAME CN ROOT_SUBJECT: a client certificate that signet did
# not issue: a throwaway OpenSSL root (subject ROOT_SUBJECT, e.g. the same as
# signet's root, so names alone do not tell them apart) and a P-256 leaf under
# it with CN and the extensions of a signet device certificate.
# Writes $IT_DIR/NAME.key, NAME.pem (the leaf) and NAME-chain.pem (leaf, root).
it_foreign_client() {
	local d=$IT_DIR/$1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d-ca.key" \
		-subj "$3" -days 2 -out "$d-ca.pem" -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || it_fail "$1: foreign root"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d.key" \
		-subj "/CN=$2" -out "$d.csr" 2>/dev/null || it_fail "$1: foreign CSR"
	printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=clientAuth" "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" >"$d.ext"
	openssl x509 -req -in "$d.csr" -CA "$d-ca.pem" -CAkey "$d-ca.key" -days 1 -extfile "$d.ext" \
		-out "$d.pem" 2>/dev/null || it_fail "$1: foreign certificate"
	cat "$d.pem" "$d-ca.pem" >"$d-chain.pem"
}

# it_setup_faultmod [SERVER_EXTRA] [TOP_EXTRA]: after it_setup, put the
# fault-injecting PKCS#11 module (tests/faultmod) between signetd and
# SoftHSM2, steered by $IT_DIR/faults (empty: every call passes), and rewrite
# the config for it. SERVER_EXTRA goes inside the server group, TOP_EXTRA
# at the top level.
it_setup_faultmod() {
	local faultmod="$SIGNET_BUILD_DIR/tests/faultmod/libsignet_faultmod.so" moddir
	[[ -f $faultmod ]] || it_fail "$faultmod not built"
	export SIGNET_FAULTMOD_TARGET="$SIGNET_PKCS11_MODULE"
	export SIGNET_FAULTMOD_CONTROL="$IT_DIR/faults"
	: >"$IT_DIR/faults"
	SIGNET_PKCS11_MODULE="$faultmod" it_write_config "$IT_DIR/signetd.conf" "${1:-}"
	[[ -z ${2:-} ]] || printf '%s\n' "$2" >>"$IT_DIR/signetd.conf"
	# signetd loads modules only from allowed directories: allow the build's.
	moddir=$(dirname "$(realpath "$faultmod")")
	sed -i "s|^  module = .*|&\n  module_dirs = [ \"$moddir\" ];|" "$IT_DIR/signetd.conf"
	grep -q module_dirs "$IT_DIR/signetd.conf" || it_fail "config: module_dirs not added"
}

# fault RULE...: replace the fault module's control file in one step (a new
# inode, so the module sees the change even within one timestamp tick). No
# rule: every call passes again.
fault() {
	printf '%s\n' "$@" >"$IT_DIR/faults.new"
	mv "$IT_DIR/faults.new" "$IT_DIR/faults"
}

# wait_healthy SECONDS: Health answers SERVING within SECONDS; its answer is
# left in $IT_DIR/health.
wait_healthy() {
	local rc
	for _ in $(seq 1 $(($1 * 10))); do
		rc=0
		"$SIGNET" --timeout 1000 health >"$IT_DIR/health" 2>&1 || rc=$?
		((rc == 0)) && return 0
		sleep 0.1
	done
	it_fail "token not back within $1 s: $(cat "$IT_DIR/health")"
}

# it_hup PATTERN: SIGHUP to signetd, and wait (5 s) for one more line of its
# log matching PATTERN (an extended regular expression)
it_hup() {
	local before
	before=$(grep -c -E "$1" "$IT_DIR/signetd.log" || true)
	kill -HUP "$IT_PID"
	for _ in $(seq 1 100); do
		(($(grep -c -E "$1" "$IT_DIR/signetd.log" || true) > before)) && return 0
		sleep 0.05
	done
	it_fail "no '$1' in the log within 5 s of SIGHUP"
}

# it_until SECONDS CMD...: run CMD every 0.1 s until it succeeds; 1 when it
# has not within SECONDS. A redirection of the call collects every
# attempt's output: the last line is the last attempt's.
it_until() {
	local tries=$(($1 * 10))
	shift
	for _ in $(seq 1 "$tries"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# it_mount_state WHAT MOUNT_ARGS...: put the state directory ($IT_DIR/state)
# on a filesystem of the test's own (`mount MOUNT_ARGS... $IT_DIR/state`), or
# skip the test (77) where that is not allowed, saying WHAT could not be
# mounted. On exit signetd is killed before the filesystem is unmounted;
# with SIGNET_KEEP_TEST_DIR it stays mounted, to be looked at.
it_mount_state() {
	local what=$1
	shift
	mkdir -p "$IT_DIR/state"
	if ! mount "$@" "$IT_DIR/state" 2>"$IT_DIR/mount.err"; then
		echo "SKIP: cannot mount $what here: $(cat "$IT_DIR/mount.err")"
		exit 77
	fi
	trap it_cleanup_mounted EXIT
}

it_cleanup_mounted() {
	if [[ -n "$IT_PID" ]] && kill -0 "$IT_PID" 2>/dev/null; then
		kill -KILL "$IT_PID" 2>/dev/null || true
		wait "$IT_PID" 2>/dev/null || true
	fi
	[[ -n ${SIGNET_KEEP_TEST_DIR:-} ]] && return 0
	umount "$IT_DIR/state" 2>/dev/null || umount -l "$IT_DIR/state" 2>/dev/null || true
	it_cleanup
}

# it_issuer NAME: through the running signetd, a P-256 key dev-key (public
# half $IT_DIR/dev-key.pub), a root CA "root" ($IT_DIR/root.pem, subject
# "/CN=NAME Root") and an intermediate "issuing" under it ($IT_DIR/chain.pem);
# a device CSR $IT_DIR/dev.csr (CN dev-1) and one certificate issued from it,
# $IT_DIR/before.pem.
it_issuer() {
	expect_rc 0 "$SIGNET" key generate --alg p256 dev-key
	expect_rc 0 "$SIGNET" key pub dev-key --out "$IT_DIR/dev-key.pub"
	expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "/CN=$1 Root" --out "$IT_DIR/root.pem"
	expect_rc 0 "$SIGNET" ca create-intermediate issuing --parent root --alg p256 --subject "/CN=$1 Issuing"
	expect_rc 0 "$SIGNET" ca chain issuing --out "$IT_DIR/chain.pem"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$IT_DIR/dev.key" 2>/dev/null
	openssl req -new -key "$IT_DIR/dev.key" -subj /CN=dev-1 -out "$IT_DIR/dev.csr"
	expect_rc 0 "$SIGNET" issue --ca issuing --profile device --csr "$IT_DIR/dev.csr" --out "$IT_DIR/before.pem"
}

# it_gateway_setup TOOL...: after it_setup, for a test that runs signet-gatewayd:
# GATEWAYD built and each TOOL on PATH, and an EXIT trap that kills the
# gateways whose pids are in GW_PID and GW_PID2 and, unless the test set
# GW_OK=1, shows the end of $IT_DIR/gatewayd.log.
it_gateway_setup() {
	local tool
	GATEWAYD="$SIGNET_BUILD_DIR/client/gateway/signet-gatewayd"
	[[ -x $GATEWAYD ]] || it_fail "$GATEWAYD not built"
	for tool in "$@"; do
		command -v "$tool" >/dev/null || it_fail "$tool not found (scripts/deps.sh installs it)"
	done
	GW_PID="" GW_PID2=""
	trap it_gateway_cleanup EXIT
}

it_gateway_cleanup() {
	local p
	for p in $GW_PID $GW_PID2; do
		kill -KILL "$p" 2>/dev/null || true
	done
	if [[ -n "$IT_DIR" && -f "$IT_DIR/gatewayd.log" && ${GW_OK:-0} != 1 ]]; then
		echo "--- signet-gatewayd log ---" >&2
		tail -n 30 "$IT_DIR/gatewayd.log" >&2
	fi
	it_cleanup
}
