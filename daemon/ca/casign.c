#include "ca/casign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "hsm/keybridge.h"
#include "hsm/sign.h"
#include "pki/certbuild.h"
#include "pki/crl.h"

const EVP_MD *casign_md(enum signet_key_alg signer_alg, enum signet_hash hash)
{
	if (hash != SIGNET_HASH_DEFAULT)
		return sign_hash_md(hash);
	return signer_alg == SIGNET_KEY_EC_P384 ? EVP_sha384() : EVP_sha256();
}

int casign_certify(const struct casign_signer *s, const struct ca_terms *t, EVP_PKEY *subject_key,
		   struct key *signer_key, X509 *issuer, X509 **out)
{
	struct keybridge bridge = {
		.ks = s->keys, .key = signer_key, .session = s->session, .em = s->em};
	EVP_PKEY *signer = NULL;
	time_t now = time(NULL);
	struct cert_spec spec = {.subject = t->subject,
				 .subject_key = subject_key,
				 .issuer = issuer,
				 .is_ca = 1,
				 .path_len = t->path_len,
				 .key_usage = CA_KEY_USAGE,
				 .not_before = now - CA_BACKDATE_SECONDS,
				 .not_after = now + (time_t)t->validity_days * 24 * 3600};
	const EVP_MD *md = casign_md(signer_key->alg, t->hash);
	int r;

	/* Like validity, pathLen is clamped to what the parent leaves: one level less.
	 * (A parent with pathLen 0 is refused by certbuild.) */
	if (issuer != NULL && X509_get_pathlen(issuer) > 0 &&
	    (spec.path_len < 0 || spec.path_len > X509_get_pathlen(issuer) - 1))
		spec.path_len = (int)X509_get_pathlen(issuer) - 1;
	if (md == NULL)
		return errmsg_set(s->em, SIGNET_E_INVALID_ARGUMENT, "unknown hash algorithm %d",
				  (int)t->hash);
	signer = keybridge_pkey(&bridge);
	if (signer == NULL)
		r = errmsg_openssl(s->em, SIGNET_E_INTERNAL, "cannot set up token signing");
	else
		r = certbuild_sign(&spec, signer, signer_key->pub_pkey, md, out, s->em);
	EVP_PKEY_free(signer);
	return r;
}

/* --- CRLs --- */

/* Atomically replace DIR/FILE with the CRL. CRLs are public: 0644. */
static int crl_publish_file(const char *dir, const char *file, const uint8_t *der, size_t len)
{
	char tmp[4096], final[4096];
	int fd, ok;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return -1;
	snprintf(final, sizeof(final), "%s/%s", dir, file);
	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, file);
	if ((fd = mkstemp(tmp)) < 0)
		return -1;
	ok = fchmod(fd, 0644) == 0 && write(fd, der, len) == (ssize_t)len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, final) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int casign_crl_sign(const struct casign_signer *s, const struct casign_crl_policy *p,
		    const struct ca *gen, struct casign_crl *out)
{
	struct keybridge bridge = {.ks = s->keys, .session = s->session, .em = s->em};
	struct ledger_revoked *revoked = NULL;
	time_t now = time(NULL);
	struct crl_spec spec = {.issuer = gen->cert,
				.this_update = now - CA_BACKDATE_SECONDS,
				.next_update = now + (time_t)p->validity_hours * 3600};
	EVP_PKEY *signer = NULL;
	X509_CRL *crl = NULL;
	int r, n;

	if ((r = keystore_get(s->keys, s->session, gen->key, &bridge.key, s->em)) != 0 ||
	    (r = ledger_revoked_list(p->ledger, gen->key, (int64_t)now, &revoked, &spec.n_revoked,
				     s->em)) != 0 ||
	    (r = ledger_next_crl_number(p->ledger, gen->key, &spec.number, s->em)) != 0)
		goto out;
	spec.revoked = revoked;
	if ((signer = keybridge_pkey(&bridge)) == NULL) {
		r = errmsg_openssl(s->em, SIGNET_E_INTERNAL, "cannot set up token signing");
		goto out;
	}
	if ((r = crl_build(&spec, signer, bridge.key->pub_pkey,
			   casign_md(bridge.key->alg, SIGNET_HASH_DEFAULT), &crl, s->em)) != 0)
		goto out;
	out->der = NULL;
	if ((n = i2d_X509_CRL(crl, &out->der)) <= 0) {
		r = errmsg_set(s->em, SIGNET_E_INTERNAL, "cannot encode the CRL");
		goto out;
	}
	out->len = (size_t)n;
	out->number = spec.number;
	out->this_update = spec.this_update;
	out->next_update = spec.next_update;
out:
	X509_CRL_free(crl);
	EVP_PKEY_free(signer);
	free(revoked);
	key_put(bridge.key);
	return r;
}

int casign_crl_publish(const struct casign_crl_policy *p, const struct ca *gen,
		       const struct casign_crl *c, struct errmsg *em)
{
	const char *dir = p->publish_dir;
	char file[256];

	if (dir == NULL)
		return 0;
	if (gen->retired)
		snprintf(file, sizeof(file), "%s.%s.crl", gen->name, gen->key);
	else
		snprintf(file, sizeof(file), "%s.crl", gen->name);
	if (crl_publish_file(dir, file, c->der, c->len) == 0)
		return 0;
	return errmsg_set(em, SIGNET_E_UNAVAILABLE, "cannot publish %s/%s: %s", dir, file,
			  strerror(errno));
}

/* Keep the CRL in the database for the hosts that copy rather than sign
 * (crlpub.h). A CRL published but not kept is still a good CRL: they serve
 * the one before until the next is kept. */
static void keep_for_followers(const struct casign_crl_policy *p, const struct ca *gen,
			       const struct casign_crl *c)
{
	struct errmsg em = {0};

	if (ledger_crl_keep(p->ledger, gen->key, c->number, c->der, c->len, (int64_t)c->this_update,
			    &em) != 0)
		log_warn("CRL %llu of CA '%s' not kept for the other hosts: %s",
			 (unsigned long long)c->number, gen->name, em.text);
}

int casign_crl_refresh(const struct casign_signer *s, const struct casign_crl_policy *p,
		       const struct ca *gen, uint64_t *number)
{
	struct casign_crl c = {.der = NULL};
	int r;

	*number = 0;
	if ((r = casign_crl_sign(s, p, gen, &c)) == 0) {
		*number = c.number;
		r = casign_crl_publish(p, gen, &c, s->em);
		keep_for_followers(p, gen, &c);
	}
	OPENSSL_free(c.der);
	return r;
}
