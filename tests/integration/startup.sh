#!/usr/bin/env bash
# Start-up failures are clear and final: wrong PIN (not retried), missing
# module, missing or loose PIN file, bad config, occupied endpoint, a state
# directory another signetd uses.
source "$(dirname "$0")/lib.sh"
it_setup
D="$IT_DIR"

# expect_start_fail NAME CONFIG PATTERN: signetd must exit 1 saying PATTERN.
expect_start_fail() {
	local rc=0
	timeout 20 "$SIGNETD" --config "$2" >"$D/start.log" 2>&1 || rc=$?
	[[ $rc -eq 1 ]] || it_fail "$1: exit status $rc, wanted 1: $(cat "$D/start.log")"
	grep -q -- "$3" "$D/start.log" || it_fail "$1: log lacks '$3': $(cat "$D/start.log")"
	if [[ -z "$IT_PID" && -e "$D/signetd.sock" ]]; then it_fail "$1: socket left behind"; fi
}

real_pin_file="$SIGNET_USER_PIN_FILE"

# wrong PIN: refused once, with the reason, never retried
umask 077
echo "not-the-pin" >"$D/wrong-pin"
SIGNET_USER_PIN_FILE="$D/wrong-pin" it_write_config "$D/wrongpin.conf"
expect_start_fail "wrong PIN" "$D/wrongpin.conf" "not retrying"
grep -q "not-the-pin" "$D/start.log" && it_fail "the PIN reached the log"
[[ $(grep -c "CKR_PIN_INCORRECT" "$D/start.log") -eq 1 ]] || it_fail "wrong PIN tried more than once"

# PIN file readable by others
cp "$real_pin_file" "$D/loose-pin"
chmod 0644 "$D/loose-pin"
SIGNET_USER_PIN_FILE="$D/loose-pin" it_write_config "$D/loose.conf"
expect_start_fail "loose PIN file" "$D/loose.conf" "chmod"

# missing PIN file
SIGNET_USER_PIN_FILE="$D/absent-pin" it_write_config "$D/nopin.conf"
expect_start_fail "missing PIN file" "$D/nopin.conf" "absent-pin"

# missing module
SIGNET_PKCS11_MODULE="/usr/lib/nonexistent/libnothing.so" it_write_config "$D/nomodule.conf"
expect_start_fail "missing module" "$D/nomodule.conf" "libnothing.so: No such file"

# a module outside the allowlist is refused before it is loaded, also when
# reached through a symlink inside it; token.module_dirs admits its directory
mkdir "$D/mods"
cp "$(realpath "$SIGNET_PKCS11_MODULE")" "$D/mods/libsofthsm2.so"
SIGNET_PKCS11_MODULE="$D/mods/libsofthsm2.so" it_write_config "$D/outside.conf"
expect_start_fail "module outside the allowlist" "$D/outside.conf" "outside the allowed directories"
sed "s|^  pin_file = |  module_dirs = [ \"$D/mods\" ];\n  pin_file = |" "$D/outside.conf" >"$D/allowed.conf"
grep -q module_dirs "$D/allowed.conf" || it_fail "module_dirs not written"
"$SIGNETD" --config "$D/allowed.conf" --check-config >/dev/null || it_fail "module_dirs config refused"
mkdir "$D/lib"
ln -s "$D/mods/libsofthsm2.so" "$D/lib/libsofthsm2.so"
sed "s|$D/mods|$D/lib|g" "$D/allowed.conf" >"$D/escape.conf"
expect_start_fail "symlink escaping the allowlist" "$D/escape.conf" "resolved: $D/mods/libsofthsm2.so"
it_start "$D/allowed.conf"
grep -q "outside the allowed" "$D/signetd.log" && it_fail "allowed module refused"
it_stop

# token not there
sed 's/token=itest/token=no-such-token/' "$D/signetd.conf" >"$D/notoken.conf"
expect_start_fail "unknown token" "$D/notoken.conf" "no initialized token"

# config errors
echo 'this is not a config' >"$D/syntax.conf"
expect_start_fail "syntax error" "$D/syntax.conf" "syntax.conf"
expect_start_fail "missing config" "$D/absent.conf" "absent.conf"

# usage errors exit 2
rc=0; "$SIGNETD" >/dev/null 2>&1 || rc=$?
[[ $rc -eq 2 ]] || it_fail "no --config: exit $rc, wanted 2"
"$SIGNETD" --version | grep -q "signetd" || it_fail "--version"
"$SIGNETD" --config "$D/signetd.conf" --check-config | grep -q "configuration OK" || it_fail "--check-config"

# the correct PIN still works (nothing got locked), and a second daemon on
# the same endpoint is refused while the first one serves
it_start
write_signetd_config "$D/other-state.conf" "$D/other-state" "$IT_LABEL" "$SIGNET_ENDPOINT" 1 info
expect_start_fail "endpoint in use" "$D/other-state.conf" "cannot bind"
[[ -S "$D/signetd.sock" ]] || it_fail "the refused daemon removed the serving daemon's socket"
# a second daemon on the same state directory would fork the audit chain
write_signetd_config "$D/same-state.conf" "$D/state" "$IT_LABEL" "ipc://$D/other.sock" 1 info
expect_start_fail "state directory in use" "$D/same-state.conf" "in use by another process"
"$SIGNET" health >/dev/null || it_fail "first daemon disturbed by the refused one"
it_stop
echo "startup: ok"
