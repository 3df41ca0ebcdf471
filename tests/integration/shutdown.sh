#!/usr/bin/env bash
# SIGTERM under load: signetd exits 0, removes its socket, and every answer
# that reached a client before it went away is a valid signature.
source "$(dirname "$0")/lib.sh"
it_setup
it_start
D="$IT_DIR"
"$SIGNET" key generate --alg p256 sd-key >/dev/null
"$SIGNET" key pub sd-key --out "$D/pub.pem"
openssl rand -out "$D/msg" 64

load() { # N: sign until the daemon is gone; count good and bad answers
	local n=$1 good=0 bad=0
	while :; do
		if "$SIGNET" --timeout 2000 sign sd-key --in "$D/msg" --out "$D/sig.$n" 2>/dev/null; then
			if openssl dgst -sha256 -verify "$D/pub.pem" -signature "$D/sig.$n" "$D/msg" >/dev/null; then
				good=$((good + 1))
			else
				bad=$((bad + 1))
			fi
		else
			break
		fi
	done
	echo "$good $bad" >"$D/load.$n"
}

for n in 1 2 3 4; do load "$n" & done
sleep 2
kill -TERM "$IT_PID"
rc=0
wait "$IT_PID" || rc=$?
IT_PID=""
wait
[[ $rc -eq 0 ]] || it_fail "signetd exited $rc after SIGTERM under load"
[[ ! -e "$D/signetd.sock" ]] || it_fail "socket file left behind"
total=0
for n in 1 2 3 4; do
	read -r good bad <"$D/load.$n"
	[[ $bad -eq 0 ]] || it_fail "client $n got $bad signatures that do not verify"
	total=$((total + good))
done
[[ $total -gt 0 ]] || it_fail "no request succeeded before shutdown"
grep -q "shutting down" "$D/signetd.log" || it_fail "no shutdown log line"
grep -q "stopped" "$D/signetd.log" || it_fail "no clean stop log line"
echo "shutdown: ok ($total signatures before SIGTERM)"
