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
