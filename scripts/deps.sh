#!/usr/bin/env bash
# Install every Debian package signet needs to build, run, test and package.
#
#   scripts/deps.sh [--bench]
#
# --bench adds what scripts/bench.sh compares signet with (cfssl, an HTTP load
# generator; the pkcs11 engine for `openssl x509` is in the main list).
# Idempotent: apt-get is called only when a package is missing, so a second
# run installs nothing and needs no network. Runs as root, or through sudo
# when it is there. Needs no stdin (CI runs it with none).
# SIGNET_SKIP_DEPS=1 skips it (for machines that are not Debian, at your risk).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

packages=(
	# build
	build-essential cmake pkg-config
	protobuf-c-compiler libprotobuf-c-dev
	libnanomsg-dev libp11-dev
	libp11-kit-dev # the OASIS pkcs11.h header signetd compiles against
	libssl-dev libconfig-dev libsystemd-dev libsqlite3-dev
	libmicrohttpd-dev # signet-gatewayd's HTTP server (SCEP)
	libgnutls28-dev # signet-gatewayd: the EST client chain and tls-unique from the TLS session
	# tests and their tools
	libcmocka-dev clang-format shellcheck
	# libFuzzer targets (scripts/fuzz.sh): clang, and the fuzzer runtime
	# (libclang_rt.fuzzer), only a Recommends of clang, not installed with it here
	clang libclang-rt-dev
	openssl     # the demo and tests verify every signature and CSR with it
	softhsm2    # the PKCS#11 token used in development and tests
	opensc      # pkcs11-tool: initialises tokens, inspects key attributes
	sqlite3     # the tests check the ledger with PRAGMA integrity_check
	gdb         # crash_audit.sh stops signetd between a ledger commit and its audit line
	nanomsg-utils
	python3 # tests/integration/fd_limit.sh: 1,500 raw connections to the ipc socket
	# interop tests: signet's certificates against real TLS/DTLS peers. The tests run
	# their own broker on a free port; the package's system service is not used.
	mosquitto mosquitto-clients # MQTT broker and clients (mutual TLS, CN as username)
	libcoap3-bin                # coap-server/coap-client (DTLS, GnuTLS and OpenSSL builds)
	# SCEP through signet-gatewayd (tests/integration/scep_gateway.sh): a client built
	# offline from Debian's Go packages, curl for the raw HTTP, certtool to verify
	golang-go golang-github-micromdm-scep-dev curl gnutls-bin
	# libsignet-pkcs11 under real consumers: openssl, mosquitto and curl load it
	# through libp11's engine; p11-kit lists the installed module file
	libengine-pkcs11-openssl p11-kit
	# packaging: CPack's DEB generator runs dpkg-shlibdeps and file(1)
	dpkg-dev file
	# several hosts: the records on PostgreSQL. libpq for signetd; the tests start
	# their own server (initdb, pg_ctl) from the server package in a temp directory
	libpq-dev postgresql postgresql-client
	systemd # systemd-analyze: the unit's security rating (tests/integration/systemd_unit.sh)
)
bench_packages=(
	golang-cfssl             # cfssl serve: the software-key signing server compared with
	hey                      # drives cfssl's HTTP API at a given concurrency
)
case ${1:-} in
'') ;;
--bench) packages+=("${bench_packages[@]}") ;;
*) die "usage: ${0##*/} [--bench]" ;;
esac

if [[ ${SIGNET_SKIP_DEPS:-0} == 1 ]]; then
	say "deps: skipped (SIGNET_SKIP_DEPS=1)"
	exit 0
fi
command -v dpkg-query >/dev/null || die "this is not a Debian-based system; install the equivalents of: ${packages[*]} (then set SIGNET_SKIP_DEPS=1)"

missing=()
for pkg in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
	say "deps: all ${#packages[@]} packages are installed"
	exit 0
fi

if ((EUID == 0)); then
	as_root=()
elif command -v sudo >/dev/null; then
	as_root=(sudo)
else
	die "missing packages: ${missing[*]}; run this script as root or install sudo"
fi

say "deps: installing ${missing[*]}"
# </dev/null: never wait for an answer, even when run from a terminal.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null >&2
say "deps: done"
