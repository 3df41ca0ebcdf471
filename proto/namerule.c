/* The character rule for names, and its wording. */
#include "namerule.h"

#include <stdio.h>
#include <string.h>

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

int name_valid(const char *name, size_t max)
{
	size_t n = 0;

	if (name == NULL)
		return 0;
	/* bounded: a caller's string is not walked past max + 1 */
	for (; name[n] != '\0'; n++)
		if (n >= max || !name_char(name[n]))
			return 0;
	return n > 0;
}

const char *name_rule(const char *what, size_t max, char *out, size_t outlen)
{
	if (outlen > 0)
		snprintf(out, outlen, "%s are 1-%zu characters of " NAME_CHARS_TEXT, what, max);
	return out;
}
