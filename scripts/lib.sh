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
