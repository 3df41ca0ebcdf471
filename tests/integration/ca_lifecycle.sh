#!/usr/bin/env bash
# CA lifecycle on the token: renewal (same key, new certificate) and re-keying
# (new key, same subject) of intermediates and roots, with the devices issued
# before each step still verifying the way docs/architecture.md tells relying
# parties; a sub-CA signed by an outside OpenSSL CA (CSR out, certificate and
# chain in), its refusals and its renewal through that CA; CA keys out of the
# key RPCs' reach; everything across a restart.
source "$(dirname "$0")/lib.sh"
it_setup
it_start
D="$IT_DIR"

field() { openssl x509 -in "$1" -noout -ext "$2" 2>/dev/null; }
ski() { field "$1" subjectKeyIdentifier | tail -1 | tr -d ' '; }
aki() { field "$1" authorityKeyIdentifier | tail -1 | tr -d ' ' | sed 's/^keyid://'; }
serial() { openssl x509 -in "$1" -noout -serial; }
subject() { openssl x509 -in "$1" -noout -subject -nameopt RFC2253; }
# verify ANCHOR UNTRUSTED CERT: does openssl accept CERT?
verify() { openssl verify -CAfile "$1" -untrusted "$2" "$3" 2>&1 | grep -q ': OK$'; }

# device CA ID: a key made outside, its certificate from CA, chain in ID.chain
device() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/$2.key" 2>/dev/null
	openssl req -new -key "$D/$2.key" -subj "/CN=$2" -out "$D/$2.csr"
	expect_rc 0 "$SIGNET" issue --ca "$1" --profile device --csr "$D/$2.csr" --out "$D/$2.pem" \
		--chain "$D/$2.chain"
}

expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "/CN=Lifecycle Root/O=Signet" \
	--days 3650 --out "$D/root1.pem"
expect_rc 0 "$SIGNET" ca create-intermediate issuing --parent root --alg p256 \
	--subject "/CN=Lifecycle Issuing/O=Signet" --days 1000 --out "$D/issuing1.pem"
device issuing dev-a

# --- renewal: same key and subject, new serial and validity ---
expect_rc 0 "$SIGNET" ca renew issuing --days 500 --out "$D/issuing2.pem"
[[ $(ski "$D/issuing2.pem") == "$(ski "$D/issuing1.pem")" ]] || it_fail "renewal changed the key"
[[ $(subject "$D/issuing2.pem") == "$(subject "$D/issuing1.pem")" ]] || it_fail "renewal changed the subject"
[[ $(serial "$D/issuing2.pem") != "$(serial "$D/issuing1.pem")" ]] || it_fail "renewal kept the serial"
[[ $(aki "$D/issuing2.pem") == "$(ski "$D/root1.pem")" ]] || it_fail "renewed certificate not issued by the root"
serial_ok "$D/issuing2.pem" || it_fail "renewed serial not 64-160 random bits"
days=$((($(date -d "$(openssl x509 -in "$D/issuing2.pem" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s)) / 86400))
((days >= 499 && days <= 500)) || it_fail "renewed for $days days, asked 500"
# a device issued before verifies through either certificate; the chain now holds the renewed one
verify "$D/root1.pem" "$D/issuing1.pem" "$D/dev-a.pem" || it_fail "dev-a no longer verifies with the old CA certificate"
verify "$D/root1.pem" "$D/issuing2.pem" "$D/dev-a.pem" || it_fail "dev-a does not verify through the renewed CA certificate"
expect_rc 0 "$SIGNET" ca chain issuing --out "$D/chain2.pem"
cmp -s <(openssl x509 -in "$D/chain2.pem" -outform DER) <(openssl x509 -in "$D/issuing2.pem" -outform DER) ||
	it_fail "the chain does not start with the renewed certificate"
device issuing dev-b
verify "$D/root1.pem" "$D/dev-b.chain" "$D/dev-b.pem" || it_fail "dev-b (after renewal) does not verify"

# --- re-keying an intermediate: new key, same subject; old devices keep the old certificate ---
expect_rc 0 "$SIGNET" ca rekey issuing --out "$D/issuing3.pem"
[[ $(ski "$D/issuing3.pem") != "$(ski "$D/issuing1.pem")" ]] || it_fail "re-key kept the key"
[[ $(subject "$D/issuing3.pem") == "$(subject "$D/issuing1.pem")" ]] || it_fail "re-key changed the subject"
expect_rc 0 "$SIGNET" key list
grep -q '^ca2.issuing ' "$D/out" || it_fail "the new key ca2.issuing is not on the token: $(cat "$D/out")"
grep -q '^ca.issuing ' "$D/out" || it_fail "the old key was removed (it must stay, for what it issued)"
device issuing dev-c
[[ $(aki "$D/dev-c.pem") == "$(ski "$D/issuing3.pem")" ]] || it_fail "dev-c not signed by the new key"
verify "$D/root1.pem" "$D/dev-c.chain" "$D/dev-c.pem" || it_fail "dev-c (after re-key) does not verify"
verify "$D/root1.pem" "$D/issuing2.pem" "$D/dev-a.pem" || it_fail "dev-a does not verify through the old CA certificate"
verify "$D/root1.pem" "$D/issuing3.pem" "$D/dev-a.pem" && it_fail "dev-a verified through the new key's certificate"

# --- re-keying the root: a link certificate carries trust from the old root to the new ---
expect_rc 0 "$SIGNET" ca rekey root --out "$D/root2.pem" --link-out "$D/link.pem"
[[ $(ski "$D/root2.pem") != "$(ski "$D/root1.pem")" ]] || it_fail "root re-key kept the key"
openssl verify -CAfile "$D/root2.pem" "$D/root2.pem" | grep -q ': OK$' || it_fail "the new root is not self-signed"
[[ $(subject "$D/link.pem") == "$(subject "$D/root1.pem")" ]] || it_fail "link certificate subject"
[[ $(aki "$D/link.pem") == "$(ski "$D/root1.pem")" ]] || it_fail "link certificate not signed by the old root"
cmp -s <(openssl x509 -in "$D/link.pem" -noout -pubkey) <(openssl x509 -in "$D/root2.pem" -noout -pubkey) ||
	it_fail "link certificate is not for the new root key"
expect_rc 0 "$SIGNET" ca create-intermediate issuing-b --parent root --alg p256 \
	--subject "/CN=Lifecycle Issuing B/O=Signet" --out "$D/issuing-b.pem"
device issuing-b dev-d
verify "$D/root2.pem" "$D/dev-d.chain" "$D/dev-d.pem" || it_fail "dev-d does not verify under the new root"
# a relying party that trusts only the old root: the intermediates, then the link certificate
cat "$D/issuing-b.pem" "$D/link.pem" >"$D/dev-d.linked"
verify "$D/root1.pem" "$D/dev-d.linked" "$D/dev-d.pem" || it_fail "dev-d does not reach the old root through the link certificate"
verify "$D/root1.pem" "$D/issuing-b.pem" "$D/dev-d.pem" && it_fail "dev-d reached the old root without the link certificate"
# 'issuing' was certified by the old root key: its chain ends there, and still verifies
expect_rc 0 "$SIGNET" ca chain issuing --out "$D/chain3.pem"
verify "$D/root1.pem" "$D/chain3.pem" "$D/dev-c.pem" || it_fail "issuing's chain lost the old root"
# renewing it now puts it under the new root key
expect_rc 0 "$SIGNET" ca renew issuing --out "$D/issuing4.pem"
[[ $(aki "$D/issuing4.pem") == "$(ski "$D/root2.pem")" ]] || it_fail "renewal after the root re-key not signed by the new root"
verify "$D/root2.pem" "$D/issuing4.pem" "$D/dev-c.pem" || it_fail "dev-c does not verify through the renewal under the new root"

# --- CA keys are out of the key RPCs' reach ---
printf 'x' >"$D/data"
expect_rc 17 "$SIGNET" sign ca.root --in "$D/data" --out "$D/data.sig"
[[ $IT_ERR == *"CA key namespace"* ]] || it_fail "signing with a CA key: $IT_ERR"
expect_rc 17 "$SIGNET" key delete ca2.issuing
expect_rc 17 "$SIGNET" key generate --alg p256 ca.squatter
expect_rc 17 "$SIGNET" csr ca.root --subject /CN=x --out "$D/x.csr"

# --- a sub-CA signed outside signet: CSR out, certificate and chain in ---
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/xroot.key" \
	-subj "/CN=Outside Root" -days 3650 -out "$D/xroot.pem" 2>/dev/null
cat >"$D/xca.ext" <<'EOF'
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
cat >"$D/xsub.ext" <<'EOF'
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/xinter.key" \
	-subj "/CN=Outside Intermediate" -out "$D/xinter.csr" 2>/dev/null
openssl x509 -req -in "$D/xinter.csr" -CA "$D/xroot.pem" -CAkey "$D/xroot.key" -CAcreateserial \
	-days 2000 -extfile "$D/xca.ext" -out "$D/xinter.pem" 2>/dev/null
cat "$D/xinter.pem" "$D/xroot.pem" >"$D/xchain.pem"
# outside_sign CSR OUT: what the outside CA returns for a request
outside_sign() {
	openssl x509 -req -in "$1" -CA "$D/xinter.pem" -CAkey "$D/xinter.key" -CAcreateserial \
		-days 700 -extfile "$D/xsub.ext" -out "$2" 2>/dev/null || it_fail "the outside CA refused $1"
}

expect_rc 19 "$SIGNET" ca import ext --cert "$D/xinter.pem" --chain "$D/xroot.pem"
[[ $IT_ERR == *"CreateCaRequest"* ]] || it_fail "import without a request: $IT_ERR"
expect_rc 0 "$SIGNET" ca request ext --alg p256 --subject "/CN=Signet Sub-CA/O=Signet" --path-len 0 \
	--out "$D/ext.csr"
openssl req -in "$D/ext.csr" -verify -noout 2>/dev/null || it_fail "the sub-CA request's signature does not verify"
openssl req -in "$D/ext.csr" -noout -text | grep -A1 'Basic Constraints: critical' | grep -q 'CA:TRUE, pathlen:0' ||
	it_fail "the sub-CA request does not ask for CA:TRUE, pathlen:0"
# asked again before the import: a fresh request for the same pending key
expect_rc 0 "$SIGNET" ca request ext --subject "/CN=Signet Sub-CA/O=Signet" --path-len 0 --out "$D/ext-again.csr"
cmp -s <(openssl req -in "$D/ext.csr" -noout -pubkey) <(openssl req -in "$D/ext-again.csr" -noout -pubkey) ||
	it_fail "a repeated request made another key"
outside_sign "$D/ext.csr" "$D/ext1.pem"

# refusals: a certificate for another key, one that is no CA, a chain that does not verify
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/other.key" \
	-subj "/CN=Signet Sub-CA/O=Signet" -out "$D/other.csr" 2>/dev/null
outside_sign "$D/other.csr" "$D/other.pem"
expect_rc 13 "$SIGNET" ca import ext --cert "$D/other.pem" --chain "$D/xchain.pem"
[[ $IT_ERR == *"another key"* ]] || it_fail "import for another key: $IT_ERR"
openssl x509 -req -in "$D/ext.csr" -CA "$D/xinter.pem" -CAkey "$D/xinter.key" -CAcreateserial \
	-days 700 -out "$D/noca.pem" 2>/dev/null
expect_rc 13 "$SIGNET" ca import ext --cert "$D/noca.pem" --chain "$D/xchain.pem"
[[ $IT_ERR == *"not a CA certificate"* ]] || it_fail "import of a non-CA certificate: $IT_ERR"
expect_rc 13 "$SIGNET" ca import ext --cert "$D/ext1.pem" --chain "$D/xroot.pem"
[[ $IT_ERR == *"does not verify"* ]] || it_fail "import with a broken chain: $IT_ERR"
expect_rc 13 "$SIGNET" ca import ext --cert "$D/data"
expect_rc 0 "$SIGNET" ca list
grep -q '^ext ' "$D/out" && it_fail "a refused import registered the CA"

expect_rc 0 "$SIGNET" ca import ext --cert "$D/ext1.pem" --chain "$D/xchain.pem" --out "$D/ext-imported.pem"
cmp -s "$D/ext1.pem" "$D/ext-imported.pem" || it_fail "import --out is not the imported certificate"
expect_rc 0 "$SIGNET" ca chain ext --out "$D/ext-chain.pem"
[[ $(grep -c 'BEGIN CERTIFICATE' "$D/ext-chain.pem") -eq 3 ]] || it_fail "ext's chain is not ext, outside intermediate, outside root"
device ext dev-x
verify "$D/xroot.pem" "$D/dev-x.chain" "$D/dev-x.pem" || it_fail "a device of the imported sub-CA does not verify to the outside root"
[[ $(grep -c 'BEGIN CERTIFICATE' "$D/dev-x.chain") -eq 3 ]] || it_fail "issue --chain of the imported sub-CA"
# pathLen 0 from the outside CA holds: no CA below it
expect_rc 19 "$SIGNET" ca create-intermediate below-ext --parent ext --alg p256 --subject "/CN=Below"

# renewal of an imported sub-CA goes through its outside CA, with the same key
expect_rc 19 "$SIGNET" ca renew ext
[[ $IT_ERR == *"outside signet"* ]] || it_fail "RenewCa of an imported CA: $IT_ERR"
expect_rc 13 "$SIGNET" ca request ext --subject "/CN=Another Name" --out "$D/x.csr"
[[ $IT_ERR == *"keeps its subject"* ]] || it_fail "a renewal request with another subject: $IT_ERR"
expect_rc 0 "$SIGNET" ca request ext --out "$D/ext-renew.csr"
cmp -s <(openssl req -in "$D/ext.csr" -noout -pubkey) <(openssl req -in "$D/ext-renew.csr" -noout -pubkey) ||
	it_fail "the renewal request is not for ext's key"
outside_sign "$D/ext-renew.csr" "$D/ext2.pem"
expect_rc 0 "$SIGNET" ca import ext --cert "$D/ext2.pem" --chain "$D/xchain.pem"
expect_rc 0 "$SIGNET" ca chain ext --out "$D/ext-chain2.pem"
cmp -s <(openssl x509 -in "$D/ext-chain2.pem" -outform DER) <(openssl x509 -in "$D/ext2.pem" -outform DER) ||
	it_fail "the renewed outside certificate is not ext's current one"
verify "$D/xroot.pem" "$D/ext-chain2.pem" "$D/dev-x.pem" || it_fail "dev-x does not verify through ext's renewed certificate"

# --- all of it survives a restart ---
it_stop
it_start
expect_rc 0 "$SIGNET" ca chain issuing --out "$D/chain-after.pem"
cmp -s <(openssl x509 -in "$D/chain-after.pem" -outform DER) <(openssl x509 -in "$D/issuing4.pem" -outform DER) ||
	it_fail "after a restart, issuing's current certificate is not the last renewal"
expect_rc 0 "$SIGNET" ca chain ext --out "$D/ext-chain-after.pem"
cmp -s "$D/ext-chain2.pem" "$D/ext-chain-after.pem" || it_fail "after a restart, ext's chain changed"
device issuing dev-e
verify "$D/root2.pem" "$D/dev-e.chain" "$D/dev-e.pem" || it_fail "after a restart, issuing does not sign with its current key"
[[ -d $D/state/cas/issuing.old && -d $D/state/cas/root.old ]] || it_fail "replaced CA certificates were not archived"
it_stop
echo "ca_lifecycle: OK"
