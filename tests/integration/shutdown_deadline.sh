#!/usr/bin/env bash
# Shutdown drains what is in flight, but not forever: a request stalled in
# the token (the fault module holds C_Sign for 8 s) keeps its worker past
# server.shutdown_timeout_seconds (1 s here), and signetd then says so in its
# log and exits 1 within the deadline instead of hanging on SIGTERM.
source "$(dirname "$0")/lib.sh"
it_setup
D="$IT_DIR"
it_setup_faultmod "shutdown_timeout_seconds = 1;"
it_start

openssl rand -out "$D/nonce" 32
expect_rc 0 "$SIGNET" key generate --alg p256 dev
expect_rc 0 "$SIGNET" sign dev --in "$D/nonce" --out "$D/sig"

# a signature that will sit in the token for 8 s
fault "C_Sign delay_ms=8000"
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
