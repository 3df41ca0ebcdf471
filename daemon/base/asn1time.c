#include "base/asn1time.h"

#include <time.h>

int64_t asn1time_unix(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL)
		return 0;
	return ASN1_TIME_to_tm(t, &tm) == 1 ? (int64_t)timegm(&tm) : 0;
}
