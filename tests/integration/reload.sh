#!/usr/bin/env bash
# SIGHUP: clients' rules, profiles and trust anchors change without a
# restart and without failing a request in flight; a file with an error (or
# an anchors file that does not load) is refused, naming it, and the rules in
# force stay; settings that need a restart keep their old value, with a
# warning naming them.
source "$(dirname "$0")/lib.sh"
it_setup
D="$IT_DIR"

umask 077
for c in operator a b; do openssl rand -hex 32 >"$D/$c.key"; done

# config A_METHODS B_METHODS [top-level settings] [server settings]: the file
# signetd reloads, replaced at once so a reload never reads half of it
config() {
	SIGNET_CONFIG_AUTH=$(
		cat <<EOF
clients: {
  operator: { secret_file = "$D/operator.key"; admin = true;
              methods = [ "*" ]; cas = [ "*" ]; profiles = [ "*" ]; keys = [ "*" ]; };
  a: { secret_file = "$D/a.key"; methods = [ $1 ]; keys = [ "*" ]; };
  b: { secret_file = "$D/b.key"; methods = [ $2 ]; keys = [ "*" ]; };
};
${3:-}
EOF
	)
	export SIGNET_CONFIG_AUTH
	it_write_config "$D/signetd.conf.new" "${4:-}"
	mv "$D/signetd.conf.new" "$D/signetd.conf"
}


as() {
	local who=$1 want=$2
	shift 2
	expect_rc "$want" "$SIGNET" --client "$who" --secret-file "$D/$who.key" "$@"
}
APPLIED='reload: .* applied'
REFUSED='reload refused'

config '"SignNonce"' '"Health"'
it_start
openssl rand -out "$D/nonce" 32
as operator 0 key generate --alg p256 k1
as a 0 sign k1 --in "$D/nonce" --out "$D/a.sig"
as b 17 sign k1 --in "$D/nonce" --out "$D/b.sig"

# --- the rules switch: b may sign, a may not ---
config '"Health"' '"SignNonce"'
it_hup "$APPLIED"
as b 0 sign k1 --in "$D/nonce" --out "$D/b.sig"
as a 17 sign k1 --in "$D/nonce" --out "$D/a.sig"
[[ $IT_ERR == *"not in clients.a.methods"* ]] || it_fail "a after reload: $IT_ERR"

# --- a syntax error, then a bad value: refused, naming it; the rules stay ---
config '"SignNonce"' '"Health"'
echo 'clients: { oops' >>"$D/signetd.conf"
it_hup "$REFUSED"
grep -q "reload refused: .*signetd.conf:[0-9]*: " "$D/signetd.log" ||
	it_fail "no file:line in the refusal"
as b 0 sign k1 --in "$D/nonce" --out "$D/b.sig"
as a 17 sign k1 --in "$D/nonce" --out "$D/a.sig"
config '"SignNonce"' '"Health"' 'auth: { window_seconds = -5; };'
it_hup "$REFUSED"
grep -q "reload refused: .*auth.window_seconds" "$D/signetd.log" ||
	it_fail "the refusal does not name the setting"
as b 0 sign k1 --in "$D/nonce" --out "$D/b.sig"
# a client whose secret cannot be read refuses the whole reload too
config '"SignNonce"' '"SignNonce"'
mv "$D/b.key" "$D/b.key.away"
it_hup "$REFUSED"
grep -q "reload refused: clients: client 'b'" "$D/signetd.log" || it_fail "secret refusal"
mv "$D/b.key.away" "$D/b.key"
as a 17 sign k1 --in "$D/nonce" --out "$D/a.sig"

# --- a new profile becomes usable ---
as operator 0 ca create-root root --alg p256 --subject "/CN=Reload Root" --out "$D/root.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/dev.key" 2>/dev/null
openssl req -new -key "$D/dev.key" -subj /CN=SN-000001 -out "$D/dev.csr"
rc=0
"$SIGNET" --client operator --secret-file "$D/operator.key" issue --ca root --profile factory \
	--csr "$D/dev.csr" --out "$D/dev.pem" 2>"$D/err" || rc=$?
((rc != 0)) || it_fail "profile 'factory' exists before it is configured"
config '"SignNonce"' '"Health"' \
	'profiles: { factory: { base = "device"; max_days = 30; default_days = 7; }; };'
it_hup "$APPLIED"
as operator 0 issue --ca root --profile factory --csr "$D/dev.csr" --out "$D/dev.pem"
end=$(date -d "$(openssl x509 -in "$D/dev.pem" -noout -enddate | cut -d= -f2)" +%s)
days=$(((end - $(date +%s)) / 86400))
((days >= 6 && days <= 7)) || it_fail "factory's default_days not applied: $days days"
as a 0 sign k1 --in "$D/nonce" --out "$D/a.sig"

# --- trust anchors: a device CA added to the file is trusted after SIGHUP ---
it_foreign_client dev-x SN-X "/CN=Maker X Root"
it_foreign_client dev-y SN-Y "/CN=Maker Y Root"
cp "$D/dev-x-ca.pem" "$D/anchors.pem"
ANCHORS="possession: { trust_anchors = \"$D/anchors.pem\"; };"
config '"SignNonce"' '"Health"' "$ANCHORS"
it_hup "$APPLIED"
as operator 0 verify-chain --chain "$D/dev-x-chain.pem"
as operator 26 verify-chain --chain "$D/dev-y-chain.pem"
cat "$D/dev-x-ca.pem" "$D/dev-y-ca.pem" >"$D/anchors.pem"
it_hup "$APPLIED"
as operator 0 verify-chain --chain "$D/dev-y-chain.pem"
# an anchors file that does not load refuses the reload: both makers stay trusted
echo "not a certificate" >"$D/anchors.pem"
it_hup "$REFUSED"
grep -q "reload refused: possession.trust_anchors" "$D/signetd.log" || it_fail "anchors refusal"
as operator 0 verify-chain --chain "$D/dev-x-chain.pem"
as operator 0 verify-chain --chain "$D/dev-y-chain.pem"
config '"SignNonce"' '"Health"'
it_hup "$APPLIED"
as operator 26 verify-chain --chain "$D/dev-y-chain.pem"

# --- a setting that needs a restart: warned about, the rest applies ---
config '"SignNonce"' '"SignNonce"' '' 'max_message_size = 4096;'
it_hup "$APPLIED"
grep -q "reload: server.max_message_size cannot change" "$D/signetd.log" ||
	it_fail "no warning naming server.max_message_size"
as b 0 sign k1 --in "$D/nonce" --out "$D/b.sig"

# --- requests in flight and arriving during reloads all succeed ---
: >"$D/failures"
(
	for i in $(seq 1 60); do
		"$SIGNET" --client a --secret-file "$D/a.key" sign k1 --in "$D/nonce" \
			--out "$D/loop.sig" 2>>"$D/failures" || echo "request $i failed" >>"$D/failures"
	done
) &
loop=$!
for _ in 1 2 3 4 5; do
	it_hup "$APPLIED"
	sleep 0.1
done
wait "$loop"
[[ ! -s "$D/failures" ]] || it_fail "requests failed during reloads: $(cat "$D/failures")"

it_stop
echo "reload: OK"
