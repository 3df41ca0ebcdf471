#define PQ_LOADER /* the real names, to take their types and look them up */
#include "records/pq.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

struct pq_functions pq;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char failure[ERRMSG_MAX]; /* "" once loaded */

/* Kept open for the life of the process: nothing unloads it. */
static void load(void)
{
	void *lib = dlopen(PQ_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (lib == NULL) {
		snprintf(failure, sizeof(failure),
			 "PostgreSQL needs %s (Debian package libpq5), which cannot be loaded: %s",
			 PQ_SONAME, dlerror());
		return;
	}
#define PQ_FIND(name)                                                                              \
	if (failure[0] == '\0' && (*(void **)&pq.name = dlsym(lib, #name)) == NULL)                \
		snprintf(failure, sizeof(failure), "%s has no %s: is it older than libpq 13?",     \
			 PQ_SONAME, #name);
	PQ_FUNCTIONS(PQ_FIND)
#undef PQ_FIND
}

int pq_load(struct errmsg *em)
{
	pthread_once(&once, load);
	if (failure[0] != '\0')
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "%s", failure);
	return 0;
}
