#!/usr/bin/env bash
# Create a throwaway SoftHSM2 token in a directory of its own.
#
#   eval "$(scripts/softhsm-token.sh DIR [LABEL] [--force])"
#
# DIR gets its own softhsm2.conf (tokens in DIR/tokens), a random SO PIN in
# DIR/so-pin and a random user PIN in DIR/user-pin (both mode 0600). The token
# is initialised with label LABEL (default "signet") and its user PIN set.
# The system token store (/var/lib/softhsm, /etc/softhsm) is never touched.
#
# stdout: shell lines to eval, which export
#   SOFTHSM2_CONF         this token's SoftHSM2 configuration
#   SIGNET_TOKEN_DIR      DIR (absolute)
#   SIGNET_TOKEN_LABEL    LABEL
#   SIGNET_PKCS11_MODULE  SoftHSM2's PKCS#11 module
#   SIGNET_USER_PIN_FILE  DIR/user-pin
#   SIGNET_SO_PIN_FILE    DIR/so-pin
# stderr: messages for people. The PINs go to pkcs11-tool through its
# environment ("env:VAR"), never through argv, and are never printed.
#
# A DIR that already holds a token is refused unless --force is given; then
# its tokens and PIN files are replaced (nothing else in DIR is removed).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	say "usage: ${0##*/} DIR [LABEL] [--force]"
	exit 2
}

force=0
args=()
for arg in "$@"; do
	case $arg in
	--force) force=1 ;;
	-h | --help) usage ;;
	-*) say "unknown option: $arg" && usage ;;
	*) args+=("$arg") ;;
	esac
done
((${#args[@]} >= 1 && ${#args[@]} <= 2)) || usage
label=${args[1]:-signet}
# PKCS#11 token labels are 32 bytes, blank-padded.
((${#label} >= 1 && ${#label} <= 32)) || die "LABEL must be 1 to 32 characters"
[[ $label =~ ^[A-Za-z0-9._-]+$ ]] || die "LABEL may hold only letters, digits, '.', '_' and '-'"

command -v pkcs11-tool >/dev/null || die "pkcs11-tool not found (package opensc; run scripts/deps.sh)"
command -v openssl >/dev/null || die "openssl not found (run scripts/deps.sh)"
module=$(softhsm_module)

# Everything created from here on is private to this user.
umask 077
dir=$(realpath -m -- "${args[0]}")
case $dir/ in
/var/lib/softhsm/* | /etc/softhsm/*) die "refusing to use the system token store ($dir)" ;;
esac
mkdir -p -- "$dir"

conf=$dir/softhsm2.conf
tokens=$dir/tokens
if [[ -e $conf || -e $dir/user-pin || -e $dir/so-pin ]] ||
	{ [[ -d $tokens ]] && [[ -n $(ls -A -- "$tokens") ]]; }; then
	((force)) || die "$dir already holds a token (use --force to replace it)"
	rm -rf -- "$tokens"
	rm -f -- "$conf" "$dir/user-pin" "$dir/so-pin"
fi
mkdir -p -- "$tokens"

cat >"$conf" <<CONF
# Throwaway token made by scripts/softhsm-token.sh; safe to delete.
directories.tokendir = $tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF

# 128 random bits each, hex so that any tool can take them.
so_pin=$(openssl rand -hex 16)
user_pin=$(openssl rand -hex 16)
[[ ${#so_pin} == 32 && ${#user_pin} == 32 ]] || die "openssl rand failed"
# printf is a shell builtin: the PINs are not in any process's argv.
printf '%s\n' "$so_pin" >"$dir/so-pin"
printf '%s\n' "$user_pin" >"$dir/user-pin"
chmod 600 -- "$dir/so-pin" "$dir/user-pin"

# pkcs11-tool chatters on stdout; stdout is reserved for the eval lines.
SOFTHSM2_CONF=$conf SIGNET_SO_PIN=$so_pin \
	pkcs11-tool --module "$module" --init-token --slot-index 0 --label "$label" \
	--so-pin env:SIGNET_SO_PIN >&2 ||
	die "cannot initialise the token in $tokens"
SOFTHSM2_CONF=$conf SIGNET_SO_PIN=$so_pin SIGNET_USER_PIN=$user_pin \
	pkcs11-tool --module "$module" --token-label "$label" --login --login-type so \
	--so-pin env:SIGNET_SO_PIN --init-pin --pin env:SIGNET_USER_PIN >&2 ||
	die "cannot set the user PIN of token '$label'"
unset so_pin user_pin

say "softhsm-token: token '$label' ready in $tokens (user PIN in $dir/user-pin)"
printf 'export SOFTHSM2_CONF=%q\n' "$conf"
printf 'export SIGNET_TOKEN_DIR=%q\n' "$dir"
printf 'export SIGNET_TOKEN_LABEL=%q\n' "$label"
printf 'export SIGNET_PKCS11_MODULE=%q\n' "$module"
printf 'export SIGNET_USER_PIN_FILE=%q\n' "$dir/user-pin"
printf 'export SIGNET_SO_PIN_FILE=%q\n' "$dir/so-pin"
