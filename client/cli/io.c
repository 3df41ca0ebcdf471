/* File and stream I/O of the CLI, with the input size bounded. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int is_stdio(const char *path)
{
	return path == NULL || strcmp(path, "-") == 0;
}

/* Read at most max + 1 bytes, so that "too big" is noticed without reading it all. */
static int read_bounded(struct cli_ctx *ctx, FILE *f, const char *label, size_t max,
			struct signet_buf *out)
{
	uint8_t *data = malloc(max + 1);
	size_t len;
	int r;

	if (data == NULL)
		return cli_error(ctx, SIGNET_E_NOMEM, "out of memory");
	len = fread(data, 1, max + 1, f);
	if (ferror(f)) {
		r = cli_error(ctx, CLI_E_IO, "cannot read %s: %s", label, strerror(errno));
		goto out;
	}
	if (len > max) {
		r = cli_error(ctx, CLI_E_IO, "%s is larger than the limit of %zu bytes", label,
			      max);
		goto out;
	}
	out->data = data;
	out->len = len;
	data = NULL; /* transferred */
	r = 0;
out:
	free(data);
	return r;
}

int cli_read_input(struct cli_ctx *ctx, const char *path, size_t max, struct signet_buf *out)
{
	FILE *f;
	int r;

	if (is_stdio(path))
		return read_bounded(ctx, ctx->in, "standard input", max, out);
	if ((f = fopen(path, "rb")) == NULL)
		return cli_error(ctx, CLI_E_IO, "cannot open '%s': %s", path, strerror(errno));
	r = read_bounded(ctx, f, path, max, out);
	fclose(f);
	return r;
}

int cli_write_output(struct cli_ctx *ctx, const char *path, const void *data, size_t len)
{
	FILE *f;

	if (is_stdio(path)) {
		if (fwrite(data, 1, len, ctx->out) != len || fflush(ctx->out) != 0)
			return cli_error(ctx, CLI_E_IO, "cannot write to standard output: %s",
					 strerror(errno));
		return 0;
	}
	if ((f = fopen(path, "wb")) == NULL)
		return cli_error(ctx, CLI_E_IO, "cannot create '%s': %s", path, strerror(errno));
	if (fwrite(data, 1, len, f) != len) {
		fclose(f);
		return cli_error(ctx, CLI_E_IO, "cannot write '%s': %s", path, strerror(errno));
	}
	/* Buffered data hits the disk (and can fail) only here. */
	if (fclose(f) != 0)
		return cli_error(ctx, CLI_E_IO, "cannot write '%s': %s", path, strerror(errno));
	return 0;
}
