/* The gateway's log lines. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void gw_log(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one fprintf: stdio's lock keeps a line whole between threads */
	fprintf(stderr, "signet-gatewayd: %s\n", line);
}

const char *gw_log_escape(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, room;

	if (outlen < 5) {
		out[0] = '\0';
		return out;
	}
	room = outlen - 4; /* what "..." and the terminator leave */
	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;
		int plain = c >= 0x20 && c < 0x7f && c != '\\';

		if (o + (plain ? 1 : 4) > room) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (plain) {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 0xf];
	}
	out[o] = '\0';
	return out;
}
