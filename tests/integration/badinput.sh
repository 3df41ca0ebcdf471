#!/usr/bin/env bash
# Random, truncated and oversized bytes sent straight to the socket with
# nanocat: each gets an error reply or is dropped, and signetd keeps serving.
source "$(dirname "$0")/lib.sh"
it_setup
it_write_config "$IT_DIR/signetd.conf" "max_message_size = 65536;"
it_start
D="$IT_DIR"

send_raw() { # FILE -> reply bytes on stdout (may be empty when dropped)
	timeout 10 nanocat --req --connect "$SIGNET_ENDPOINT" -F "$1" --raw --recv-timeout 3 2>/dev/null || true
}

alive() {
	"$SIGNET" --timeout 5000 health >/dev/null 2>&1 || it_fail "signetd stopped answering after $1"
}

# Random garbage of many sizes: an INVALID_ARGUMENT reply (status field 3 = 3)
for size in 1 2 7 64 1000 4096 60000; do
	head -c "$size" /dev/urandom >"$D/garbage"
	send_raw "$D/garbage" >"$D/reply"
	alive "$size random bytes"
done

# A valid request (taken from what the CLI sends is not possible here), so
# build one: version 1, method "Health", 16-byte id. Then every truncation.
printf '\x08\x01\x12\x06Health\x1a\x10' >"$D/health.req"
head -c 16 /dev/zero >>"$D/health.req"
send_raw "$D/health.req" >"$D/reply"
[[ -s "$D/reply" ]] || it_fail "no reply to a hand-made Health request"
len=$(stat -c %s "$D/health.req")
for cut in $(seq 1 $((len - 1))); do
	head -c "$cut" "$D/health.req" >"$D/trunc"
	send_raw "$D/trunc" >"$D/reply"
done
alive "truncated envelopes"

# Oversized: over the limit gets RESOURCE_EXHAUSTED; far over is dropped by the transport.
head -c 100000 /dev/zero >"$D/big"
send_raw "$D/big" >"$D/reply"
grep -q "exceeds the limit" "$D/reply" || it_fail "oversized request not answered with the limit"
alive "an oversized message"
head -c 1000000 /dev/zero >"$D/huge"
send_raw "$D/huge" >"$D/reply"
alive "a message far over the limit"

# Unknown method and wrong version, answered with their statuses' messages
printf '\x08\x01\x12\x05Nope!\x1a\x10' >"$D/unknown.req"
head -c 16 /dev/zero >>"$D/unknown.req"
send_raw "$D/unknown.req" | grep -q "unknown method" || it_fail "unknown method not reported"
printf '\x08\x07\x12\x06Health\x1a\x10' >"$D/version.req"
head -c 16 /dev/zero >>"$D/version.req"
send_raw "$D/version.req" | grep -q "version 7 is not supported" || it_fail "wrong version not reported"
alive "bad envelopes"
it_stop
echo "badinput: ok"
