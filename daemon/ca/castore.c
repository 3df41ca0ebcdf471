#include "ca/castore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "base/x509der.h"
#include "base/log.h"
#include "base/namecheck.h"
#include "ca/cashare.h"

#define RECORD_KEY_TAG "key: "

int castore_name_valid(const char *name)
{
	return name_valid(name, CA_NAME_MAX);
}

int castore_key_label(const char *name, unsigned gen, char *out, size_t outlen, struct errmsg *em)
{
	char label[KEY_NAME_MAX + 16];

	if (gen <= 1)
		snprintf(label, sizeof(label), "ca.%s", name);
	else
		snprintf(label, sizeof(label), "ca%u.%s", gen, name);
	if (gen > CA_GENERATION_MAX || !keystore_name_valid(label) || strlen(label) >= outlen)
		return errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
				  "CA '%s' cannot have a key generation %u: its key label would "
				  "not fit %d characters",
				  name, gen, KEY_NAME_MAX);
	snprintf(out, outlen, "%s", label);
	return 0;
}

unsigned castore_key_generation(const char *name, const char *label)
{
	unsigned long gen = 1;
	const char *rest = label + 2;
	char *end;

	if (strncmp(label, "ca", 2) != 0)
		return 0;
	if (*rest != '.') {
		if (*rest < '1' || *rest > '9')
			return 0;
		gen = strtoul(rest, &end, 10);
		rest = end;
		if (gen < 2)
			return 0;
	}
	if (*rest != '.' || gen > CA_GENERATION_MAX || strcmp(rest + 1, name) != 0)
		return 0;
	return (unsigned)gen;
}

int castore_key_reserved(const char *label)
{
	if (strncmp(label, "ca", 2) != 0)
		return 0;
	label += 2;
	label += strspn(label, "0123456789");
	return *label == '.';
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

/* The issuer of entry i among the others; a current generation wins over a
 * retired one (after a renewal both match, and the renewed one lives longer). */
static void link_parent(struct castore *cs, size_t i)
{
	X509 *cert = cs->cas[i].cert;

	cs->cas[i].parent = -1;
	if (X509_get_extension_flags(cert) & EXFLAG_SS)
		return;
	for (size_t j = 0; j < cs->n; j++) {
		if (j == i || !issued_by(cert, cs->cas[j].cert))
			continue;
		if (cs->cas[i].parent < 0 || cs->cas[cs->cas[i].parent].retired)
			cs->cas[i].parent = (int)j;
	}
}

static void link_all(struct castore *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		link_parent(cs, i);
}

/* After appending entry i: its parent, and the orphans it may be parent of
 * (a sub-CA imported before its issuer). Cheaper than link_all per CA made. */
static void link_new(struct castore *cs, size_t i)
{
	link_parent(cs, i);
	for (size_t j = 0; j < cs->n; j++)
		if (j != i && cs->cas[j].parent < 0)
			link_parent(cs, j);
}

static void entry_free(struct ca *e)
{
	X509_free(e->cert);
	sk_X509_pop_free(e->above, X509_free);
	e->cert = NULL;
	e->above = NULL;
}

/* Free every entry and the array. */
static void discard_entries(struct castore *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		entry_free(&cs->cas[i]);
	free(cs->cas);
	cs->cas = NULL;
	cs->n = 0;
}

/* Take ownership of `e`'s certificates. */
static int append(struct castore *cs, struct ca *e)
{
	struct ca *grown;

	if (cs->n >= CASTORE_MAX)
		return -1;
	grown = realloc(cs->cas, (cs->n + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	cs->cas = grown;
	grown[cs->n++] = *e;
	return 0;
}

/* Read a whole record file, bounded. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0;

	if (f == NULL)
		return NULL;
	buf = malloc(CA_RECORD_MAX + 1);
	if (buf != NULL) {
		n = fread(buf, 1, CA_RECORD_MAX + 1, f);
		if (ferror(f) || n > CA_RECORD_MAX) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			*len = n;
		}
	}
	fclose(f);
	return buf;
}

/* The "key: LABEL" line of the explanatory text, if any, into e->key. */
static int record_key(const char *buf, struct ca *e)
{
	const char *line = buf, *begin = strstr(buf, "-----BEGIN ");

	snprintf(e->key, sizeof(e->key), "ca.%s", e->name);
	while (line != NULL && (begin == NULL || line < begin)) {
		if (strncmp(line, RECORD_KEY_TAG, strlen(RECORD_KEY_TAG)) == 0) {
			const char *v = line + strlen(RECORD_KEY_TAG);
			size_t len = strcspn(v, "\r\n");

			if (len == 0 || len > KEY_NAME_MAX)
				return -1;
			snprintf(e->key, sizeof(e->key), "%.*s", (int)len, v);
			return keystore_name_valid(e->key) ? 0 : -1;
		}
		line = strchr(line, '\n');
		line = line != NULL ? line + 1 : NULL;
	}
	return 0;
}

/* A record's text -> entry (certificate, then the issuers above it). */
static int record_parse(const char *buf, size_t len, struct ca *e)
{
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	X509 *c;
	int r = -1;

	e->cert = NULL;
	e->above = NULL;
	if (bio == NULL || record_key(buf, e) != 0 ||
	    (e->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL)
		goto out;
	/* every issuance sends the chain: encoded once, here, not per request */
	x509der_keep(e->cert);
	while ((c = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		x509der_keep(c);
		if ((e->above == NULL && (e->above = sk_X509_new_null()) == NULL) ||
		    sk_X509_num(e->above) >= CA_ABOVE_MAX || !sk_X509_push(e->above, c)) {
			X509_free(c);
			goto out;
		}
	}
	r = 0;
out:
	ERR_clear_error(); /* the end of the PEM blocks queues an error */
	BIO_free(bio);
	if (r != 0)
		entry_free(e);
	return r;
}

static int load_record(struct castore *cs, const char *name, const char *path, int retired)
{
	struct ca e = {.retired = retired, .parent = -1};
	size_t len = 0;
	char *buf = read_file(path, &len);
	int r = -1;

	snprintf(e.name, sizeof(e.name), "%s", name);
	if (buf != NULL && record_parse(buf, len, &e) == 0) {
		if ((r = append(cs, &e)) != 0)
			entry_free(&e);
	}
	free(buf);
	return r;
}

/* STATE_DIR/cas/NAME.old/ *.pem: the earlier generations of CA `name`. */
static int load_retired(struct castore *cs, const char *name, char *err, size_t errlen)
{
	char dir[4096], path[4096 + 256];
	struct dirent *e;
	DIR *d;
	int r = 0;

	snprintf(dir, sizeof(dir), "%s/%s.old", cs->dir, name);
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT
			       ? 0
			       : (snprintf(err, errlen, "%s: %s", dir, strerror(errno)), -1);
	while (r == 0 && (e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.' || len < 5 || strcmp(e->d_name + len - 4, ".pem") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((r = load_record(cs, name, path, 1)) != 0)
			snprintf(err, errlen, "%s: not a readable CA record", path);
	}
	closedir(d);
	return r;
}

static int load_all(struct castore *cs, char *err, size_t errlen)
{
	DIR *d = opendir(cs->dir);
	struct dirent *e;
	char path[4096 + 256], name[CA_NAME_MAX + 8];
	int r = 0;

	if (d == NULL) {
		snprintf(err, errlen, "%s: %s", cs->dir, strerror(errno));
		return -1;
	}
	while (r == 0 && (e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len < 5 || len - 4 > CA_NAME_MAX || strcmp(e->d_name + len - 4, ".pem") != 0)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - 4), e->d_name);
		if (!castore_name_valid(name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", cs->dir, e->d_name);
		if ((r = load_record(cs, name, path, 0)) != 0)
			snprintf(err, errlen, "%s: not a readable CA record", path);
		else
			r = load_retired(cs, name, err, errlen);
	}
	closedir(d);
	if (r == 0)
		link_all(cs);
	return r;
}

static int make_dir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %.200s: %s", path, strerror(errno));
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
	if (pthread_mutex_init(&cs->loading, NULL) != 0) {
		snprintf(err, errlen, "cannot initialise a lock");
		pthread_rwlock_destroy(&cs->lock);
		free(cs->dir);
		cs->dir = NULL;
		return -1;
	}
	if (make_dir(state_dir, err, errlen) != 0 || make_dir(cs->dir, err, errlen) != 0)
		goto fail;
	/* the stamp before the load: a change meanwhile is loaded at the first lookup */
	if (stat(cs->dir, &cs->seen) != 0) {
		snprintf(err, errlen, "%s: %s", cs->dir, strerror(errno));
		goto fail;
	}
	if (load_all(cs, err, errlen) != 0)
		goto fail;
	return 0;
fail:
	castore_close(cs);
	return -1;
}

/* Has the CA directory changed since `a` was taken? Any link, rename or
 * unlink in it moves its mtime and ctime. */
static int dir_changed(const struct stat *a, const struct stat *b)
{
	return a->st_ino != b->st_ino || a->st_dev != b->st_dev ||
	       a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec ||
	       a->st_ctim.tv_sec != b->st_ctim.tv_sec || a->st_ctim.tv_nsec != b->st_ctim.tv_nsec;
}

/* Is what is in memory older than the CA directory as `now` shows it? */
static int castore_stale(struct castore *cs, const struct stat *now)
{
	int stale;

	pthread_rwlock_rdlock(&cs->lock);
	stale = dir_changed(&cs->seen, now);
	pthread_rwlock_unlock(&cs->lock);
	return stale;
}

/*
 * Load the store again when another process (or this one) changed the CA
 * directory since the last load. The stamp is taken before the load, so a
 * change during it makes the next call load once more, never miss it. A
 * store that fails to load is logged, not tried again until it changes, and
 * the one in memory goes on serving.
 */
static void castore_sync(struct castore *cs)
{
	struct castore fresh = {.dir = cs->dir};
	struct stat now;
	char err[512] = "";

	if (cs->shared != NULL)
		cashare_poll(cs);
	if (stat(cs->dir, &now) != 0 || !castore_stale(cs, &now))
		return;
	pthread_mutex_lock(&cs->loading);
	if (castore_stale(cs, &now)) { /* else another thread loaded it meanwhile */
		int loaded = load_all(&fresh, err, sizeof(err)) == 0;

		if (!loaded)
			log_error("CA store: cannot load %s again (%s); serving the CAs loaded "
				  "before",
				  cs->dir, err);
		pthread_rwlock_wrlock(&cs->lock);
		cs->seen = now;
		if (loaded) {
			struct ca *old = cs->cas;
			size_t n_old = cs->n;

			cs->cas = fresh.cas;
			cs->n = fresh.n;
			fresh.cas = old; /* transferred, to be freed below */
			fresh.n = n_old;
		}
		pthread_rwlock_unlock(&cs->lock);
	}
	pthread_mutex_unlock(&cs->loading);
	discard_entries(&fresh);
}

void castore_close(struct castore *cs)
{
	if (cs->dir == NULL)
		return;
	discard_entries(cs);
	free(cs->dir);
	pthread_rwlock_destroy(&cs->lock);
	pthread_mutex_destroy(&cs->loading);
	memset(cs, 0, sizeof(*cs));
}

static int record_write(FILE *f, const char *key, X509 *cert, STACK_OF(X509) * above)
{
	if (fprintf(f,
		    "signet CA record: the label of the CA's key on the token, its certificate,\n"
		    "then the certificates above it that signet does not hold as "
		    "CAs.\n" RECORD_KEY_TAG "%s\n",
		    key) < 0 ||
	    !PEM_write_X509(f, cert))
		return -1;
	for (int i = 0; i < sk_X509_num(above); i++)
		if (!PEM_write_X509(f, sk_X509_value(above, i)))
			return -1;
	return 0;
}

int castore_record_text(const char *key, X509 *cert, STACK_OF(X509) * above, char **text)
{
	size_t len = 0;
	FILE *f = open_memstream(text, &len);
	int r;

	*text = NULL;
	if (f == NULL)
		return -1;
	r = record_write(f, key, cert, above);
	if (fclose(f) != 0 || r != 0) {
		free(*text);
		*text = NULL;
		return -1;
	}
	return 0;
}

int castore_serial_hex(X509 *cert, char out[41])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	int r = hex != NULL && strlen(hex) < 41 ? 0 : -1;

	if (r == 0)
		snprintf(out, 41, "%s", hex);
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	if (fd >= 0) {
		fsync(fd); /* the new directory entry is durable too */
		close(fd);
	}
}

/* Write `text` (or the record) to a temporary file in `dir` and fsync it. */
static int write_temp(const char *dir, const char *name, const char *text, const char *key,
		      X509 *cert, STACK_OF(X509) * above, char *tmp, size_t tmplen,
		      struct errmsg *em)
{
	FILE *f;
	int fd, ok;

	snprintf(tmp, tmplen, "%s/.%s.XXXXXX", dir, name);
	if ((fd = mkstemp(tmp)) < 0)
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "cannot write in %s: %s", dir,
				  strerror(errno));
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(tmp);
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "cannot write %s", tmp);
	}
	ok = (text != NULL ? fputs(text, f) >= 0 : record_write(f, key, cert, above) == 0) &&
	     fflush(f) == 0 && fsync(fd) == 0;
	ok = fclose(f) == 0 && ok;
	if (!ok) {
		unlink(tmp);
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "cannot write %s", tmp);
	}
	return 0;
}

/* A new record: link(2) into place, refused when the name exists. */
/* A new record, `text` or (key, cert, above): ALREADY_EXISTS when the name
 * is taken. */
static int link_record(struct castore *cs, const char *name, const char *text, const char *key,
		       X509 *cert, STACK_OF(X509) * above, struct errmsg *em)
{
	char tmp[4096 + 128], final[4096 + 128];
	int r;

	snprintf(final, sizeof(final), "%s/%s.pem", cs->dir, name);
	if ((r = write_temp(cs->dir, name, text, key, cert, above, tmp, sizeof(tmp), em)) != 0)
		return r;
	if (link(tmp, final) != 0)
		r = errno == EEXIST ? errmsg_set(em, SIGNET_E_ALREADY_EXISTS,
						 "a CA named '%s' exists", name)
				    : errmsg_set(em, SIGNET_E_UNAVAILABLE, "cannot create %s: %s",
						 final, strerror(errno));
	unlink(tmp);
	if (r == 0)
		sync_dir(cs->dir);
	return r;
}

static int create_record(struct castore *cs, const char *name, const char *key, X509 *cert,
			 STACK_OF(X509) * above, struct errmsg *em)
{
	return link_record(cs, name, NULL, key, cert, above, em);
}

static int entry_from(const char *name, const char *key, X509 *cert, STACK_OF(X509) * above,
		      struct ca *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	if (key != NULL)
		snprintf(e->key, sizeof(e->key), "%s", key);
	else
		snprintf(e->key, sizeof(e->key), "ca.%s", name);
	e->parent = -1;
	if (above != NULL && sk_X509_num(above) > 0 &&
	    (sk_X509_num(above) > CA_ABOVE_MAX || (e->above = X509_chain_up_ref(above)) == NULL))
		return -1;
	X509_up_ref(cert);
	e->cert = cert;
	return 0;
}

/* An exclusive lock on the CA directory, against another daemon's replace. */
static int dir_lock(struct castore *cs, struct errmsg *em)
{
	char path[4096 + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/.lock", cs->dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		if (fd >= 0)
			close(fd);
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "cannot lock %s: %s", path,
				  strerror(errno));
	}
	return fd;
}

/* Sharing hosts: the database first, as it alone knows every host's names;
 * the file under the directory's lock, so that this host's copying in of
 * the database's rows cannot write the file before us. */
static int add_shared(struct castore *cs, const char *name, const char *key, X509 *cert,
		      STACK_OF(X509) * above, struct errmsg *em)
{
	int lockfd = dir_lock(cs, em), r;

	if (lockfd < 0)
		return lockfd;
	if ((r = cashare_publish(cs->shared, name, "", key, cert, above, em)) == 0)
		r = create_record(cs, name, key, cert, above, em);
	close(lockfd);
	return r;
}

int castore_add(struct castore *cs, const char *name, const char *key, X509 *cert,
		STACK_OF(X509) * above, struct errmsg *em)
{
	struct ca e;
	int r;

	if ((r = name_check("CA names", name, CA_NAME_MAX, em)) != 0)
		return r;
	if (key != NULL && !keystore_name_valid(key))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "invalid key label");
	if (entry_from(name, key, cert, above, &e) != 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "too many certificates above");
	castore_sync(cs);
	pthread_rwlock_wrlock(&cs->lock);
	r = cs->shared != NULL ? add_shared(cs, name, e.key, cert, above, em)
			       : create_record(cs, name, e.key, cert, above, em);
	if (r == 0 && append(cs, &e) != 0)
		r = errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "too many CAs");
	if (r == 0)
		link_new(cs, cs->n - 1);
	else
		entry_free(&e);
	pthread_rwlock_unlock(&cs->lock);
	return r;
}

static int find_locked(struct castore *cs, const char *name)
{
	for (size_t i = 0; i < cs->n; i++)
		if (!cs->cas[i].retired && strcmp(cs->cas[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The record on disk must still be the one in memory: another daemon on the
 * same state directory may have replaced it. Keeps its text for the archive. */
static int disk_matches(struct castore *cs, const struct ca *cur, char **text, struct errmsg *em)
{
	char path[4096 + 128];
	struct ca disk = {.parent = -1};
	size_t len = 0;
	int same;

	snprintf(path, sizeof(path), "%s/%s.pem", cs->dir, cur->name);
	snprintf(disk.name, sizeof(disk.name), "%s", cur->name);
	if ((*text = read_file(path, &len)) == NULL || record_parse(*text, len, &disk) != 0) {
		free(*text);
		*text = NULL;
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "cannot read %s", path);
	}
	same = X509_cmp(disk.cert, cur->cert) == 0 && strcmp(disk.key, cur->key) == 0;
	entry_free(&disk);
	if (!same) {
		free(*text);
		*text = NULL;
		return errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
				  "CA '%s' was changed by another process meanwhile; try again",
				  cur->name);
	}
	return 0;
}

/* Keep the replaced record as NAME.old/SERIAL.pem before it is replaced. */
static int archive_record(struct castore *cs, const struct ca *cur, const char *text,
			  struct errmsg *em)
{
	char dir[4096 + 128], tmp[4096 + 256], final[4096 + 512], err[256];
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cur->cert), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	int r;

	BN_free(bn);
	if (hex == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	snprintf(dir, sizeof(dir), "%s/%s.old", cs->dir, cur->name);
	snprintf(final, sizeof(final), "%s/%s.pem", dir, hex);
	OPENSSL_free(hex);
	if (make_dir(dir, err, sizeof(err)) != 0)
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "%s", err);
	if ((r = write_temp(dir, cur->name, text, NULL, NULL, NULL, tmp, sizeof(tmp), em)) != 0)
		return r;
	/* EEXIST: archived by an earlier attempt that failed later on */
	if (link(tmp, final) != 0 && errno != EEXIST)
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "cannot create %s: %s", final,
			       strerror(errno));
	unlink(tmp);
	if (r == 0)
		sync_dir(dir);
	return r;
}

/* A record, `text` or (key, cert, above), renamed over NAME.pem. */
static int rename_record(struct castore *cs, const char *name, const char *text, const char *key,
			 X509 *cert, STACK_OF(X509) * above, struct errmsg *em)
{
	char tmp[4096 + 128], final[4096 + 128];
	int r;

	snprintf(final, sizeof(final), "%s/%s.pem", cs->dir, name);
	if ((r = write_temp(cs->dir, name, text, key, cert, above, tmp, sizeof(tmp), em)) != 0)
		return r;
	if (rename(tmp, final) != 0) {
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "cannot replace %s: %s", final,
			       strerror(errno));
		unlink(tmp);
		return r;
	}
	sync_dir(cs->dir);
	return 0;
}

static int replace_record(struct castore *cs, const struct ca *next, struct errmsg *em)
{
	return rename_record(cs, next->name, NULL, next->key, next->cert, next->above, em);
}

/* A new record copied from the database: linked into place unless this
 * host has the name already (its own record, or one copied before). */
static int apply_create(struct castore *cs, const char *name, const char *text, struct errmsg *em)
{
	char final[4096 + 128];
	int r;

	snprintf(final, sizeof(final), "%s/%s.pem", cs->dir, name);
	if (access(final, F_OK) == 0)
		return 0;
	r = link_record(cs, name, text, NULL, NULL, NULL, em);
	return r == SIGNET_E_ALREADY_EXISTS ? 0 : r;
}

/* A replacement copied from the database, applied to the generation it
 * replaces: that one is archived as a replace here would, and the new
 * record renamed into place. */
static int apply_replace(struct castore *cs, const char *name, const char *replaces,
			 const char *serial, const char *text, struct errmsg *em)
{
	char path[4096 + 128], local[41];
	struct ca disk = {.parent = -1};
	size_t len = 0;
	char *old;
	int r;

	snprintf(path, sizeof(path), "%s/%s.pem", cs->dir, name);
	if ((old = read_file(path, &len)) == NULL)
		return apply_create(cs, name, text, em);
	snprintf(disk.name, sizeof(disk.name), "%s", name);
	if (record_parse(old, len, &disk) != 0 || castore_serial_hex(disk.cert, local) != 0) {
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "cannot read %s", path);
		goto out;
	}
	if (strcmp(local, serial) == 0) {
		r = 0; /* this host's own, or copied before */
		goto out;
	}
	if (strcmp(local, replaces) != 0) {
		r = errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
			       "CA '%s' is at serial %s here, neither the generation %s the "
			       "database replaces nor its replacement %s: left as it is",
			       name, local, replaces, serial);
		goto out;
	}
	if ((r = archive_record(cs, &disk, old, em)) == 0)
		r = rename_record(cs, name, text, NULL, NULL, NULL, em);
out:
	entry_free(&disk);
	free(old);
	return r;
}

int castore_apply_record(struct castore *cs, const char *name, const char *replaces,
			 const char *serial, const char *text, struct errmsg *em)
{
	int lockfd, r;

	if (!castore_name_valid(name))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "'%.64s' is not a CA name", name);
	if ((lockfd = dir_lock(cs, em)) < 0)
		return lockfd;
	r = *replaces == '\0' ? apply_create(cs, name, text, em)
			      : apply_replace(cs, name, replaces, serial, text, em);
	close(lockfd);
	return r;
}

/* Sharing hosts: the database decides which host replaces a generation. */
static int publish_replacement(struct castore *cs, const struct ca *cur, const struct ca *next,
			       struct errmsg *em)
{
	char replaces[41];

	if (cs->shared == NULL)
		return 0;
	if (castore_serial_hex(cur->cert, replaces) != 0)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	return cashare_publish(cs->shared, next->name, replaces, next->key, next->cert, next->above,
			       em);
}

int castore_replace(struct castore *cs, const char *name, X509 *current, const char *key,
		    X509 *cert, STACK_OF(X509) * above, struct errmsg *em)
{
	struct ca next;
	char *text = NULL;
	int i, r, lockfd = -1;

	if (!keystore_name_valid(key))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "invalid key label");
	if (entry_from(name, key, cert, above, &next) != 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "too many certificates above");
	castore_sync(cs);
	pthread_rwlock_wrlock(&cs->lock);
	i = find_locked(cs, name);
	if (i < 0) {
		r = errmsg_set(em, SIGNET_E_NOT_FOUND, "no CA named '%.64s'", name);
		goto out;
	}
	if (X509_cmp(cs->cas[i].cert, current) != 0) {
		r = errmsg_set(em, SIGNET_E_ABORTED,
			       "CA '%s' was renewed or re-keyed by another request meanwhile",
			       name);
		goto out;
	}
	if ((r = lockfd = dir_lock(cs, em)) < 0 ||
	    (r = disk_matches(cs, &cs->cas[i], &text, em)) != 0 ||
	    (r = publish_replacement(cs, &cs->cas[i], &next, em)) != 0 ||
	    (r = archive_record(cs, &cs->cas[i], text, em)) != 0 ||
	    (r = replace_record(cs, &next, em)) != 0)
		goto out;
	if (append(cs, &next) != 0) {
		/* on disk already: a restart loads it */
		r = errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "too many CA generations");
		goto out;
	}
	cs->cas[i].retired = 1;
	next.cert = NULL; /* transferred */
	next.above = NULL;
	link_all(cs);
out:
	if (lockfd >= 0)
		close(lockfd);
	pthread_rwlock_unlock(&cs->lock);
	free(text);
	entry_free(&next);
	return r;
}

/* Under cs->lock: a copy with its own references and its parent's name. */
static void copy_entry(const struct castore *cs, const struct ca *from, struct ca *to)
{
	*to = *from;
	snprintf(to->parent_name, sizeof(to->parent_name), "%s",
		 from->parent >= 0 && (size_t)from->parent < cs->n ? cs->cas[from->parent].name
								   : "");
	X509_up_ref(to->cert);
	to->above = from->above != NULL ? X509_chain_up_ref(from->above) : NULL;
}

void ca_release(struct ca *ca)
{
	if (ca != NULL)
		entry_free(ca);
}

int castore_get(struct castore *cs, const char *name, struct ca *out, struct errmsg *em)
{
	int i;

	castore_sync(cs);
	pthread_rwlock_rdlock(&cs->lock);
	i = find_locked(cs, name);
	if (i >= 0)
		copy_entry(cs, &cs->cas[i], out);
	pthread_rwlock_unlock(&cs->lock);
	return i >= 0 ? 0 : errmsg_set(em, SIGNET_E_NOT_FOUND, "no CA named '%.64s'", name);
}

/* Does a's certificate end later than b's? */
static int outlives(const struct ca *a, const struct ca *b)
{
	return ASN1_TIME_compare(X509_get0_notAfter(a->cert), X509_get0_notAfter(b->cert)) > 0;
}

int castore_get_by_key(struct castore *cs, const char *name, const char *key_label, struct ca *out,
		       struct errmsg *em)
{
	int best = -1;

	castore_sync(cs);
	pthread_rwlock_rdlock(&cs->lock);
	for (size_t i = 0; i < cs->n; i++) {
		const struct ca *e = &cs->cas[i];

		if (strcmp(e->name, name) != 0 || strcmp(e->key, key_label) != 0)
			continue;
		if (best < 0 || !e->retired ||
		    (cs->cas[best].retired && outlives(e, &cs->cas[best])))
			best = (int)i;
		if (!e->retired)
			break;
	}
	if (best >= 0)
		copy_entry(cs, &cs->cas[best], out);
	pthread_rwlock_unlock(&cs->lock);
	return best >= 0 ? 0
			 : errmsg_set(em, SIGNET_E_NOT_FOUND, "CA '%.64s' has no key '%.64s'", name,
				      key_label);
}

/* Add a reference to cert to chain; RESOURCE_EXHAUSTED when the stack cannot grow. */
static int push_ref(STACK_OF(X509) * chain, X509 *cert, struct errmsg *em)
{
	if (!sk_X509_push(chain, cert))
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	X509_up_ref(cert);
	return 0;
}

/* Give the caller a stack filled under the lock, or drop it when filling failed. */
static int stack_out(STACK_OF(X509) * s, int r, STACK_OF(X509) * *out)
{
	if (r != 0) {
		sk_X509_pop_free(s, X509_free);
		return r;
	}
	*out = s;
	return 0;
}

int castore_chain(struct castore *cs, const char *name, STACK_OF(X509) * *out, struct errmsg *em)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	int i, top = -1, r = 0;

	if (chain == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	castore_sync(cs);
	pthread_rwlock_rdlock(&cs->lock);
	i = find_locked(cs, name);
	if (i < 0)
		r = errmsg_set(em, SIGNET_E_NOT_FOUND, "no CA named '%.64s'", name);
	/* bounded by the number of CAs, so a cycle cannot loop */
	for (size_t hops = 0; r == 0 && i >= 0 && hops <= cs->n; hops++) {
		r = push_ref(chain, cs->cas[i].cert, em);
		top = i;
		i = cs->cas[i].parent;
	}
	for (int a = 0; r == 0 && top >= 0 && a < sk_X509_num(cs->cas[top].above); a++)
		r = push_ref(chain, sk_X509_value(cs->cas[top].above, a), em);
	pthread_rwlock_unlock(&cs->lock);
	return stack_out(chain, r, out);
}

static int list_copies(struct castore *cs, int with_retired, struct ca **out, size_t *n,
		       struct errmsg *em)
{
	struct ca *copy;
	size_t k = 0;

	castore_sync(cs);
	pthread_rwlock_rdlock(&cs->lock);
	copy = calloc(cs->n > 0 ? cs->n : 1, sizeof(*copy));
	for (size_t i = 0; copy != NULL && i < cs->n; i++)
		if (with_retired || !cs->cas[i].retired)
			copy_entry(cs, &cs->cas[i], &copy[k++]);
	pthread_rwlock_unlock(&cs->lock);
	if (copy == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	*out = copy;
	*n = k;
	return 0;
}

static int ca_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ca *)a)->name, ((const struct ca *)b)->name);
}

int castore_list(struct castore *cs, struct ca **out, size_t *n, struct errmsg *em)
{
	int r = list_copies(cs, 0, out, n, em);

	/* The store holds them in the order the directory was read: sorted, a
	 * listing reads the same on every instance and after every restart. */
	if (r == 0 && *n > 1)
		qsort(*out, *n, sizeof(**out), ca_name_cmp);
	return r;
}

int castore_list_generations(struct castore *cs, struct ca **out, size_t *n, struct errmsg *em)
{
	return list_copies(cs, 1, out, n, em);
}

void castore_list_free(struct ca *cas, size_t n)
{
	for (size_t i = 0; cas != NULL && i < n; i++)
		ca_release(&cas[i]);
	free(cas);
}

static int collect(struct castore *cs, int tops_only, STACK_OF(X509) * *out, struct errmsg *em)
{
	STACK_OF(X509) *all = sk_X509_new_null();
	int r = 0;

	if (all == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	castore_sync(cs);
	pthread_rwlock_rdlock(&cs->lock);
	for (size_t i = 0; r == 0 && i < cs->n; i++)
		if (!tops_only || cs->cas[i].parent < 0)
			r = push_ref(all, cs->cas[i].cert, em);
	pthread_rwlock_unlock(&cs->lock);
	return stack_out(all, r, out);
}

int castore_all_certs(struct castore *cs, STACK_OF(X509) * *out, struct errmsg *em)
{
	return collect(cs, 0, out, em);
}

int castore_anchors(struct castore *cs, STACK_OF(X509) * *out, struct errmsg *em)
{
	/* parent < 0: a root, or an issuer signet does not hold */
	return collect(cs, 1, out, em);
}
