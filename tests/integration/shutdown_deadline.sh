#!/usr/bin/env bash
# Shutdown drains what is in flight, but not forever: a request stalled in
# the token (the fault module holds C_Sign for 8 s) keeps its worker past
# server.shutdown_timeout_seconds (1 s here), and signetd then says so in its
# log and exits 1 within the deadline instead of hanging on SIGTERM.
source "$(dirname "$0")/lib.sh"
FAULTMOD="$SIGNET_BUILD_DIR/tests/faultmod/libsignet_faultmod.so"
[[ -f $FAULTMOD ]] || it_fail "$FAULTMOD not built"
it_setup
D="$IT_DIR"
export SIGNET_FAULTMOD_TARGET="$SIGNET_PKCS11_MODULE"
export SIGNET_FAULTMOD_CONTROL="$D/faults"
: >"$D/faults"
SIGNET_PKCS11_MODULE="$FAULTMOD" it_write_config "$D/signetd.conf" "shutdown_timeout_seconds = 1;"
moddir=$(dirname "$(realpath "$FAULTMOD")")
sed -i "s|^  module = .*|&\n  module_dirs = [ \"$moddir\" ];|" "$D/signetd.conf"
it_start

openssl rand -out "$D/nonce" 32
expect_rc 0 "$SIGNET" key generate --alg p256 dev
expect_rc 0 "$SIGNET" sign dev --in "$D/nonce" --out "$D/sig"

# a signature that will sit in the token for 8 s
printf 'C_Sign delay_ms=8000\n' >"$D/faults.new"
mv "$D/faults.new" "$D/faults"
"$SIGNET" --timeout 3000 sign dev --in "$D/nonce" --out "$D/stalled.sig" >/dev/null 2>&1 &
client=$!
sleep 0.5

start=$(date +%s%N)
kill -TERM "$IT_PID"
rc=0
wait "$IT_PID" || rc=$?
elapsed=$((($(date +%s%N) - start) / 1000000))
IT_PID=""
((rc == 1)) || it_fail "signetd exited $rc, want 1 after the drain deadline"
((elapsed < 4000)) || it_fail "signetd took $elapsed ms to stop with a 1 s deadline"
grep -q "shutdown_timeout_seconds" "$D/signetd.log" || it_fail "the deadline is not in the log"
wait "$client" 2>/dev/null || true
[[ ! -s "$D/stalled.sig" ]] || it_fail "the stalled request still got a signature out"
echo "shutdown deadline: OK (stopped in $elapsed ms)"
