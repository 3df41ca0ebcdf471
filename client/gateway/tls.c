/* Reading the TLS certificate and key. */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The whole of a regular file of at most GW_TLS_FILE_MAX bytes, NUL-terminated. */
static char *gw_tls_read(const char *path, int private, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		snprintf(err, errlen, "tls: cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > GW_TLS_FILE_MAX) {
		snprintf(err, errlen, "tls: '%s' is not a regular file of at most %d bytes", path,
			 GW_TLS_FILE_MAX);
		goto fail;
	}
	/* like ssh with a private key: one others can read is no longer private */
	if (private && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(err, errlen, "tls: key file '%s' is open to group or others: chmod 600 it",
			 path);
		goto fail;
	}
	if ((buf = calloc(1, (size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	while (got < (size_t)st.st_size && (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	if (got != (size_t)st.st_size) {
		snprintf(err, errlen, "tls: cannot read '%s'", path);
		goto fail;
	}
	close(fd);
	return buf;
fail:
	if (buf != NULL) {
		explicit_bzero(buf, (size_t)st.st_size);
		free(buf);
	}
	close(fd);
	return NULL;
}

int gw_tls_load(const struct gw_config *cfg, struct gw_tls *tls, char *err, size_t errlen)
{
	memset(tls, 0, sizeof(*tls));
	if (cfg->tls_certificate[0] == '\0')
		return 0;
	if ((tls->certificate = gw_tls_read(cfg->tls_certificate, 0, err, errlen)) == NULL ||
	    (tls->key = gw_tls_read(cfg->tls_key, 1, err, errlen)) == NULL) {
		gw_tls_clear(tls);
		return -1;
	}
	if (!cfg->est_enabled)
		return 0;
	tls->client_anchors = cfg->tls_client_anchors[0] != '\0'
				      ? gw_tls_read(cfg->tls_client_anchors, 0, err, errlen)
				      : strdup(tls->certificate);
	if (tls->client_anchors == NULL) {
		if (err[0] == '\0')
			snprintf(err, errlen, "out of memory");
		gw_tls_clear(tls);
		return -1;
	}
	return 0;
}

void gw_tls_clear(struct gw_tls *tls)
{
	if (tls == NULL)
		return;
	if (tls->key != NULL) {
		explicit_bzero(tls->key, strlen(tls->key));
		free(tls->key);
	}
	free(tls->certificate);
	free(tls->client_anchors);
	memset(tls, 0, sizeof(*tls));
}
