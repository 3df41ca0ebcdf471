#!/usr/bin/env bash
# libsignet-pkcs11 in real TLS consumers, through libp11's OpenSSL engine
# (libengine-pkcs11-openssl), with the device key in signetd:
#   - openssl pkeyutl -engine pkcs11 signs; openssl verifies with the exported key
#   - mosquitto_pub/mosquitto_sub authenticate with device-1's certificate to a
#     broker that requires client certificates; a client that may not use
#     that key (signetd's rules for client 'rogue') is refused
#   - curl --engine pkcs11 against openssl s_server -Verify, and the same refusal
# Everything listens on 127.0.0.1 only.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/pkcs11_lib.sh
. "$(dirname "$0")/pkcs11_lib.sh"
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[[ -x $MOSQUITTO ]] || it_fail "mosquitto not found (scripts/deps.sh installs it)"
ENGINE_DIR=$(openssl version -e | sed -E 's/.*"(.*)"/\1/')
[[ -f $ENGINE_DIR/pkcs11.so ]] || it_fail "no pkcs11 engine in $ENGINE_DIR (Debian package libengine-pkcs11-openssl)"
p11_setup
D=$IT_DIR
PIDS=()
tls_cleanup() {
	local p
	for p in ${PIDS[@]+"${PIDS[@]}"}; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	it_cleanup
}
trap tls_cleanup EXIT
# libp11's engine loads the module named here
export PKCS11_MODULE_PATH=$P11_MODULE
KEY_URI="pkcs11:token=signet;object=device-1;type=private"
# as_client CLIENT CMD...: CMD with the module configured for signetd client CLIENT
as_client() { SIGNET_PKCS11_CONFIG="$D/$1.conf" p11_consumer "${@:2}"; }
as_client_plain() { SIGNET_PKCS11_CONFIG="$D/$1.conf" p11_consumer_plain "${@:2}"; }

# the issuing CA is what a peer sends after its own certificate; the root is the anchor
openssl x509 -in "$D/chain.pem" -out "$D/issuing.pem"
cat "$D/device-1.pem" "$D/issuing.pem" >"$D/device-1-chain.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/server.key" 2>/dev/null
openssl req -new -key "$D/server.key" -subj "/CN=localhost" \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -out "$D/server.csr"
p11_admin issue --ca issuing --profile server --csr "$D/server.csr" --out "$D/server.pem"
cat "$D/server.pem" "$D/issuing.pem" >"$D/server-chain.pem"

# --- openssl pkeyutl through the engine ---
head -c 500 /dev/urandom >"$D/msg"
openssl dgst -sha256 -binary "$D/msg" >"$D/msg.sha256"
expect_rc 0 as_client gw openssl pkeyutl -sign -engine pkcs11 -keyform engine -inkey "$KEY_URI" \
	-in "$D/msg.sha256" -out "$D/engine.sig"
openssl pkeyutl -verify -pubin -inkey "$D/device-1.pub" -in "$D/msg.sha256" -sigfile "$D/engine.sig" |
	grep -q "Verified Successfully" || it_fail "the engine's signature does not verify"
expect_rc 0 as_client gw openssl pkeyutl -sign -engine pkcs11 -keyform engine \
	-inkey "pkcs11:object=device-rsa;type=private" -in "$D/msg.sha256" -out "$D/engine-rsa.sig" \
	-pkeyopt digest:sha256
openssl pkeyutl -verify -pubin -inkey "$D/device-rsa.pub" -in "$D/msg.sha256" -sigfile "$D/engine-rsa.sig" \
	-pkeyopt digest:sha256 | grep -q "Verified Successfully" || it_fail "the engine's RSA signature does not verify"
# rogue may not use device-1: the engine finds no such key
expect_rc 1 as_client rogue openssl pkeyutl -sign -engine pkcs11 -keyform engine -inkey "$KEY_URI" \
	-in "$D/msg.sha256" -out "$D/rogue.sig"

# --- mosquitto, mutual TLS ---
BLOG=$D/mosquitto.log
broker_start() {
	local p
	for _ in 1 2 3 4 5; do
		PORT=$(it_free_port 1) || it_fail "no free port"
		cat >"$D/mosquitto.conf" <<CONF
allow_anonymous false
persistence false
log_dest stderr
log_type all
user $(id -un)
listener $PORT 127.0.0.1
cafile $D/root.pem
certfile $D/server-chain.pem
keyfile $D/server.key
require_certificate true
use_identity_as_username true
CONF
		: >"$BLOG"
		timeout 100 "$MOSQUITTO" -c "$D/mosquitto.conf" >>"$BLOG" 2>&1 &
		p=$!
		PIDS+=("$p")
		for _ in $(seq 1 50); do
			grep -q ' running$' "$BLOG" && return 0
			if ! kill -0 "$p" 2>/dev/null; then
				grep -q 'Address already in use' "$BLOG" && continue 2
				it_fail "mosquitto exited: $(tail -5 "$BLOG")"
			fi
			sleep 0.1
		done
		it_fail "mosquitto not running after 5 s: $(tail -5 "$BLOG")"
	done
	it_fail "mosquitto: no port after 5 tries"
}
broker_start
# libmosquitto 2.0's mosquitto_tls_set() insists that the key "file" exists
# before it hands the string to the engine (eclipse-mosquitto/mosquitto PR
# 1820, not merged): an empty file named as the URI, in the directory the
# clients run in, satisfies it. The key still comes from the engine.
: >"$D/$KEY_URI"
cd "$D"
mqtt_opts=(-h localhost -p "$PORT" --cafile "$D/root.pem" --cert "$D/device-1-chain.pem"
	--tls-engine pkcs11 --keyform engine --key "$KEY_URI" -t devices/device-1/hello)
as_client gw mosquitto_sub "${mqtt_opts[@]}" -C 1 -W 30 >"$D/sub.out" 2>"$D/sub.err" &
sub=$!
PIDS+=("$sub")
for _ in $(seq 1 100); do
	grep -q "Received SUBSCRIBE from " "$BLOG" && break
	kill -0 "$sub" 2>/dev/null || it_fail "mosquitto_sub exited: $(cat "$D/sub.err")"
	sleep 0.1
done
grep -q "Received SUBSCRIBE from " "$BLOG" || it_fail "mosquitto_sub did not subscribe: $(cat "$D/sub.err")"
expect_rc 0 as_client gw mosquitto_pub "${mqtt_opts[@]}" -m "signed in signetd"
wait "$sub" || it_fail "mosquitto_sub: $(cat "$D/sub.err")"
[[ $(cat "$D/sub.out") == "signed in signetd" ]] || it_fail "message: $(cat "$D/sub.out")"
grep -q "New client connected from 127.0.0.1.* as .* u'device-1'" "$BLOG" ||
	it_fail "the broker did not take device-1's certificate: $(tail -5 "$BLOG")"
# rogue holds the certificate but may not use its key: no TLS client, no connection
before=$(grep -c "New client connected" "$BLOG")
rc=0
as_client rogue timeout 20 mosquitto_pub "${mqtt_opts[@]}" -m "not signed" >"$D/out" 2>"$D/err" || rc=$?
((rc != 0)) || it_fail "mosquitto_pub with rogue's credential succeeded"
[[ $(grep -c "New client connected" "$BLOG") == "$before" ]] || it_fail "rogue connected: $(tail -5 "$BLOG")"

# --- curl against openssl s_server -Verify ---
for _ in 1 2 3 4 5; do
	HPORT=$(it_free_port 1) || it_fail "no free port"
	: >"$D/s_server.log"
	timeout 100 openssl s_server -accept "127.0.0.1:$HPORT" -www -Verify 1 -verify_return_error \
		-cert "$D/server.pem" -cert_chain "$D/issuing.pem" -key "$D/server.key" -CAfile "$D/root.pem" \
		</dev/null >"$D/s_server.log" 2>&1 &
	srv=$!
	PIDS+=("$srv")
	for _ in $(seq 1 50); do
		grep -q ACCEPT "$D/s_server.log" && break 2
		kill -0 "$srv" 2>/dev/null || continue 2
		sleep 0.1
	done
	it_fail "s_server did not start: $(cat "$D/s_server.log")"
done
curl_opts=(--silent --show-error --max-time 20 --cacert "$D/root.pem" --cert "$D/device-1-chain.pem"
	--engine pkcs11 --key-type ENG --key "$KEY_URI" "https://localhost:$HPORT/")
expect_rc 0 as_client_plain gw curl "${curl_opts[@]}"
grep -q "Ciphers supported" "$D/out" || it_fail "curl got no s_server page: $(head -5 "$D/out")"
grep -q "depth=0 CN = device-1" "$D/s_server.log" || it_fail "s_server saw no device-1 certificate: $(cat "$D/s_server.log")"
rc=0
as_client_plain rogue curl "${curl_opts[@]}" >"$D/out" 2>"$D/err" || rc=$?
((rc != 0)) || it_fail "curl with rogue's credential succeeded"
echo "PASS: pkcs11_tls"
