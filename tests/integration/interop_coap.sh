#!/usr/bin/env bash
# Interop over DTLS: a constrained-device certificate from signet (P-256 key
# made outside the daemon) authenticates a GET over coaps:// to a real
# coap-server from Debian's libcoap3-bin, whose own certificate signet issued
# under the 'server' profile. Both DTLS stacks Debian builds libcoap with are
# used (GnuTLS and OpenSSL); a client certificate from another CA, with the
# same CN under a root of the same name, is refused, and so is signet's server
# for a client that does not trust signet's root.
#
# What libcoap 4.3.1 (Debian 12) does, which shapes the commands below:
# - there is no plain coap-client: the binaries are coap-{client,server}-
#   {gnutls,openssl,notls};
# - coap-server -p P serves plain CoAP on UDP P and DTLS on UDP P+1 (and TCP,
#   TLS on the same numbers);
# - coap-client exits 0 even when the handshake fails, so the answer decides;
# - -C FILE checks the peer against FILE and refuses self-signed peers; -R FILE
#   (trusted roots) makes these example programs accept any self-signed peer
#   certificate, so the refusals below are made with -C where the stack allows;
# - the clients set SNI but do not check the server's name against its SANs;
# - the GnuTLS build sends the whole -c file (leaf and intermediates) and reads
#   every certificate of -C; the OpenSSL build sends only the first certificate
#   of -c (plus what it can chain from its trust store), and its -C keeps only
#   one certificate of a multi-certificate file (it reuses one X509 object
#   while reading: fixed upstream after 4.3.1, libcoap commit 149fe748), so an
#   OpenSSL end gets the chain through -R.
source "$(dirname "$0")/lib.sh"
for b in coap-server-gnutls coap-client-gnutls coap-server-openssl coap-client-openssl coap-client-notls; do
	command -v "$b" >/dev/null || it_fail "$b not found (Debian package libcoap3-bin; scripts/deps.sh installs it)"
done
it_setup
COAP_PID="" COAP_LOG=""
coap_stop() {
	if [[ -n $COAP_PID ]] && kill -0 "$COAP_PID" 2>/dev/null; then
		kill "$COAP_PID" 2>/dev/null || true
		wait "$COAP_PID" 2>/dev/null || true
	fi
	COAP_PID=""
}
trap 'coap_stop; it_cleanup' EXIT
it_start
D="$IT_DIR"
DEVICE_ID="sensor-0042"
ROOT_SUBJECT="/CN=CoAP Interop Root"

# --- a short chain, as constrained devices want it: root -> issuing, both P-256 (RFC 7925) ---
expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "$ROOT_SUBJECT" --out "$D/root.pem"
expect_rc 0 "$SIGNET" ca create-intermediate issuing --parent root --alg p256 --subject "/CN=CoAP Interop Issuing"
expect_rc 0 "$SIGNET" ca chain issuing --out "$D/chain.pem"
openssl x509 -in "$D/chain.pem" -out "$D/issuing.pem"

# the server: 'server' is the profile for a server (serverAuth; constrained-device
# is clientAuth only, which a DTLS client checking the purpose refuses); the SANs
# come from the CSR, as the server profile does not take overrides
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/srv.key" 2>/dev/null
openssl req -new -key "$D/srv.key" -subj "/CN=localhost" \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -out "$D/srv.csr"
expect_rc 0 "$SIGNET" issue --ca issuing --profile server --csr "$D/srv.csr" --out "$D/srv.pem"
cat "$D/srv.pem" "$D/issuing.pem" >"$D/srv-chain.pem"

# the device: its key never leaves it; the CSR is signed with SHA-256, as the profile requires
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/dev.key" 2>/dev/null
openssl req -new -key "$D/dev.key" -subj "/CN=$DEVICE_ID" -sha256 -out "$D/dev.csr"
expect_rc 0 "$SIGNET" issue --ca issuing --profile constrained-device --csr "$D/dev.csr" --out "$D/dev.pem"
cat "$D/dev.pem" "$D/issuing.pem" >"$D/dev-chain.pem"
grep -q 'Signature Algorithm: ecdsa-with-SHA256' <<<"$(openssl x509 -in "$D/dev.pem" -noout -text)" ||
	it_fail "the device certificate is not ecdsa-with-SHA256"
openssl verify -CAfile "$D/root.pem" -untrusted "$D/chain.pem" -purpose sslclient "$D/dev.pem" | grep -q ': OK' ||
	it_fail "openssl does not accept the device certificate for a TLS client"
it_stop # the peers need nothing more from signetd

# the impostor: same CN, from an OpenSSL CA whose root has the same subject as signet's
it_foreign_client foreign "$DEVICE_ID" "$ROOT_SUBJECT"

# coap_start NAME FLAVOUR ARGS...: coap-server-FLAVOUR on 127.0.0.1, ports
# $COAP_PORT (CoAP) and $COAP_PORT+1 (DTLS); its log in $COAP_LOG.
coap_start() {
	local name=$1 flavour=$2 log=$D/$1.server.log
	shift 2
	COAP_LOG=$log
	for _ in 1 2 3 4 5; do
		COAP_PORT=$(it_free_port 2) || it_fail "no free port pair"
		: >"$log"
		# -v 7: the endpoints it opened and the CN of each peer it accepted
		timeout 30 "coap-server-$flavour" -A 127.0.0.1 -p "$COAP_PORT" -v 7 "$@" >>"$log" 2>&1 &
		COAP_PID=$!
		for _ in $(seq 1 50); do
			# a port taken meanwhile: a UDP bind may even succeed next to another
			# socket, so any failed bind means another port
			if grep -qE 'Address already in use|cannot create' "$log"; then
				coap_stop
				continue 2
			fi
			grep -qE "created TLS +endpoint 127\.0\.0\.1:$((COAP_PORT + 1))\b" "$log" && return 0
			kill -0 "$COAP_PID" 2>/dev/null || it_fail "$name: coap-server-$flavour exited: $(tail -5 "$log")"
			sleep 0.1
		done
		it_fail "$name: coap-server-$flavour not listening after 5 s: $(tail -5 "$log")"
	done
	it_fail "$name: no port to listen on after 5 tries"
}

# coap_get NAME FLAVOUR ARGS...: GET coaps://127.0.0.1:$COAP_PORT+1/ with
# coap-client-FLAVOUR; the answer in $D/NAME.answer (absent when none came),
# its log in $D/NAME.client.log.
coap_get() {
	local name=$1 flavour=$2 rc=0
	shift 2
	rm -f "$D/$name.answer"
	timeout 20 "coap-client-$flavour" -B 5 -v 6 -o "$D/$name.answer" "$@" \
		"coaps://127.0.0.1:$((COAP_PORT + 1))/" >"$D/$name.client.log" 2>&1 || rc=$?
	((rc != 124)) || it_fail "$name: coap-client-$flavour hung"
	kill -0 "$COAP_PID" 2>/dev/null || it_fail "$name: coap-server died: $(tail -5 "$COAP_LOG")"
}

# expect_answer NAME FLAVOUR ARGS...: the GET returns the server's answer, and
# the server accepted the device's certificate.
expect_answer() {
	local name=$1 flavour=$2 slog=$COAP_LOG from
	shift 2
	from=$(($(wc -l <"$slog") + 1))
	coap_get "$name" "$flavour" "$@"
	cmp -s "$D/$name.answer" "$D/reference.answer" ||
		it_fail "$name: no answer over DTLS: $(grep -E 'WARN|ERR|CRIT' "$D/$name.client.log" | head -5)"
	grep -qF "CN '$DEVICE_ID' presented by client (Certificate)" <<<"$(tail -n +"$from" "$slog")" ||
		it_fail "$name: the server did not log the device's certificate"
	grep -qF "CN 'localhost' presented by server (Certificate)" "$D/$name.client.log" ||
		it_fail "$name: the client did not log the server's certificate"
}

# expect_refused NAME server|client PATTERN FLAVOUR ARGS...: no answer, and the
# log of the server or of the client says why, matching the extended regex PATTERN.
expect_refused() {
	local name=$1 log=$COAP_LOG pattern=$3 flavour=$4 from=1
	if [[ $2 == client ]]; then
		log=$D/$name.client.log
	else
		from=$(($(wc -l <"$log") + 1))
	fi
	shift 4
	coap_get "$name" "$flavour" "$@"
	[[ ! -s "$D/$name.answer" ]] || it_fail "$name: answered: $(head -1 "$D/$name.answer")"
	grep -qE 'ERR +cannot send CoAP pdu' "$D/$name.client.log" ||
		it_fail "$name: the client did not report a failed handshake: $(tail -5 "$D/$name.client.log")"
	# the server may log the refusal a moment after the client gave up
	for _ in $(seq 1 50); do
		grep -qE "$pattern" <<<"$(tail -n +"$from" "$log")" && return 0
		sleep 0.1
	done
	it_fail "$name: no /$pattern/ in $log: $(tail -n +"$from" "$log" | grep -E 'WARN|ERR' | head -5)"
}

# --- GnuTLS on both ends: each trusts signet's root only, the device sends its chain ---
coap_start gnutls gnutls -c "$D/srv-chain.pem" -j "$D/srv.key" -C "$D/root.pem"
# the server's answer, read over plain CoAP as the reference
timeout 20 coap-client-notls -B 5 -o "$D/reference.answer" "coap://127.0.0.1:$COAP_PORT/" >/dev/null 2>&1 ||
	it_fail "plain CoAP GET failed"
grep -q libcoap "$D/reference.answer" || it_fail "unexpected answer over plain CoAP: $(head -3 "$D/reference.answer")"
expect_answer gnutls-device gnutls -c "$D/dev-chain.pem" -j "$D/dev.key" -C "$D/root.pem"
# the server checks the chain: the same CN from another CA is refused
expect_refused gnutls-foreign server "WARN .*CA is unknown: '$DEVICE_ID'" \
	gnutls -c "$D/foreign-chain.pem" -j "$D/foreign.key" -C "$D/root.pem"
# the client checks the chain: one that trusts another root refuses signet's server
expect_refused gnutls-untrusting client "WARN .*CA is unknown: 'localhost'" \
	gnutls -c "$D/dev-chain.pem" -j "$D/dev.key" -C "$D/foreign-ca.pem"
# an OpenSSL device against the GnuTLS server (it trusts the chain with -R, see above)
expect_answer openssl-device openssl -c "$D/dev.pem" -j "$D/dev.key" -R "$D/chain.pem"
coap_stop

# --- an OpenSSL server (trusting signet's chain with -R), a GnuTLS device ---
coap_start openssl openssl -c "$D/srv.pem" -j "$D/srv.key" -R "$D/chain.pem"
expect_answer openssl-server gnutls -c "$D/dev-chain.pem" -j "$D/dev.key" -C "$D/root.pem"
expect_refused openssl-foreign server "WARN .*DTLS: certificate verify failed" \
	gnutls -c "$D/foreign-chain.pem" -j "$D/foreign.key" -C "$D/root.pem"
coap_stop

echo "interop_coap: ok"
