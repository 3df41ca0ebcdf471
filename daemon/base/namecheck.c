#include "base/namecheck.h"

int name_check(const char *what, const char *name, size_t max, struct errmsg *em)
{
	char rule[NAME_RULE_MAX];

	if (name_valid(name, max))
		return 0;
	return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "%s",
			  name_rule(what, max, rule, sizeof(rule)));
}
