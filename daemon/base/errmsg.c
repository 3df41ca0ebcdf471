#include "base/errmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

static void errmsg_vset(struct errmsg *em, int err, const char *fmt, va_list ap)
{
	em->err = err;
	vsnprintf(em->text, sizeof(em->text), fmt, ap);
}

int errmsg_set(struct errmsg *em, int err, const char *fmt, ...)
{
	va_list ap;

	if (em == NULL)
		return err;
	va_start(ap, fmt);
	errmsg_vset(em, err, fmt, ap);
	va_end(ap);
	return err;
}

int errmsg_openssl(struct errmsg *em, int err, const char *fmt, ...)
{
	char detail[256] = "";
	unsigned long e = ERR_peek_error();
	va_list ap;
	size_t used;

	if (e != 0)
		ERR_error_string_n(e, detail, sizeof(detail));
	ERR_clear_error();
	if (em == NULL)
		return err;
	va_start(ap, fmt);
	errmsg_vset(em, err, fmt, ap);
	va_end(ap);
	used = strlen(em->text);
	if (detail[0] != '\0' && used < sizeof(em->text))
		snprintf(em->text + used, sizeof(em->text) - used, " (%s)", detail);
	return err;
}
