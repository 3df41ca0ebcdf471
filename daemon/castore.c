#include "castore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "keystore.h"

int castore_name_valid(const char *name)
{
	return keystore_name_valid(name) && strlen(name) <= CA_NAME_MAX;
}

/* Did `parent` issue `child`? Issuer name and key identifier must agree. */
static int issued_by(X509 *child, X509 *parent)
{
	const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(child);
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(parent);

	if (X509_NAME_cmp(X509_get_issuer_name(child), X509_get_subject_name(parent)) != 0)
		return 0;
	return aki == NULL || ski == NULL || ASN1_OCTET_STRING_cmp(aki, ski) == 0;
}

static void link_parent(struct castore *cs, size_t i)
{
	X509 *cert = cs->cas[i].cert;

	cs->cas[i].parent = -1;
	if (X509_get_extension_flags(cert) & EXFLAG_SS)
		return;
	for (size_t j = 0; j < cs->n; j++)
		if (j != i && issued_by(cert, cs->cas[j].cert)) {
			cs->cas[i].parent = (int)j;
			return;
		}
}

static int append(struct castore *cs, const char *name, X509 *cert)
{
	struct ca *grown;

	if (cs->n >= CASTORE_MAX)
		return -1;
	grown = realloc(cs->cas, (cs->n + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	cs->cas = grown;
	snprintf(grown[cs->n].name, sizeof(grown[cs->n].name), "%s", name);
	snprintf(grown[cs->n].key, sizeof(grown[cs->n].key), "ca.%s", name);
	grown[cs->n].cert = cert;
	grown[cs->n].parent = -1;
	cs->n++;
	return 0;
}

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *cert;

	if (f == NULL)
		return NULL;
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return cert;
}

static int load_all(struct castore *cs, char *err, size_t errlen)
{
	DIR *d = opendir(cs->dir);
	struct dirent *e;
	char path[4096], name[CA_NAME_MAX + 8];
	int r = 0;

	if (d == NULL) {
		snprintf(err, errlen, "%s: %s", cs->dir, strerror(errno));
		return -1;
	}
	while (r == 0 && (e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		X509 *cert;

		if (len < 5 || len - 4 > CA_NAME_MAX || strcmp(e->d_name + len - 4, ".pem") != 0)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - 4), e->d_name);
		if (!castore_name_valid(name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", cs->dir, e->d_name);
		if ((cert = read_cert(path)) == NULL || append(cs, name, cert) != 0) {
			X509_free(cert);
			snprintf(err, errlen, "%s: not a readable CA certificate", path);
			r = -1;
		}
	}
	closedir(d);
	for (size_t i = 0; r == 0 && i < cs->n; i++)
		link_parent(cs, i);
	return r;
}

static int make_dir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int castore_open(struct castore *cs, const char *state_dir, char *err, size_t errlen)
{
	size_t len = strlen(state_dir) + sizeof("/cas");

	memset(cs, 0, sizeof(*cs));
	if ((cs->dir = malloc(len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(cs->dir, len, "%s/cas", state_dir);
	if (pthread_rwlock_init(&cs->lock, NULL) != 0) {
		snprintf(err, errlen, "cannot initialise a lock");
		free(cs->dir);
		cs->dir = NULL;
		return -1;
	}
	if (make_dir(state_dir, err, errlen) != 0 || make_dir(cs->dir, err, errlen) != 0 ||
	    load_all(cs, err, errlen) != 0) {
		castore_close(cs);
		return -1;
	}
	return 0;
}

void castore_close(struct castore *cs)
{
	if (cs->dir == NULL)
		return;
	for (size_t i = 0; i < cs->n; i++)
		X509_free(cs->cas[i].cert);
	free(cs->cas);
	free(cs->dir);
	pthread_rwlock_destroy(&cs->lock);
	memset(cs, 0, sizeof(*cs));
}

/* Write to a temporary file, fsync, then link(2) into place: atomic, and
 * refused when the name exists. */
static int write_ca_file(struct castore *cs, const char *name, X509 *cert, struct errmsg *em)
{
	char tmp[4096], final[4096];
	FILE *f;
	int fd, r = 0;

	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", cs->dir, name);
	snprintf(final, sizeof(final), "%s/%s.pem", cs->dir, name);
	if ((fd = mkstemp(tmp)) < 0)
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "cannot write in %s: %s", cs->dir,
				  strerror(errno));
	f = fdopen(fd, "w");
	if (f == NULL || !PEM_write_X509(f, cert) || fflush(f) != 0 || fsync(fd) != 0)
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "cannot write %s", tmp);
	if (f != NULL)
		fclose(f);
	else
		close(fd);
	if (r == 0 && link(tmp, final) != 0)
		r = errno == EEXIST ? errmsg_set(em, SIGNET_E_ALREADY_EXISTS,
						 "a CA named '%s' exists", name)
				    : errmsg_set(em, SIGNET_E_UNAVAILABLE, "cannot create %s: %s",
						 final, strerror(errno));
	unlink(tmp);
	if (r == 0 && (fd = open(cs->dir, O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(fd); /* the new directory entry is durable too */
		close(fd);
	}
	return r;
}

int castore_add(struct castore *cs, const char *name, X509 *cert, struct errmsg *em)
{
	int r;

	if (!castore_name_valid(name))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "CA names are 1-%d characters of A-Z a-z 0-9 . _ -", CA_NAME_MAX);
	pthread_rwlock_wrlock(&cs->lock);
	r = write_ca_file(cs, name, cert, em);
	if (r == 0 && append(cs, name, cert) != 0)
		r = errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "too many CAs");
	if (r == 0) {
		X509_up_ref(cert);
		link_parent(cs, cs->n - 1);
	}
	pthread_rwlock_unlock(&cs->lock);
	return r;
}

static int find_locked(struct castore *cs, const char *name)
{
	for (size_t i = 0; i < cs->n; i++)
		if (strcmp(cs->cas[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void copy_entry(const struct ca *from, struct ca *to)
{
	*to = *from;
	X509_up_ref(to->cert);
}

void ca_release(struct ca *ca)
{
	if (ca != NULL) {
		X509_free(ca->cert);
		ca->cert = NULL;
	}
}

int castore_get(struct castore *cs, const char *name, struct ca *out, struct errmsg *em)
{
	int i;

	pthread_rwlock_rdlock(&cs->lock);
	i = find_locked(cs, name);
	if (i >= 0)
		copy_entry(&cs->cas[i], out);
	pthread_rwlock_unlock(&cs->lock);
	return i >= 0 ? 0 : errmsg_set(em, SIGNET_E_NOT_FOUND, "no CA named '%.64s'", name);
}

int castore_chain(struct castore *cs, const char *name, STACK_OF(X509) * *out, struct errmsg *em)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	int i, r = 0;

	if (chain == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	pthread_rwlock_rdlock(&cs->lock);
	i = find_locked(cs, name);
	if (i < 0)
		r = errmsg_set(em, SIGNET_E_NOT_FOUND, "no CA named '%.64s'", name);
	/* bounded by the number of CAs, so a cycle cannot loop */
	for (size_t hops = 0; r == 0 && i >= 0 && hops <= cs->n; hops++) {
		if (!sk_X509_push(chain, cs->cas[i].cert))
			r = errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
		else
			X509_up_ref(cs->cas[i].cert);
		i = cs->cas[i].parent;
	}
	pthread_rwlock_unlock(&cs->lock);
	if (r != 0) {
		sk_X509_pop_free(chain, X509_free);
		return r;
	}
	*out = chain;
	return 0;
}

int castore_list(struct castore *cs, struct ca **out, size_t *n, struct errmsg *em)
{
	struct ca *copy;

	pthread_rwlock_rdlock(&cs->lock);
	copy = calloc(cs->n > 0 ? cs->n : 1, sizeof(*copy));
	if (copy != NULL)
		for (size_t i = 0; i < cs->n; i++)
			copy_entry(&cs->cas[i], &copy[i]);
	*n = copy != NULL ? cs->n : 0;
	pthread_rwlock_unlock(&cs->lock);
	if (copy == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	*out = copy;
	return 0;
}

void castore_list_free(struct ca *cas, size_t n)
{
	for (size_t i = 0; cas != NULL && i < n; i++)
		ca_release(&cas[i]);
	free(cas);
}

int castore_parent_name(struct castore *cs, const struct ca *ca, char *out, size_t outlen)
{
	pthread_rwlock_rdlock(&cs->lock);
	snprintf(out, outlen, "%s",
		 ca->parent >= 0 && (size_t)ca->parent < cs->n ? cs->cas[ca->parent].name : "");
	pthread_rwlock_unlock(&cs->lock);
	return 0;
}
