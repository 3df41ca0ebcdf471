/* --help texts. Kept next to each other so that they read as one manual. */
#include "help.h"

#include "namerule.h"

/* The characters of a name are the one rule (proto/namerule.h); the lengths are
 * signetd's limits for keys, CAs and codes, which the CLI does not define. */

#define GLOBAL_OPTIONS                                                                             \
	"Global options (before or after the command):\n"                                          \
	"  --endpoint URL[,URL...]  signetd's address, or several signetd sharing the\n"           \
	"                   load (default: $" SIGNET_ENDPOINT_ENV ", else\n"                       \
	"                   " SIGNET_DEFAULT_ENDPOINT ")\n"                                        \
	"  --timeout MS     give up on signetd after MS milliseconds (default 30000)\n"            \
	"  --retries N      ask again, within the timeout, when no answer came (0-10,\n"           \
	"                   default 0; only for commands that are safe to repeat)\n"               \
	"  --client NAME    authenticate as client NAME (default: $" CLI_CLIENT_ENV ")\n"          \
	"  --secret-file FILE  read that client's secret from FILE, mode 600 (default:\n"          \
	"                   $" CLI_SECRET_FILE_ENV "); --client and --secret-file go together\n"   \
	"  -h, --help       show this help\n"

#define EXIT_CODES                                                                                 \
	"Exit codes: 0 ok, 1 local failure (files), 2 usage error, 3 could not talk to\n"          \
	"signetd, 4 the audit log does not verify, 5 'issue --batch': some inputs were\n"          \
	"not issued (see the manifest), 10+N signetd answered gRPC status N\n"                     \
	"(13 INVALID_ARGUMENT, 15 NOT_FOUND, 16 ALREADY_EXISTS, 17 PERMISSION_DENIED,\n"           \
	"22 UNIMPLEMENTED, 24 UNAVAILABLE, 26 UNAUTHENTICATED, ...).\n"

static const char help_overview[] =
	"Usage: signet [--endpoint URL[,URL...]] [--timeout MS] [--retries N]\n"
	"              [--client NAME --secret-file FILE]\n"
	"              [--help] [--version] COMMAND ...\n"
	"\n"
	"Talk to signetd, which keeps private keys inside a hardware token.\n"
	"\n"
	"Commands:\n"
	"  info                       describe the daemon and its token\n"
	"  health                     check that signetd serves; exit 0 only if it does\n"
	"  key generate --alg ALG NAME  create a key pair on the token\n"
	"  key pub NAME               print a public key (SubjectPublicKeyInfo)\n"
	"  key list                   list the keys on the token\n"
	"  key delete NAME            delete a key pair\n"
	"  csr NAME --subject DN      create a PKCS#10 request signed by key NAME\n"
	"  sign NAME --in FILE        sign a file (or a digest) with key NAME\n"
	"  ca create-root NAME --subject DN --alg ALG\n"
	"                             create a root CA whose key stays on the token\n"
	"  ca create-intermediate NAME --parent CA --subject DN --alg ALG\n"
	"                             create a CA signed by the signet CA named CA\n"
	"  ca request NAME --subject DN --alg ALG\n"
	"                             a key and a CSR for a CA that an outside CA signs\n"
	"  ca import NAME --cert FILE\n"
	"                             register the certificate the outside CA returned\n"
	"  ca renew NAME              a new certificate for the CA's key\n"
	"  ca rekey NAME              a new key and certificate for the CA\n"
	"  ca chain NAME              print a CA's chain, the CA first and its root last\n"
	"  ca list                    list the CAs\n"
	"  ca verify-code CA CODE     a certificate with CN=CODE signed by CA: proof of\n"
	"                             possession for a cloud registry (Azure, AWS IoT)\n"
	"  issue --ca CA --profile PROFILE --csr FILE\n"
	"                             sign a CSR with CA under PROFILE\n"
	"  issue --ca CA --profile PROFILE --batch DIR|FILE\n"
	"                             sign many, in batches, with a manifest\n"
	"  ledger list [--ca CA] ...  list the certificates signet issued\n"
	"  ledger get SERIAL          print a certificate signet issued\n"
	"  revoke CA SERIAL [--reason REASON]\n"
	"                             revoke a certificate CA issued\n"
	"  crl CA                     a CRL signed now by CA's key on the token\n"
	"  audit verify FILE          check the hash chain of signetd's audit log (local)\n"
	"  challenge create (--device-id ID | --fingerprint HEX64)\n"
	"                             a nonce for a device to sign: proof of possession\n"
	"  challenge verify CHALLENGE_ID --chain FILE --sig FILE\n"
	"                             check a device's chain and its signature of the nonce\n"
	"  verify-chain --chain FILE  check a certificate chain up to a trust anchor\n"
	"  enrol code NAME [--device-id ID]\n"
	"                             a single-use SCEP challengePassword for enrolment NAME\n"
	"\n" GLOBAL_OPTIONS "  --version        print the version and exit\n"
	"\n"
	"Run 'signet COMMAND --help' for a command's options.\n"
	"\n" EXIT_CODES;

static const char help_info[] =
	"Usage: signet info\n"
	"\n"
	"Print signetd's version and protocol, the token's label, serial, model,\n"
	"manufacturer and slot, the key algorithms it can generate, the methods\n"
	"signetd serves, its worker count and its message size limit, one\n"
	"'name: value' per line.\n"
	"\n" GLOBAL_OPTIONS;

static const char help_health[] =
	"Usage: signet health\n"
	"\n"
	"Print \"SERVING token=STATE uptime=Ns\" and exit 0 when signetd serves and its\n"
	"token works. Otherwise exit non-zero (24 UNAVAILABLE when signetd answers that\n"
	"it is not serving, 3 when it does not answer).\n"
	"\n" GLOBAL_OPTIONS;

static const char help_key[] = "Usage: signet key SUBCOMMAND ...\n"
			       "\n"
			       "  key generate --alg p256|p384|rsa2048|rsa3072|rsa4096 NAME\n"
			       "  key pub NAME [--der] [--out FILE]\n"
			       "  key list\n"
			       "  key delete NAME\n"
			       "\n"
			       "A key NAME is its label on the token: 1-64 of " NAME_CHARS_TEXT "\n"
			       "Run 'signet key SUBCOMMAND --help' for details.\n"
			       "\n" GLOBAL_OPTIONS;

static const char help_key_generate[] =
	"Usage: signet key generate --alg p256|p384|rsa2048|rsa3072|rsa4096\n"
	"                           [--purpose sign|ra] NAME\n"
	"\n"
	"Generate a key pair named NAME on the token. The private key never leaves it.\n"
	"Prints the key as 'key list' does:\n"
	"NAME ALG ID sensitive=yes|no extractable=yes|no usage=USAGE\n"
	"\n"
	"  --alg ALG        p256, p384 (ECDSA) or rsa2048, rsa3072, rsa4096 (required)\n"
	"  --purpose P      sign (default): the key only signs; ra: a SCEP registration\n"
	"                   authority's key (RSA only), which also decrypts what SCEP\n"
	"                   clients encrypt to its certificate (docs/scep.md)\n"
	"\n" GLOBAL_OPTIONS;

static const char help_key_pub[] =
	"Usage: signet key pub NAME [--der] [--out FILE]\n"
	"\n"
	"Write the public key of NAME as a SubjectPublicKeyInfo, PEM by default.\n"
	"\n"
	"  --der            write DER instead of PEM\n"
	"  --out FILE       write to FILE instead of standard output ('-': stdout)\n"
	"\n" GLOBAL_OPTIONS;

static const char help_key_list[] =
	"Usage: signet key list\n"
	"\n"
	"One line per key: NAME ALG ID sensitive=yes|no extractable=yes|no usage=USAGE\n"
	"(ID is the CKA_ID in hex, '-' when empty; USAGE is what the private key may do\n"
	"on the token, of sign, decrypt, unwrap, derive, comma-separated, '-' for none).\n"
	"\n" GLOBAL_OPTIONS;

static const char help_key_delete[] =
	"Usage: signet key delete NAME\n"
	"\n"
	"Delete the key pair NAME from the token. Prints nothing on success.\n"
	"\n" GLOBAL_OPTIONS;

static const char help_csr[] =
	"Usage: signet csr NAME --subject /CN=x/O=y [--dns NAME]... [--ip ADDR]...\n"
	"                  [--uri URI]... [--email ADDR]... [--hash sha256|sha384|sha512]\n"
	"                  [--der] [--out FILE]\n"
	"\n"
	"Create a PKCS#10 certificate request for key NAME, signed on the token.\n"
	"\n"
	"  --subject DN     subject in OpenSSL form, /CN=device-1/O=Example (required)\n"
	"  --dns NAME       add a DNS subject alternative name (repeatable)\n"
	"  --ip ADDR        add an IP address SAN, IPv4 or IPv6 (repeatable)\n"
	"  --uri URI        add a URI SAN (repeatable)\n"
	"  --email ADDR     add an email SAN (repeatable)\n"
	"  --hash HASH      sha256, sha384 or sha512 (default: sha384 for p384 keys,\n"
	"                   else sha256)\n"
	"  --der            write DER instead of PEM\n"
	"  --out FILE       write to FILE instead of standard output ('-': stdout)\n"
	"\n" GLOBAL_OPTIONS;

static const char help_sign[] =
	"Usage: signet sign NAME --in FILE|- [--out FILE|-] [--digest]\n"
	"                   [--hash sha256|sha384|sha512] [--format der|raw|pkcs1|pss]\n"
	"\n"
	"Sign the contents of FILE with key NAME; the raw signature bytes go to\n"
	"standard output unless --out names a file. Input is limited to 1 MiB.\n"
	"\n"
	"  --in FILE        what to sign ('-': standard input) (required)\n"
	"  --out FILE       where the signature goes ('-': stdout, the default)\n"
	"  --digest         FILE already holds a digest of --hash's length\n"
	"  --hash HASH      sha256, sha384 or sha512 (default: sha384 for p384 keys,\n"
	"                   else sha256)\n"
	"  --format FMT     der: ECDSA-Sig-Value (EC default), raw: r||s (COSE, JOSE),\n"
	"                   pkcs1: RSASSA-PKCS1-v1_5 (RSA default), pss: RSASSA-PSS\n"
	"\n" GLOBAL_OPTIONS;

#define CA_LINE_FORMAT                                                                             \
	"NAME parent=PARENT|- subject=SUBJECT not_after=YYYY-MM-DDTHH:MM:SSZ path_len=N|none"

#define CA_CREATE_REQUIRED                                                                         \
	"  --subject DN     subject in OpenSSL form, /CN=Example CA/O=Example (required)\n"        \
	"  --alg ALG        the CA key: p256, p384 (ECDSA) or rsa2048, rsa3072, rsa4096\n"         \
	"                   (required)\n"

#define CA_CREATE_OPTIONAL                                                                         \
	"  --path-len N     allow at most N CA levels below this one (0 to 32; default:\n"         \
	"                   no limit)\n"                                                           \
	"  --hash HASH      sha256, sha384 or sha512 for the certificate's signature\n"            \
	"                   (default: sha384 for p384 signing keys, else sha256)\n"                \
	"  --out FILE       also write the new certificate to FILE as PEM ('-': stdout)\n"

static const char help_ca[] =
	"Usage: signet ca SUBCOMMAND ...\n"
	"\n"
	"  ca create-root NAME --subject DN --alg ALG [--days N] [--path-len N]\n"
	"                 [--hash HASH] [--out FILE]\n"
	"  ca create-intermediate NAME --parent CA --subject DN --alg ALG [--days N]\n"
	"                 [--path-len N] [--hash HASH] [--out FILE]\n"
	"  ca request NAME [--subject DN] [--alg ALG] [--path-len N] [--hash HASH]\n"
	"                 [--out FILE]\n"
	"  ca import NAME --cert FILE [--chain FILE] [--out FILE]\n"
	"  ca renew NAME [--days N] [--hash HASH] [--out FILE]\n"
	"  ca rekey NAME [--alg ALG] [--days N] [--hash HASH] [--out FILE]\n"
	"                 [--link-out FILE]\n"
	"  ca chain NAME [--out FILE]\n"
	"  ca list\n"
	"  ca verify-code CA CODE [--days N] [--out FILE] [--der]\n"
	"\n"
	"A CA's key is generated on the token as 'ca.NAME' ('caN.NAME' after re-keys)\n"
	"and never leaves it.\n"
	"A CA NAME is 1-60 of " NAME_CHARS_TEXT "\n"
	"Run 'signet ca SUBCOMMAND --help' for details.\n"
	"\n" GLOBAL_OPTIONS;

static const char help_ca_create_root[] =
	"Usage: signet ca create-root NAME --subject DN --alg ALG [--days N]\n"
	"                             [--path-len N] [--hash HASH] [--out FILE]\n"
	"\n"
	"Generate the key 'ca.NAME' on the token and a self-signed CA certificate for it.\n"
	"Prints the new CA as 'ca list' does:\n" CA_LINE_FORMAT "\n"
	"\n" CA_CREATE_REQUIRED
	"  --days N         validity in days, 1 to 36500 (default 3650)\n" CA_CREATE_OPTIONAL
	"\n" GLOBAL_OPTIONS;

static const char help_ca_create_intermediate[] =
	"Usage: signet ca create-intermediate NAME --parent CA --subject DN --alg ALG\n"
	"                 [--days N] [--path-len N] [--hash HASH] [--out FILE]\n"
	"\n"
	"Generate the key 'ca.NAME' on the token and a CA certificate for it, signed by\n"
	"the signet CA named CA. Prints the new CA as 'ca list' does:\n" CA_LINE_FORMAT "\n"
	"\n"
	"  --parent CA      the signet CA that signs it (required)\n" CA_CREATE_REQUIRED
	"  --days N         validity in days, 1 to 36500 (default 1825); never beyond\n"
	"                   the parent's\n" CA_CREATE_OPTIONAL "\n" GLOBAL_OPTIONS;

static const char help_ca_request[] =
	"Usage: signet ca request NAME [--subject DN] [--alg ALG] [--path-len N]\n"
	"                         [--hash HASH] [--out FILE]\n"
	"\n"
	"Step 1 of a CA that an outside CA signs: generate its key 'ca.NAME' on the token\n"
	"and write a PKCS#10 request for it (CA:TRUE, keyCertSign) as PEM, to standard\n"
	"output or FILE. Standard error gets 'NAME key=LABEL', the key's token label.\n"
	"Asking again for a pending CA gives a fresh request for the same key; for a CA\n"
	"signet holds, a request for its current key (to renew with the outside CA;\n"
	"without --subject and --path-len it keeps the CA's). Then 'signet ca import\n"
	"NAME --cert FILE'.\n"
	"\n"
	"  --subject DN     subject in OpenSSL form, /CN=Example Sub-CA/O=Example\n"
	"                   (a new CA needs one: exit 13 without)\n"
	"  --alg ALG        a new CA's key: p256, p384, rsa2048, rsa3072, rsa4096\n"
	"                   (a new CA needs one: exit 13 without)\n"
	"  --path-len N     ask for at most N CA levels below (0 to 32); the outside CA\n"
	"                   decides\n"
	"  --hash HASH      sha256, sha384 or sha512 for the request's signature\n"
	"  --out FILE       write to FILE instead of standard output ('-': stdout)\n"
	"\n" GLOBAL_OPTIONS;

static const char help_ca_import[] =
	"Usage: signet ca import NAME --cert FILE [--chain FILE] [--out FILE]\n"
	"\n"
	"Step 2: register the certificate the outside CA returned for 'ca request NAME'\n"
	"(or a renewal of it). signetd checks that it certifies the CA's token key, is a\n"
	"CA certificate allowed to sign certificates, is valid now, and verifies up to a\n"
	"self-signed root in --chain or to a CA signet holds. Prints the CA as 'ca list'\n"
	"does:\n" CA_LINE_FORMAT "\n"
	"\n"
	"  --cert FILE      the CA's certificate, PEM or DER ('-': standard input)\n"
	"                   (required)\n"
	"  --chain FILE     its issuers, nearest first, as concatenated PEM or DER\n"
	"  --out FILE       also write the CA's certificate to FILE as PEM ('-': stdout)\n"
	"\n" GLOBAL_OPTIONS;

#define CA_REPLACE_OPTIONS                                                                         \
	"  --days N         validity in days, 1 to 36500 (default: the current\n"                  \
	"                   certificate's length; never beyond the parent's)\n"                    \
	"  --hash HASH      sha256, sha384 or sha512 for the certificate's signature\n"            \
	"  --out FILE       also write the new certificate to FILE as PEM ('-': stdout)\n"

static const char help_ca_renew[] =
	"Usage: signet ca renew NAME [--days N] [--hash HASH] [--out FILE]\n"
	"\n"
	"A new certificate for CA NAME: same key, same subject, a new serial and\n"
	"validity, from the same parent (self-signed for a root). What the CA issued\n"
	"keeps verifying. A CA an outside CA signed is renewed with 'ca request' and\n"
	"'ca import' instead (exit 19). Prints the CA as 'ca list' does:\n" CA_LINE_FORMAT "\n"
	"\n" CA_REPLACE_OPTIONS "\n" GLOBAL_OPTIONS;

static const char help_ca_rekey[] =
	"Usage: signet ca rekey NAME [--alg ALG] [--days N] [--hash HASH] [--out FILE]\n"
	"                       [--link-out FILE]\n"
	"\n"
	"A new token key and certificate for CA NAME, same subject. The old key and\n"
	"certificate are kept, so what they issued still verifies. Prints the CA as\n"
	"'ca list' does:\n" CA_LINE_FORMAT "\n"
	"\n"
	"  --alg ALG        the new key: p256, p384, rsa2048, rsa3072, rsa4096 (default:\n"
	"                   the current key's)\n" CA_REPLACE_OPTIONS
	"  --link-out FILE  write the link certificate (the new root's key certified by\n"
	"                   the old root) to FILE as PEM. Only roots whose pathLen is not\n"
	"                   0 get one; otherwise a note on standard error, no FILE.\n"
	"\n" GLOBAL_OPTIONS;

static const char help_ca_chain[] =
	"Usage: signet ca chain NAME [--out FILE]\n"
	"\n"
	"Write the certificate chain of CA NAME as PEM: NAME's certificate first, its\n"
	"root's last.\n"
	"\n"
	"  --out FILE       write to FILE instead of standard output ('-': stdout)\n"
	"\n" GLOBAL_OPTIONS;

static const char help_ca_list[] = "Usage: signet ca list\n"
				   "\n"
				   "One line per CA:\n" CA_LINE_FORMAT "\n"
				   "(parent '-' for a root; times in UTC).\n"
				   "\n" GLOBAL_OPTIONS;

static const char help_ca_verify_code[] =
	"Usage: signet ca verify-code CA CODE [--days N] [--out FILE] [--der]\n"
	"\n"
	"Prove to a cloud registry that you hold the key of the signet CA named CA: write\n"
	"a certificate whose subject is exactly CN=CODE, signed by CA's token key, for a\n"
	"throwaway key whose private half signetd discards. CODE is the registry's\n"
	"verification code (Azure IoT Hub/DPS \"verify certificate\", AWS IoT\n"
	"registration code): 1-64 of " NAME_CHARS_TEXT " (signetd checks it; exit 13\n"
	"otherwise). Exit 15 when there is no such CA.\n"
	"\n"
	"  --days N         validity in days, 1 to 365 (default 30; never beyond the CA's)\n"
	"  --out FILE       write to FILE instead of standard output ('-': stdout)\n"
	"  --der            write DER instead of PEM\n"
	"\n" GLOBAL_OPTIONS;

static const char help_issue[] =
	"Usage: signet issue --ca CA --profile PROFILE --csr FILE [--days N]\n"
	"                    [--subject DN] [--dns NAME]... [--ip ADDR]... [--uri URI]...\n"
	"                    [--out FILE] [--chain FILE] [--der]\n"
	"       signet issue --ca CA --profile PROFILE --batch DIR|FILE [--days N]\n"
	"                    [--out-dir DIR] [--manifest FILE] [--batch-size N]\n"
	"                    [--chain FILE]\n"
	"\n"
	"Have the signet CA named CA sign the PKCS#10 request in FILE (PEM or DER; '-':\n"
	"standard input) under PROFILE, and write the certificate as PEM. signetd checks\n"
	"the request's own signature and the profile's rules (key type, subject, CN\n"
	"pattern, SANs, validity); a refusal names the rule.\n"
	"\n"
	"Built-in profiles (signetd's config may change them or add others):\n"
	"  device              client certificate, CN = device ID (Azure IoT, AWS IoT)\n"
	"  constrained-device  the same for CoAP/DTLS devices: P-256 and SHA-256 only\n"
	"  server              TLS server certificate; at least one DNS or IP SAN\n"
	"  intermediate        a CA certificate (pathLen 0) for a CSR made elsewhere\n"
	"\n"
	"  --ca CA          the signet CA that signs (required)\n"
	"  --profile NAME   the profile (required)\n"
	"  --csr FILE       the request (required)\n"
	"  --days N         validity in days (default: the profile's; never beyond the CA's)\n"
	"  --subject DN     replace the request's subject, if the profile allows it\n"
	"  --dns, --ip, --uri  replace the request's SANs, if the profile allows it\n"
	"  --out FILE       write the certificate to FILE instead of standard output\n"
	"  --chain FILE     also write the CA's chain to FILE (the CA first, the root last)\n"
	"  --der            write the certificate as DER\n"
	"\n"
	"With --batch, every CSR of DIR (its *.csr, *.pem and *.der files, in name order)\n"
	"or of the PEM bundle FILE, sent --batch-size at a time (SignCsrBatch):\n"
	"  --out-dir DIR    where the certificates go: DIR/NAME.pem for DIR's NAME.csr,\n"
	"                   DIR/N.pem for the bundle's N-th CSR (default: .)\n"
	"  --manifest FILE  one row per input: input, output, serial, subject, status,\n"
	"                   message; CSV for FILE.csv, else JSON (default: JSON on\n"
	"                   standard output)\n"
	"  --batch-size N   CSRs per request, 1 to 4096 (default 256; signetd's\n"
	"                   server.max_batch_csrs may be lower)\n"
	"Each input's request id comes from its bytes, CA, profile and --days: the same\n"
	"command run again (after a crash, say) gets the certificates issued already\n"
	"instead of new ones. Exit 0 when every input was issued, 5 when some were not\n"
	"(the manifest says which and why).\n"
	"\n" GLOBAL_OPTIONS;

static const char help_audit[] = "Usage: signet audit SUBCOMMAND ...\n"
				 "\n"
				 "  audit verify FILE\n"
				 "\n"
				 "Run 'signet audit SUBCOMMAND --help' for details.\n"
				 "\n" GLOBAL_OPTIONS;

static const char help_audit_verify[] =
	"Usage: signet audit verify FILE\n"
	"\n"
	"Check the hash chain of signetd's audit log FILE ('-': standard input) without\n"
	"asking signetd: every line must carry the SHA-256 of the line before it (64\n"
	"zeros on the first) and end with a newline, 8192 bytes at most. Prints\n"
	"'FILE: OK (N lines)' and exits 0 when it does. Otherwise prints\n"
	"'signet: AUDIT: FILE line N: reason' on standard error and exits 4: a line was\n"
	"edited, removed, moved or torn at or before line N. Lines removed from the end\n"
	"leave no trace in the chain; compare the last line's seq with what you expect.\n"
	"Exit 1 when FILE cannot be read.\n"
	"\n" GLOBAL_OPTIONS;

#define ISSUED_LINE_FORMAT                                                                         \
	"SERIAL ca=CA profile=P subject=DN not_after=TIME status=valid|revoked(REASON)"

static const char help_ledger[] =
	"Usage: signet ledger SUBCOMMAND ...\n"
	"\n"
	"  ledger list [--ca CA] [--profile PROFILE] [--subject TEXT] [--serial SERIAL]\n"
	"              [--valid-at T] [--expires-after T] [--expires-before T]\n"
	"              [--revoked|--not-revoked] [--limit N] [--page TOKEN] [--all]\n"
	"  ledger get SERIAL [--out FILE] [--der]\n"
	"  ledger get --fingerprint HEX64 [--out FILE] [--der]\n"
	"\n"
	"signetd records every certificate it issues before it returns it.\n"
	"Run 'signet ledger SUBCOMMAND --help' for details.\n"
	"\n" GLOBAL_OPTIONS;

static const char help_ledger_list[] =
	"Usage: signet ledger list [--ca CA] [--profile PROFILE] [--subject TEXT]\n"
	"                          [--serial SERIAL] [--valid-at T] [--expires-after T]\n"
	"                          [--expires-before T]\n"
	"                          [--revoked|--not-revoked] [--limit N] [--page TOKEN]\n"
	"                          [--all]\n"
	"\n"
	"One line per certificate signet issued, oldest first:\n" ISSUED_LINE_FORMAT "\n"
	"(TIME is YYYY-MM-DDTHH:MM:SSZ in UTC; '-' for an empty field). The filters\n"
	"combine. One page of at most N certificates is printed; when more follow,\n"
	"standard error says so and gives the --page TOKEN of the next page. --all\n"
	"follows the pages to the end.\n"
	"\n"
	"  --ca CA          issued by the signet CA named CA\n"
	"  --profile NAME   issued under the profile NAME ('ca' for CA certificates)\n"
	"  --subject TEXT   whose subject contains TEXT, ignoring case\n"
	"  --serial SERIAL  with that serial (hex)\n"
	"  --valid-at T     valid at Unix time T, or now\n"
	"  --expires-after T   notAfter at or after T (a Unix time, or now)\n"
	"  --expires-before T  notAfter before T; with --expires-after now: what\n"
	"                      expires before T and is still valid (renewal planning)\n"
	"  --revoked        revoked ones only\n"
	"  --not-revoked    unrevoked ones only\n"
	"  --limit N        at most N certificates a page, 1 to 100 (default 100)\n"
	"  --page TOKEN     start at the page TOKEN names\n"
	"  --all            every page, not just the first\n"
	"\n" GLOBAL_OPTIONS;

static const char help_ledger_get[] =
	"Usage: signet ledger get SERIAL [--out FILE] [--der]\n"
	"       signet ledger get --fingerprint HEX64 [--out FILE] [--der]\n"
	"\n"
	"Write the certificate signet issued with serial SERIAL (hex, as\n"
	"'openssl x509 -serial' prints it), or the newest one for the public key whose\n"
	"SubjectPublicKeyInfo has SHA-256 HEX64, as PEM. Standard error gets its line as\n"
	"'ledger list' prints it. Exit 15 when the ledger has none.\n"
	"\n"
	"  --fingerprint HEX64  SHA-256 of the DER public key, 64 hex digits:\n"
	"                   openssl pkey -pubin -outform DER | sha256sum\n"
	"  --out FILE       write to FILE instead of standard output ('-': stdout)\n"
	"  --der            write DER instead of PEM\n"
	"\n" GLOBAL_OPTIONS;

static const char help_revoke[] =
	"Usage: signet revoke CA SERIAL [--reason REASON] [--invalidity-date UNIXTIME]\n"
	"\n"
	"Revoke the certificate with serial SERIAL that the signet CA named CA issued (an\n"
	"intermediate's own certificate is revoked by its parent): CA's CRLs list it from\n"
	"then on. Prints its line as 'ledger list' does:\n" ISSUED_LINE_FORMAT "\n"
	"Exit 15 for an unknown CA or SERIAL, 19 when another CA issued SERIAL, 16 when it\n"
	"is revoked already.\n"
	"\n"
	"  --reason REASON  the RFC 5280 reason, case ignored: keyCompromise,\n"
	"                   cACompromise, affiliationChanged, superseded,\n"
	"                   cessationOfOperation, certificateHold, privilegeWithdrawn,\n"
	"                   aACompromise or unspecified (the default)\n"
	"  --invalidity-date UNIXTIME\n"
	"                   when the key is known or suspected to have been compromised\n"
	"\n" GLOBAL_OPTIONS;

static const char help_crl[] =
	"Usage: signet crl CA [--key LABEL] [--out FILE] [--der]\n"
	"\n"
	"Write a CRL (v2) of the certificates the signet CA named CA revoked, signed now\n"
	"by CA's key on the token with the next CRL number, as PEM. Exit 15 when there is\n"
	"no such CA or key.\n"
	"\n"
	"  --key LABEL      an earlier key of the CA ('ca.NAME' before a re-key), for what\n"
	"                   that key issued (default: the current key)\n"
	"  --out FILE       write to FILE instead of standard output ('-': stdout)\n"
	"  --der            write DER instead of PEM\n"
	"\n" GLOBAL_OPTIONS;

#define VERIFIED_LINE_FORMAT "OK device=ID fingerprint=HEX64 serial=SERIAL ca=CA"

static const char help_challenge[] =
	"Usage: signet challenge SUBCOMMAND ...\n"
	"\n"
	"  challenge create (--device-id ID | --fingerprint HEX64) [--ttl SECONDS]\n"
	"                   [--nonce-out FILE]\n"
	"  challenge verify CHALLENGE_ID --chain FILE --sig FILE\n"
	"                   [--format der|raw|pkcs1|pss] [--hash sha256|sha384|sha512]\n"
	"\n"
	"Proof of possession: signetd hands out a single-use nonce bound to a device, the\n"
	"device signs it with its private key, and signetd checks the device's chain and\n"
	"signature. Run 'signet challenge SUBCOMMAND --help' for details.\n"
	"\n" GLOBAL_OPTIONS;

static const char help_challenge_create[] =
	"Usage: signet challenge create (--device-id ID | --fingerprint HEX64)\n"
	"                               [--ttl SECONDS] [--nonce-out FILE]\n"
	"\n"
	"Ask signetd for a fresh single-use challenge for one device, and print\n"
	"'CHALLENGE_ID nonce=HEX expires=YYYY-MM-DDTHH:MM:SSZ' (UTC). The device signs\n"
	"the nonce's bytes as a message ('signet sign KEY --in FILE', or\n"
	"'openssl dgst -sha256 -sign KEY -out SIG FILE'); then 'signet challenge verify'.\n"
	"Only the credential that asked can use it, once. Exit 18 when too many\n"
	"challenges are outstanding, 13 for a TTL over signetd's maximum.\n"
	"\n"
	"  --device-id ID   the device's ID: its leaf certificate's CN (case ignored)\n"
	"  --fingerprint HEX64  or the SHA-256 of its DER public key, 64 hex digits:\n"
	"                   openssl pkey -pubin -outform DER | sha256sum\n"
	"  --ttl SECONDS    how long it may be used, 1 to 86400 (default: signetd's,\n"
	"                   60 unless configured; never beyond its maximum)\n"
	"  --nonce-out FILE also write the nonce's raw bytes to FILE ('-': stdout)\n"
	"\n" GLOBAL_OPTIONS;

static const char help_challenge_verify[] =
	"Usage: signet challenge verify CHALLENGE_ID --chain FILE --sig FILE\n"
	"                   [--format der|raw|pkcs1|pss] [--hash sha256|sha384|sha512]\n"
	"\n"
	"Have signetd check a device's answer to challenge CHALLENGE_ID: the challenge\n"
	"is unused, unexpired and yours; the chain verifies up to a trust anchor (purpose\n"
	"client, nothing revoked); its leaf is the challenge's device; the signature over\n"
	"the nonce verifies with the leaf's key. The challenge is used up either way.\n"
	"Prints '" VERIFIED_LINE_FORMAT "'\n"
	"('-' for an empty field; ca is '-' for a leaf another CA issued). A failure\n"
	"names the check: exit 15 unknown challenge, 19 used (a replay) or expired,\n"
	"26 chain, key usage, revocation or signature, 17 not the challenge's device,\n"
	"13 a chain or signature that cannot be read.\n"
	"\n"
	"  --chain FILE     the device's chain, leaf first, PEM or DER (required)\n"
	"  --sig FILE       its signature over the nonce (required)\n"
	"  --format FMT     der, raw, pkcs1 or pss, as 'signet sign' (default: der for EC\n"
	"                   leaves, pkcs1 for RSA)\n"
	"  --hash HASH      sha256, sha384 or sha512 (default: sha384 for P-384 leaves,\n"
	"                   else sha256)\n"
	"\n" GLOBAL_OPTIONS;

static const char help_enrol[] =
	"Usage: signet enrol SUBCOMMAND ...\n"
	"\n"
	"  enrol code NAME [--device-id ID] [--ttl SECONDS]\n"
	"  enrol cacerts NAME [--out FILE]\n"
	"\n"
	"Enrolment doors (enrolment.NAME in signetd.conf): devices ask for certificates\n"
	"by SCEP through signet-gatewayd. docs/scep.md.\n"
	"\n" GLOBAL_OPTIONS;

static const char help_enrol_code[] =
	"Usage: signet enrol code NAME [--device-id ID] [--ttl SECONDS]\n"
	"\n"
	"Make a single-use challengePassword for enrolment NAME (one with challenge =\n"
	"\"codes\") and print 'CODE expires=YYYY-MM-DDTHH:MM:SSZ'. Give it to one device;\n"
	"its SCEP request carries it in the CSR. Needs an admin client.\n"
	"\n"
	"  --device-id ID   only a CSR whose CN is ID may use it\n"
	"  --ttl SECONDS    how long it may be used, 1 to 86400 (default 86400)\n"
	"\n" GLOBAL_OPTIONS;

static const char help_enrol_cacerts[] =
	"Usage: signet enrol cacerts NAME [--out FILE]\n"
	"\n"
	"Print the GetCACaps lines of enrolment NAME, one a line, and write what SCEP\n"
	"GetCACert answers (a certs-only PKCS#7, DER: the issuing CA, the RA, the rest\n"
	"of the chain) to FILE.\n"
	"\n"
	"  --out FILE       where the PKCS#7 goes ('-': stdout; default: not written)\n"
	"\n" GLOBAL_OPTIONS;

static const char help_enrol_scep[] =
	"Usage: signet enrol scep NAME --in FILE [--out FILE]\n"
	"\n"
	"Send one raw SCEP pkiMessage (DER) through enrolment NAME, as signet-gatewayd\n"
	"does, write the CertRep (DER) and print 'STATUS failInfo=FAIL txid=ID'. For\n"
	"debugging and tests.\n"
	"\n"
	"  --in FILE        the pkiMessage ('-': stdin; required)\n"
	"  --out FILE       where the CertRep goes ('-': stdout; default: not written)\n"
	"\n" GLOBAL_OPTIONS;

static const char help_enrol_est[] =
	"Usage: signet enrol est NAME --csr FILE [--chain FILE] [--code CODE] [--reenroll]\n"
	"                        [--out FILE]\n"
	"\n"
	"Send one CSR through EST enrolment NAME as signet-gatewayd does for\n"
	"/simpleenroll (/simplereenroll with --reenroll) and write the certificate\n"
	"(PEM). For debugging and tests; docs/est.md.\n"
	"\n"
	"  --csr FILE       the PKCS#10 request, PEM or DER (required)\n"
	"  --chain FILE     the TLS client certificate chain it would present, leaf\n"
	"                   first, concatenated PEM or DER\n"
	"  --code CODE      the HTTP Basic password: an enrolment code\n"
	"  --reenroll       a re-enrolment: --chain holds the certificate to renew\n"
	"  --tls-unique HEX the TLS 1.2 tls-unique the gateway would pass\n"
	"  --out FILE       where the certificate goes (default: stdout)\n"
	"\n" GLOBAL_OPTIONS;

static const char help_verify_chain[] =
	"Usage: signet verify-chain --chain FILE [--purpose client|server|ca|any]\n"
	"                           [--check-revocation] [--path-out FILE]\n"
	"\n"
	"Have signetd check that the chain in FILE (leaf first, PEM or DER,\n"
	"intermediates included) verifies up to a trust anchor: a signet CA or one of\n"
	"possession.trust_anchors. Prints '" VERIFIED_LINE_FORMAT "'.\n"
	"Exit 26 when a check fails (the message names it), 13 when FILE cannot be read\n"
	"as certificates.\n"
	"\n"
	"  --chain FILE     the chain ('-': standard input) (required)\n"
	"  --purpose P      client (the default: digitalSignature, EKU clientAuth if any),\n"
	"                   server (EKU serverAuth if any), ca (the first certificate is\n"
	"                   a CA), any (signatures, linkage, validity, CA constraints)\n"
	"  --check-revocation  refuse a certificate signet's ledger has revoked\n"
	"  --path-out FILE  write the path that verified as PEM, leaf first, anchor last\n"
	"\n" GLOBAL_OPTIONS;

const char *cli_help(enum cli_command cmd)
{
	switch (cmd) {
	case CLI_CMD_INFO:
		return help_info;
	case CLI_CMD_HEALTH:
		return help_health;
	case CLI_CMD_KEY:
		return help_key;
	case CLI_CMD_KEY_GENERATE:
		return help_key_generate;
	case CLI_CMD_KEY_PUB:
		return help_key_pub;
	case CLI_CMD_KEY_LIST:
		return help_key_list;
	case CLI_CMD_KEY_DELETE:
		return help_key_delete;
	case CLI_CMD_CSR:
		return help_csr;
	case CLI_CMD_SIGN:
		return help_sign;
	case CLI_CMD_CA:
		return help_ca;
	case CLI_CMD_CA_CREATE_ROOT:
		return help_ca_create_root;
	case CLI_CMD_CA_CREATE_INTERMEDIATE:
		return help_ca_create_intermediate;
	case CLI_CMD_CA_CHAIN:
		return help_ca_chain;
	case CLI_CMD_CA_LIST:
		return help_ca_list;
	case CLI_CMD_ISSUE:
		return help_issue;
	case CLI_CMD_CA_VERIFY_CODE:
		return help_ca_verify_code;
	case CLI_CMD_CA_REQUEST:
		return help_ca_request;
	case CLI_CMD_CA_IMPORT:
		return help_ca_import;
	case CLI_CMD_CA_RENEW:
		return help_ca_renew;
	case CLI_CMD_CA_REKEY:
		return help_ca_rekey;
	case CLI_CMD_AUDIT:
		return help_audit;
	case CLI_CMD_AUDIT_VERIFY:
		return help_audit_verify;
	case CLI_CMD_LEDGER:
		return help_ledger;
	case CLI_CMD_LEDGER_LIST:
		return help_ledger_list;
	case CLI_CMD_LEDGER_GET:
		return help_ledger_get;
	case CLI_CMD_REVOKE:
		return help_revoke;
	case CLI_CMD_CRL:
		return help_crl;
	case CLI_CMD_CHALLENGE:
		return help_challenge;
	case CLI_CMD_CHALLENGE_CREATE:
		return help_challenge_create;
	case CLI_CMD_CHALLENGE_VERIFY:
		return help_challenge_verify;
	case CLI_CMD_VERIFY_CHAIN:
		return help_verify_chain;
	case CLI_CMD_ENROL:
		return help_enrol;
	case CLI_CMD_ENROL_CODE:
		return help_enrol_code;
	case CLI_CMD_ENROL_SCEP:
		return help_enrol_scep;
	case CLI_CMD_ENROL_EST:
		return help_enrol_est;
	case CLI_CMD_ENROL_CACERTS:
		return help_enrol_cacerts;
	default:
		return help_overview;
	}
}
