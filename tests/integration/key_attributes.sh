#!/usr/bin/env bash
# What the token itself says signet's keys may do (pkcs11-tool, not our
# client): every private key signs and does nothing else (no decrypt, no
# unwrap, no derive: an RSA CA key that unwraps is a decryption oracle), is
# sensitive and never extractable; every public key only verifies. And
# `signet key list` shows the same usage.
source "$(dirname "$0")/lib.sh"
it_setup
it_start
D="$IT_DIR"

expect_rc 0 "$SIGNET" key generate --alg p256 ka-p256
expect_rc 0 "$SIGNET" key generate --alg p384 ka-p384
expect_rc 0 "$SIGNET" key generate --alg rsa2048 ka-rsa
expect_rc 0 "$SIGNET" ca create-root ka-root --alg rsa2048 --subject "/CN=Key Attributes Root" \
	--out "$D/root.pem"
keys=(ka-p256 ka-p384 ka-rsa ca.ka-root)

# The throwaway token's PIN reaches pkcs11-tool through its environment, not argv.
IT_PIN=$(cat "$SIGNET_USER_PIN_FILE")
export IT_PIN
list_objects() {
	pkcs11-tool --module "$SIGNET_PKCS11_MODULE" --token-label "$IT_LABEL" --login \
		--pin env:IT_PIN --list-objects --type "$1" 2>/dev/null ||
		it_fail "pkcs11-tool could not list the token's $1 objects"
}
list_objects privkey >"$D/priv.txt"
list_objects pubkey >"$D/pub.txt"

# block FILE LABEL: the lines pkcs11-tool prints for the object labelled LABEL.
block() {
	awk -v want="$2" '
		/^(Private|Public) Key Object/ { if (hit) exit; buf = $0 "\n"; inobj = 1; next }
		inobj { buf = buf $0 "\n" }
		inobj && $1 == "label:" { hit = ($2 == want) }
		END { if (hit) printf "%s", buf }' "$1"
}
# field BLOCK NAME: the value of "NAME:" in BLOCK, blanks trimmed.
field() {
	sed -n "s/^[[:space:]]*$2:[[:space:]]*//p" <<<"$1" | sed 's/[[:space:]]*$//'
}

for k in "${keys[@]}"; do
	b=$(block "$D/priv.txt" "$k")
	[[ -n $b ]] || it_fail "pkcs11-tool shows no private key labelled $k"
	usage=$(field "$b" Usage)
	[[ $usage == sign ]] || it_fail "private key $k: Usage '$usage', wanted exactly 'sign'"
	access=$(field "$b" Access)
	[[ $access == *sensitive* ]] || it_fail "private key $k: Access '$access' is not sensitive"
	[[ $access == *"never extractable"* ]] || it_fail "private key $k: Access '$access' is not 'never extractable'"
	[[ $access != *", extractable"* && $access != extractable* ]] ||
		it_fail "private key $k: Access '$access' says extractable"

	b=$(block "$D/pub.txt" "$k")
	[[ -n $b ]] || it_fail "pkcs11-tool shows no public key labelled $k"
	usage=$(field "$b" Usage)
	[[ $usage == verify ]] || it_fail "public key $k: Usage '$usage', wanted exactly 'verify'"
done

# The usage is fixed at generation: the token refuses to change any attribute
# (CKA_MODIFIABLE false; SoftHSM answers CKR_ACTION_PROHIBITED), so not even a PIN holder turns CKA_UNWRAP back on.
for k in ka-rsa ca.ka-root; do
	for type in privkey pubkey; do
		if pkcs11-tool --module "$SIGNET_PKCS11_MODULE" --token-label "$IT_LABEL" --login \
			--pin env:IT_PIN --label "$k" --type "$type" --set-id 0bad >"$D/setid" 2>&1; then
			it_fail "the token let pkcs11-tool change the $type $k: $(cat "$D/setid")"
		fi
		grep -q "C_SetAttributeValue failed" "$D/setid" || it_fail "set-id on $type $k: $(cat "$D/setid")"
	done
done

# The CLI reports the private key's usage, as the token has it.
expect_rc 0 "$SIGNET" key list
for k in "${keys[@]}"; do
	grep -q "^$k .* usage=sign\( \|$\)" "$D/out" || it_fail "key list does not show $k with usage=sign: $(cat "$D/out")"
done
expect_rc 0 "$SIGNET" key pub ka-rsa
it_stop
echo "ok"
