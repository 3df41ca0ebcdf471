#!/usr/bin/env bash
# The records' PostgreSQL server over TLS only: a private server with
# ssl = on, a test CA and a server certificate for 127.0.0.1 and localhost
# made by openssl, and pg_hba.conf with hostssl lines alone for TCP (no
# plain host line). With a real signetd:
#  a. sslmode=verify-full and sslrootcert=the CA over TCP: SignCsr issues a
#     certificate, its row is in the database, and every session of
#     signetd's is encrypted (pg_stat_ssl);
#  b. sslrootcert=another CA (same subject): signetd refuses to start, with
#     libpq's certificate-verification reason in its log;
#  c. sslmode=disable: the server refuses the session (hostssl only) and
#     signetd says so at start-up;
#  d. with clientcert=verify-full: sslcert/sslkey in the URI (a client
#     certificate from the test CA, CN signet, key 0600) work, and keep
#     working across a restart of the server; without them, with a
#     certificate for another name, with a key others may read, or with
#     an encrypted key (no passphrase prompt, even on a terminal), start-up
#     fails.
export SIGNET_TEST_BACKEND=pg
source "$(dirname "$0")/lib.sh"

# Only what the URI says: no TLS settings from the caller's environment
# (libpq reads them), no ~/.postgresql/postgresql.crt (libpq's default
# client certificate) from its home.
unset PGSSLMODE PGSSLROOTCERT PGSSLCERT PGSSLKEY PGSSLCRL PGSSLCRLDIR PGREQUIRESSL
export HOME=/nonexistent

it_setup
D=$IT_DIR
T=$D/tls

# --- certificates, made by openssl alone ---

# ca NAME: a self-signed test CA, T/NAME.pem and T/NAME.key, subject
# "/CN=pg_tls Test CA" for both CAs (so that names alone cannot tell them
# apart)
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1.key" \
		-subj "/CN=pg_tls Test CA" -days 2 -out "$T/$1.pem" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		2>"$T/$1.err" || it_fail "openssl: test CA $1: $(cat "$T/$1.err")"
}
# leaf NAME CN EXTENSION...: T/NAME.pem (signed by T/ca) and T/NAME.key (0600)
leaf() {
	local name=$1 cn=$2
	shift 2
	(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$name.key") ||
		it_fail "openssl: key for $name"
	openssl req -new -key "$T/$name.key" -subj "/CN=$cn" -out "$T/$name.csr" ||
		it_fail "openssl: CSR for $name"
	printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" "$@" \
		"subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" >"$T/$name.ext"
	openssl x509 -req -in "$T/$name.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -days 1 \
		-extfile "$T/$name.ext" -out "$T/$name.pem" 2>"$T/$name.err" ||
		it_fail "openssl: certificate for $name: $(cat "$T/$name.err")"
}

mkdir -m 0755 "$T"
ca ca
ca other-ca
leaf server localhost "subjectAltName=IP:127.0.0.1,DNS:localhost" "extendedKeyUsage=serverAuth"
leaf client signet "extendedKeyUsage=clientAuth"
leaf intruder intruder "extendedKeyUsage=clientAuth"
# the server reads its key as user postgres, and wants it private
((EUID != 0)) || chown postgres: "$T/server.key"

# --- the server: TLS, and TCP only over TLS ---
TLS_SETTINGS="ssl = on
ssl_cert_file = '$T/server.pem'
ssl_key_file = '$T/server.key'
ssl_ca_file = '$T/ca.pem'"
PG_SETTINGS_EXTRA=$TLS_SETTINGS PG_HBA_TCP="hostssl all all 127.0.0.1/32 scram-sha-256" pg_restart
pg_psql "SHOW ssl" >"$D/ssl" 2>&1 || it_fail "psql: SHOW ssl: $(cat "$D/ssl")"
[[ $(cat "$D/ssl") == on ]] || it_fail "want the server started with ssl = on; SHOW ssl says '$(cat "$D/ssl")'"

TCP="postgresql://signet@127.0.0.1:$PG_PORT/signet"
VERIFY="sslmode=verify-full&sslrootcert=$T/ca.pem"
it_write_config "$D/base.conf"

# config NAME URI: $D/NAME.conf, the records in database URI
config() {
	cp "$D/base.conf" "$D/$1.conf"
	printf 'records: {\n  database = "%s";\n  database_password_file = "%s";\n};\n' \
		"$2" "$PG_PASSWORD_FILE" >>"$D/$1.conf"
}

# refused NAME PATTERN WHAT: signetd on $D/NAME.conf exits non-zero at
# start-up, its output ($D/NAME.log) matching the grep -E PATTERN: libpq's or
# the server's words for WHAT.
refused() {
	local name=$1 pattern=$2 what=$3 rc=0
	timeout 30 "$SIGNETD" --config "$D/$name.conf" >"$D/$name.log" 2>&1 || rc=$?
	((rc != 124)) || it_fail "$name: want signetd to refuse to start ($what); it still ran after 30 s"
	((rc != 0)) || it_fail "$name: want signetd to refuse to start ($what); it exited 0"
	grep -qE -- "$pattern" "$D/$name.log" ||
		it_fail "$name: signetd exited $rc, but its log does not say /$pattern/ ($what); it says: $(grep -m1 ' error: ' "$D/$name.log" || tail -1 "$D/$name.log")"
	echo "$name: refused (exit $rc): $(grep -m1 -oE -- "$pattern.*" "$D/$name.log")"
}

# sessions_encrypted [CLIENT_DN]: signetd's sessions (application_name
# signetd) are all over TLS, with the client certificate CLIENT_DN when
# given (none when not)
sessions_encrypted() {
	local want_dn=${1:-} got
	got=$(pg_psql "SELECT count(*), count(*) FILTER (WHERE ssl), count(*) FILTER (WHERE
		coalesce(client_dn, '') = '$want_dn') FROM pg_stat_ssl JOIN pg_stat_activity USING (pid)
		WHERE application_name = 'signetd'") || it_fail "psql: pg_stat_ssl"
	IFS='|' read -r n ssl dn <<<"$got"
	((n > 0)) || it_fail "want signetd's sessions in pg_stat_activity (application_name signetd); there are none"
	((ssl == n)) || it_fail "want all $n sessions of signetd's over TLS (pg_stat_ssl.ssl); $ssl are"
	((dn == n)) || it_fail "want all $n sessions of signetd's with client_dn '$want_dn'; $dn have it: $(pg_psql \
		"SELECT DISTINCT client_dn FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE application_name = 'signetd'")"
	echo "$n sessions of signetd's, all over TLS$([[ -z $want_dn ]] || echo ", client certificate $want_dn")"
}

# --- a. verify-full against the test CA ---
config tls "$TCP?$VERIFY"
it_start "$D/tls.conf"
expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "/CN=pg_tls Root"
expect_rc 0 "$SIGNET" ca create-intermediate issuing --parent root --alg p256 --subject "/CN=pg_tls Issuing"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/dev.key" 2>/dev/null
openssl req -new -key "$D/dev.key" -subj /CN=tls-dev-1 -out "$D/dev.csr"
expect_rc 0 "$SIGNET" issue --ca issuing --profile device --csr "$D/dev.csr" --out "$D/dev.pem"
serial=$(openssl x509 -in "$D/dev.pem" -noout -serial | cut -d= -f2 | sed 's/^0*//')
rows=$(pg_psql "SELECT count(*) FROM issued WHERE ltrim(upper(serial), '0') = '$serial'")
[[ $rows == 1 ]] || it_fail "a: want the certificate issued ($serial) in table issued once; found $rows rows"
echo "a: SignCsr over TLS issued $serial, recorded in the database"
sessions_encrypted
it_stop

# --- b. the server's certificate checked against another CA ---
config wrong-ca "$TCP?sslmode=verify-full&sslrootcert=$T/other-ca.pem"
refused wrong-ca "certificate verify failed" "the server's certificate is not from sslrootcert's CA"

# --- c. no TLS: the server has no line for it ---
config plain "$TCP?sslmode=disable"
refused plain 'no pg_hba.conf entry for host "127\.0\.0\.1".*no encryption' \
	"the server accepts TCP over TLS only"

# --- d. a client certificate required ---
PG_SETTINGS_EXTRA=$TLS_SETTINGS PG_HBA_TCP="hostssl all all 127.0.0.1/32 scram-sha-256 clientcert=verify-full" \
	pg_restart
config no-cert "$TCP?$VERIFY"
refused no-cert "connection requires a valid client certificate" \
	"clientcert=verify-full, and the URI names no client certificate"
config intruder "$TCP?$VERIFY&sslcert=$T/intruder.pem&sslkey=$T/intruder.key"
# the server tells the client no more than that; its log says why
refused intruder 'password authentication failed for user "signet"' \
	"a client certificate for CN intruder, not the role signet"
grep -q 'clientcert=verify-full) failed for user "signet": CN mismatch' "$PG_DIR/postgres.log" ||
	it_fail "intruder: want the server to refuse the certificate for CN intruder (CN mismatch in its log); it says: $(tail -3 "$PG_DIR/postgres.log")"
[[ $(stat -c %a "$T/client.key") == 600 ]] || it_fail "d: want the client key 0600; it is $(stat -c %a "$T/client.key")"
# libpq's rule for a key that others may read, which signetd must pass on
install -m 0644 "$T/client.key" "$T/loose.key"
config loose-key "$TCP?$VERIFY&sslcert=$T/client.pem&sslkey=$T/loose.key"
refused loose-key "private key file .* has group or world access" "a client key of mode 0644"
# an encrypted client key: signetd takes no passphrase, and asks for none
# on a terminal (OpenSSL would, left alone), where it would wait for ever
keypass=$(openssl rand -hex 16)
KEYPASS=$keypass openssl pkey -in "$T/client.key" -aes256 -passout env:KEYPASS -out "$T/enc.key" ||
	it_fail "openssl: an encrypted copy of the client key"
config enc-key "$TCP?$VERIFY&sslcert=$T/client.pem&sslkey=$T/enc.key"
refused enc-key 'could not load private key file' "an encrypted client key"
grep -q 'the client key (sslkey) is encrypted' "$D/enc-key.log" ||
	it_fail "enc-key: want signetd to say the client key is encrypted; it says: $(grep -m1 ' error: ' "$D/enc-key.log")"
if command -v script >/dev/null; then
	rc=0
	timeout 30 script -qec "$(printf '%q --config %q' "$SIGNETD" "$D/enc-key.conf")" "$D/enc-tty.log" \
		</dev/null >/dev/null 2>&1 || rc=$?
	((rc != 124)) || it_fail "enc-key: want signetd on a terminal to refuse the encrypted key; it still ran after 30 s: $(tail -c 300 "$D/enc-tty.log")"
	! grep -qi 'pass phrase' "$D/enc-tty.log" ||
		it_fail "enc-key: want no passphrase prompt on signetd's terminal; it shows: $(grep -m1 -i 'pass phrase' "$D/enc-tty.log")"
	echo "enc-key: on a terminal too, refused (exit $rc) without a prompt"
fi
config client-cert "$TCP?$VERIFY&sslcert=$T/client.pem&sslkey=$T/client.key"
it_start "$D/client-cert.conf"
openssl req -new -key "$D/dev.key" -subj /CN=tls-dev-2 -out "$D/dev2.csr"
expect_rc 0 "$SIGNET" issue --ca issuing --profile device --csr "$D/dev2.csr" --out "$D/dev2.pem"
echo "d: SignCsr with a client certificate issued $(openssl x509 -in "$D/dev2.pem" -noout -serial)"
sessions_encrypted "/CN=signet"
# the server restarted under signetd: its new sessions are made the same way
PG_SETTINGS_EXTRA=$TLS_SETTINGS PG_HBA_TCP="hostssl all all 127.0.0.1/32 scram-sha-256 clientcert=verify-full" \
	pg_restart
it_until 20 "$SIGNET" --timeout 5000 issue --ca issuing --profile device --csr "$D/dev2.csr" \
	--out "$D/dev3.pem" 2>"$D/dev3.err" ||
	it_fail "d: want issuance back within 20 s of the server's restart; SignCsr still fails: $(tail -n 1 "$D/dev3.err")"
echo "d: issuance back after the server's restart"
sessions_encrypted "/CN=signet"
it_stop

# the database password never reached a log
! grep -qF "$(cat "$PG_PASSWORD_FILE")" "$D"/*.log || it_fail "the database password is in signetd's output"
! grep -qF "$keypass" "$D"/*.log || it_fail "the client key's passphrase is in signetd's output"
echo "pg_tls: OK"
