#!/usr/bin/env bash
# GenerateKey beside signing and look-up traffic on other workers. SoftHSM
# 2.6 fails C_GenerateKeyPair with CKR_GENERAL_ERROR now and then when a
# look-up races the object creation; signetd keeps creation apart from
# look-ups on such a token (token.serialize_object_creation, on by default
# for SoftHSM) and retries one CKR_GENERAL_ERROR, so every key is made and
# no request is answered INTERNAL. Bounded: 20 keys beside two SignNonce
# clients and a look-up loop, for about ten seconds.
source "$(dirname "$0")/lib.sh"
it_setup
D="$IT_DIR"
LOAD="$SIGNET_BUILD_DIR/bench/signet-bench-load"
write_signetd_config "$D/signetd.conf" "$D/state" "$IT_LABEL" "$SIGNET_ENDPOINT" 8 debug
it_start
grep -q "object creation kept apart from look-ups (token.serialize_object_creation by default" \
	"$D/signetd.log" || it_fail "object creation is not kept apart from look-ups on SoftHSM"
expect_rc 0 "$SIGNET" key generate --alg p256 s1

# Two SignNonce clients for the whole run (a failed call ends it with status 1).
"$LOAD" --endpoint "$SIGNET_ENDPOINT" --op nonce --key s1 --clients 2 --seconds 10 \
	>"$D/load.out" 2>"$D/load.err" &
load=$!

# Look-ups that reach the token every time: a key that is not there, and the list.
(
	end=$((SECONDS + 10))
	while ((SECONDS < end)); do
		rc=0
		"$SIGNET" key pub "absent-$RANDOM" >/dev/null 2>>"$D/lookup.err" || rc=$?
		((rc == 15)) || echo "key pub: $rc" >>"$D/bad"
		rc=0
		"$SIGNET" key list >/dev/null 2>>"$D/lookup.err" || rc=$?
		((rc == 0)) || echo "key list: $rc" >>"$D/bad"
	done
) &
lookups=$!

# 20 keys from two generators at once.
gens=()
for g in a b; do
	(
		for i in $(seq 1 10); do
			rc=0
			"$SIGNET" key generate --alg p256 "gen-$g-$i" >/dev/null 2>>"$D/gen.err" || rc=$?
			((rc == 0)) || echo "generate gen-$g-$i: $rc" >>"$D/bad"
		done
	) &
	gens+=($!)
done

for p in "${gens[@]}" "$lookups"; do
	wait "$p"
done
rc=0
wait "$load" || rc=$?
((rc == 0)) || echo "SignNonce load: $rc: $(cat "$D/load.err")" >>"$D/bad"

touch "$D/bad" "$D/gen.err" "$D/lookup.err"
cat "$D/gen.err" "$D/lookup.err" "$D/load.err" >"$D/all.err"
grep -q INTERNAL "$D/all.err" "$D/signetd.log" && it_fail "answered INTERNAL: $(grep -h INTERNAL "$D/all.err" "$D/signetd.log" | head -5)"
[[ ! -s "$D/bad" ]] || it_fail "requests failed beside key generation: $(head -5 "$D/bad"; head -5 "$D/all.err")"
expect_rc 0 "$SIGNET" key list
(($(grep -c '^gen-' "$D/out") == 20)) || it_fail "want 20 generated keys listed: $(cat "$D/out")"
kill -0 "$IT_PID" || it_fail "signetd died"
it_stop
echo "keygen_concurrency: ok"
