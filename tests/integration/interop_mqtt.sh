#!/usr/bin/env bash
# Interop over mutual TLS: device certificates from signet, under root ->
# intermediate -> issuing on the token, authenticate to a real mosquitto broker
# (its certificate from signet too) started here on loopback with
# require_certificate and use_identity_as_username. A device publishes and
# receives its own message; the broker took the certificate's CN as the
# username (the ACL lets each device use only devices/<its CN>/#, and the
# log names it). Refused: the same CN from another CA, a device that does not
# send its intermediates, one with no certificate; and a client that does not
# trust signet's root refuses the broker.
#
# mosquitto 2.0 (Debian 12): certfile is read as a chain (leaf first), on the
# broker and in mosquitto_pub/sub alike; the clients check the broker's name
# against its SANs; read access is checked when a message is delivered, not at
# SUBSCRIBE, so a device may subscribe to another's topic but gets nothing.
source "$(dirname "$0")/lib.sh"
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto) # sbin: not on a user's PATH
[[ -x $MOSQUITTO ]] || it_fail "mosquitto not found (Debian package mosquitto; scripts/deps.sh installs it)"
for b in mosquitto_pub mosquitto_sub; do
	command -v "$b" >/dev/null || it_fail "$b not found (Debian package mosquitto-clients)"
done
it_setup
BROKER_PID=""
SUB_PIDS=()
mqtt_cleanup() {
	local p
	for p in ${SUB_PIDS[@]+"${SUB_PIDS[@]}"} $BROKER_PID; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	BROKER_PID="" SUB_PIDS=()
}
trap 'mqtt_cleanup; it_cleanup' EXIT
it_start
D="$IT_DIR"
DEV="factory-dev-0042"   # device IDs, the certificates' CNs
OTHER="factory-dev-0043" # a second device of the same CA
ROOT_SUBJECT="/CN=MQTT Interop Root/O=Signet"

# --- root -> intermediate -> issuing, the chain a device presents below its own certificate ---
expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "$ROOT_SUBJECT" --out "$D/root.pem"
expect_rc 0 "$SIGNET" ca create-intermediate mid --parent root --alg p384 --subject "/CN=MQTT Interop Intermediate"
expect_rc 0 "$SIGNET" ca create-intermediate issuing --parent mid --alg p256 --subject "/CN=MQTT Interop Issuing"
expect_rc 0 "$SIGNET" ca chain issuing --out "$D/chain.pem"
[[ $(grep -c 'BEGIN CERTIFICATE' "$D/chain.pem") -eq 3 ]] || it_fail "the chain of issuing is not issuing, mid, root"
# what a peer sends after its own certificate: the two intermediates, not the root
awk '/BEGIN CERTIFICATE/ { n++ } n <= 2' "$D/chain.pem" >"$D/intermediates.pem"

# the broker: profile 'server', SANs in the CSR (the profile takes no SAN overrides)
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/broker.key" 2>/dev/null
openssl req -new -key "$D/broker.key" -subj "/CN=localhost" \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -out "$D/broker.csr"
expect_rc 0 "$SIGNET" issue --ca issuing --profile server --csr "$D/broker.csr" --out "$D/broker.pem"
cat "$D/broker.pem" "$D/intermediates.pem" >"$D/broker-chain.pem"

# the devices: keys and CSRs made outside the daemon, CN = device ID
for d in "$DEV" "$OTHER"; do
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/$d.key" 2>/dev/null
	openssl req -new -key "$D/$d.key" -subj "/CN=$d" -out "$D/$d.csr"
	expect_rc 0 "$SIGNET" issue --ca issuing --profile device --csr "$D/$d.csr" --out "$D/$d.pem"
	cat "$D/$d.pem" "$D/intermediates.pem" >"$D/$d-chain.pem"
done
openssl verify -CAfile "$D/root.pem" -untrusted "$D/intermediates.pem" -purpose sslclient "$D/$DEV.pem" |
	grep -q ': OK' || it_fail "openssl does not accept the device certificate for a TLS client"
it_stop # the peers need nothing more from signetd

# the impostor: the same CN, from an OpenSSL CA whose root has the same subject as signet's
it_foreign_client foreign "$DEV" "$ROOT_SUBJECT"

# --- the broker: its own config and port, in the foreground as our child ---
cat >"$D/mosquitto.acl" <<ACL
user $DEV
topic readwrite devices/$DEV/#
user $OTHER
topic readwrite devices/$OTHER/#
ACL
BLOG=$D/mosquitto.log
broker_start() {
	for _ in 1 2 3 4 5; do
		PORT=$(it_free_port 1) || it_fail "no free port"
		cat >"$D/mosquitto.conf" <<CONF
allow_anonymous false
acl_file $D/mosquitto.acl
persistence false
log_dest stderr
log_type all
# as root it would switch to user mosquitto, who may not read this directory
user $(id -un)
listener $PORT 127.0.0.1
cafile $D/root.pem
certfile $D/broker-chain.pem
keyfile $D/broker.key
require_certificate true
use_identity_as_username true
CONF
		: >"$BLOG"
		timeout 50 "$MOSQUITTO" -c "$D/mosquitto.conf" >>"$BLOG" 2>&1 &
		BROKER_PID=$!
		for _ in $(seq 1 50); do
			grep -q "Opening ipv4 listen socket on port $PORT\." "$BLOG" && grep -q ' running$' "$BLOG" && return 0
			if ! kill -0 "$BROKER_PID" 2>/dev/null; then
				wait "$BROKER_PID" 2>/dev/null || true
				BROKER_PID=""
				grep -q 'Address already in use' "$BLOG" && continue 2 # taken meanwhile: another port
				it_fail "mosquitto exited: $(tail -5 "$BLOG")"
			fi
			sleep 0.1
		done
		it_fail "mosquitto not running after 5 s: $(tail -5 "$BLOG")"
	done
	it_fail "mosquitto: no port to listen on after 5 tries"
}
broker_start
grep -q 'mosquitto version 2\.' "$BLOG" || it_fail "not mosquitto 2.x: $(head -3 "$BLOG")"

# tls_opts CERT KEY: the client options for a device (the root is all it trusts)
tls_opts() { echo "--cafile $D/root.pem --cert $1 --key $2"; }
# since: the broker log's line count; new_log MARK: what came after it
# (grep -q reads from variables here: at the end of a pipe it could cut off its
# writer, and pipefail would count that as a failure)
since() { wc -l <"$BLOG"; }
new_log() { tail -n +"$(($1 + 1))" "$BLOG"; }

# --- a device receives its own message; another device gets nothing of it ---
NONCE=$(openssl rand -hex 8)
mark=$(since)
# shellcheck disable=SC2046 # tls_opts is several options (no spaces in $D)
timeout 20 mosquitto_sub -h localhost -p "$PORT" $(tls_opts "$D/$DEV-chain.pem" "$D/$DEV.key") \
	-i "sub-$DEV" -q 1 -t "devices/$DEV/#" -C 1 -W 15 >"$D/sub-dev.out" 2>"$D/sub-dev.err" &
SUB_DEV=$!
# shellcheck disable=SC2046
timeout 20 mosquitto_sub -h localhost -p "$PORT" $(tls_opts "$D/$OTHER-chain.pem" "$D/$OTHER.key") \
	-i "sub-$OTHER" -q 1 -t "devices/$DEV/#" -C 1 -W 4 >"$D/sub-other.out" 2>"$D/sub-other.err" &
SUB_OTHER=$!
SUB_PIDS=("$SUB_DEV" "$SUB_OTHER")
for _ in $(seq 1 100); do
	[[ $(new_log "$mark" | grep -cE "Sending SUBACK to sub-($DEV|$OTHER)$") -eq 2 ]] && break
	kill -0 "$SUB_DEV" 2>/dev/null || it_fail "the device's subscriber exited: $(cat "$D/sub-dev.err")"
	sleep 0.1
done
[[ $(new_log "$mark" | grep -cE "Sending SUBACK to sub-($DEV|$OTHER)$") -eq 2 ]] ||
	it_fail "no SUBACK for both subscribers: $(new_log "$mark" | tail -5)"
# the other device writes to this device's topic: denied (QoS 1: acknowledged before it disconnects,
# so the broker has dealt with it before the device's own message comes)
# shellcheck disable=SC2046
expect_rc 0 timeout 10 mosquitto_pub -h 127.0.0.1 -p "$PORT" $(tls_opts "$D/$OTHER-chain.pem" "$D/$OTHER.key") \
	-i "pub-$OTHER" -q 1 -t "devices/$DEV/cmd" -m "intruder-$NONCE"
# the device itself (to 127.0.0.1 this time: the broker's IP SAN)
# shellcheck disable=SC2046
expect_rc 0 timeout 10 mosquitto_pub -h 127.0.0.1 -p "$PORT" $(tls_opts "$D/$DEV-chain.pem" "$D/$DEV.key") \
	-i "pub-$DEV" -q 1 -t "devices/$DEV/telemetry" -m "hello-$NONCE"
rc=0
wait "$SUB_DEV" || rc=$?
((rc == 0)) || it_fail "the device did not receive its message (mosquitto_sub exited $rc): $(cat "$D/sub-dev.err")"
[[ $(cat "$D/sub-dev.out") == "hello-$NONCE" ]] || it_fail "the device received '$(cat "$D/sub-dev.out")'"
rc=0
wait "$SUB_OTHER" || rc=$?
SUB_PIDS=()
[[ $rc -ne 0 && ! -s "$D/sub-other.out" ]] ||
	it_fail "another device read this device's topic (rc $rc): $(cat "$D/sub-other.out")"
# the broker names the devices by their CNs, and the ACL keyed on them is what refused the write
log=$(new_log "$mark")
for c in "sub-$DEV" "pub-$DEV" "sub-$OTHER" "pub-$OTHER"; do
	grep -qE "New client connected from 127\.0\.0\.1:[0-9]+ as $c \(.*u'${c#*-}'\)" <<<"$log" ||
		it_fail "the broker did not take $c's CN as its username: $(grep -F "as $c " <<<"$log")"
done
grep -qF "Denied PUBLISH from pub-$OTHER (d0, q1, r0, m1, 'devices/$DEV/cmd'" <<<"$log" ||
	it_fail "the ACL did not refuse the other device's write: $(grep -F "pub-$OTHER" <<<"$log")"
grep -q "Received PUBLISH from pub-$DEV .*'devices/$DEV/telemetry'" <<<"$log" ||
	it_fail "the device's message is not in the broker's log"

# --- the same device over TLS 1.2 (many devices have no 1.3) ---
mark=$(since)
# shellcheck disable=SC2046
expect_rc 0 timeout 10 mosquitto_pub -h localhost -p "$PORT" $(tls_opts "$D/$DEV-chain.pem" "$D/$DEV.key") \
	--tls-version tlsv1.2 -i "tls12-$DEV" -q 1 -t "devices/$DEV/telemetry" -m "tls12-$NONCE"
grep -q "Received PUBLISH from tls12-$DEV " <<<"$(new_log "$mark")" || it_fail "TLS 1.2: no PUBLISH in the broker's log"

# --- refusals: each must fail the handshake, and the broker (or client) must say why ---
# refused NAME 'LOG PATTERN' CAFILE CERT KEY: the connection fails, and the broker's log
# or the client's message says why
refused() {
	local name=$1 pattern=$2 cafile=$3 cert=$4 key=$5 rc=0 m log
	m=$(since)
	# shellcheck disable=SC2086 # no spaces in $D
	timeout 10 mosquitto_pub -h localhost -p "$PORT" --cafile "$cafile" ${cert:+--cert $cert --key $key} \
		-i "$name" -q 1 -t "devices/$DEV/telemetry" -m "$name-$NONCE" >"$D/$name.out" 2>"$D/$name.err" || rc=$?
	((rc != 124)) || it_fail "$name: mosquitto_pub hung"
	((rc != 0)) || it_fail "$name: the connection was accepted"
	# the broker may log a refusal a moment after the client gave up
	for _ in $(seq 1 50); do
		log=$(new_log "$m")$'\n'$(cat "$D/$name.err")
		grep -qE "$pattern" <<<"$log" && break
		sleep 0.1
	done
	grep -qE "$pattern" <<<"$log" || it_fail "$name: no /$pattern/ in the logs: $log"
	! grep -q "New client connected" <<<"$log" || it_fail "$name: the broker let it in: $log"
	kill -0 "$BROKER_PID" 2>/dev/null || it_fail "$name: the broker died"
}
# the same CN under a root of the same name, but not signet's
refused foreign "OpenSSL Error.*certificate verify failed" "$D/root.pem" "$D/foreign-chain.pem" "$D/foreign.key"
# signet's own device certificate without its intermediates: the broker trusts only the root
refused no-chain "OpenSSL Error.*certificate verify failed" "$D/root.pem" "$D/$DEV.pem" "$D/$DEV.key"
refused no-cert "OpenSSL Error.*peer did not return a certificate" "$D/root.pem" "" ""
# and the device checks the broker: trusting another root, it refuses signet's server certificate
# (its alert "unknown CA" is in the broker's log)
refused untrusting "OpenSSL Error.*tlsv1 alert unknown ca" "$D/foreign-ca.pem" "$D/$DEV-chain.pem" "$D/$DEV.key"

mqtt_cleanup
echo "interop_mqtt: ok"
