/* The endpoint list: "ipc:///a.sock,ipc:///b.sock" into its addresses. */
#include "endpoints.h"

#include <stdio.h>
#include <string.h>

#include <signet/signet.h>

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int endpoints_add(struct endpoints *out, const char *start, size_t len, char *err,
			 size_t errlen)
{
	size_t i;

	while (len > 0 && is_blank(*start)) {
		start++;
		len--;
	}
	while (len > 0 && is_blank(start[len - 1]))
		len--;
	if (len == 0) {
		snprintf(err, errlen, "an empty endpoint in the list");
		return SIGNET_E_INVALID_ARGUMENT;
	}
	if (len >= ENDPOINT_MAX) {
		snprintf(err, errlen, "an endpoint of %zu bytes; at most %d", len,
			 ENDPOINT_MAX - 1);
		return SIGNET_E_INVALID_ARGUMENT;
	}
	if (out->n == ENDPOINTS_MAX) {
		snprintf(err, errlen, "more than %d endpoints", ENDPOINTS_MAX);
		return SIGNET_E_INVALID_ARGUMENT;
	}
	memcpy(out->addr[out->n], start, len);
	out->addr[out->n][len] = '\0';
	for (i = 0; i < out->n; i++) {
		if (strcmp(out->addr[i], out->addr[out->n]) == 0) {
			snprintf(err, errlen, "endpoint '%.*s' named twice", ENDPOINT_MAX,
				 out->addr[i]);
			return SIGNET_E_INVALID_ARGUMENT;
		}
	}
	out->n++;
	return 0;
}

int endpoints_parse(const char *list, struct endpoints *out, char *err, size_t errlen)
{
	const char *p = list, *comma;
	int r;

	out->n = 0;
	if (list == NULL || list[0] == '\0') {
		snprintf(err, errlen, "no endpoint");
		return SIGNET_E_INVALID_ARGUMENT;
	}
	if (strlen(list) >= ENDPOINT_LIST_MAX) {
		snprintf(err, errlen, "an endpoint list of %zu bytes; at most %d", strlen(list),
			 ENDPOINT_LIST_MAX - 1);
		return SIGNET_E_INVALID_ARGUMENT;
	}
	for (;;) {
		comma = strchr(p, ',');
		if ((r = endpoints_add(out, p, comma != NULL ? (size_t)(comma - p) : strlen(p), err,
				       errlen)) != 0)
			return r;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}
