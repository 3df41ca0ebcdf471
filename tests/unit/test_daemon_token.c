/* Unit tests for daemon/hsm/token.c's state machine, on a fake PKCS#11
 * function list: which failures mark the token down, which drop a worker's
 * session, the recovery backoff, and the generation that voids sessions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hsm/token_internal.h"

#define FAKE_SLOT 5

/* What the fake module answers, and what it was asked. */
static struct {
	CK_RV info_rv; /* C_GetTokenInfo */
	CK_RV init_rv; /* C_Initialize */
	CK_SESSION_HANDLE next_session;
	unsigned opened, closed, closed_all, finalized, initialized;
} fake;

static void pad(CK_UTF8CHAR *dst, size_t len, const char *s)
{
	memset(dst, ' ', len);
	memcpy(dst, s, strlen(s));
}

static CK_RV fake_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	(void)slot;
	if (fake.info_rv != CKR_OK)
		return fake.info_rv;
	memset(info, 0, sizeof(*info));
	pad(info->label, sizeof(info->label), "signet-test");
	pad(info->manufacturerID, sizeof(info->manufacturerID), "fake");
	pad(info->model, sizeof(info->model), "model");
	pad(info->serialNumber, sizeof(info->serialNumber), "0001");
	info->flags = CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED; /* no login needed */
	return CKR_OK;
}

static CK_RV fake_slot_list(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR n)
{
	(void)present;
	if (list != NULL) {
		if (*n < 1)
			return CKR_BUFFER_TOO_SMALL;
		list[0] = FAKE_SLOT;
	}
	*n = 1;
	return CKR_OK;
}

static CK_RV fake_open(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
		       CK_SESSION_HANDLE_PTR out)
{
	(void)slot, (void)flags, (void)app, (void)notify;
	fake.opened++;
	*out = fake.next_session++;
	return CKR_OK;
}

static CK_RV fake_close(CK_SESSION_HANDLE s)
{
	(void)s;
	fake.closed++;
	return CKR_OK;
}

static CK_RV fake_close_all(CK_SLOT_ID slot)
{
	(void)slot;
	fake.closed_all++;
	return CKR_OK;
}

static CK_RV fake_finalize(CK_VOID_PTR reserved)
{
	(void)reserved;
	fake.finalized++;
	return CKR_OK;
}

static CK_RV fake_initialize(CK_VOID_PTR args)
{
	(void)args;
	fake.initialized++;
	return fake.init_rv;
}

static CK_FUNCTION_LIST fake_fn = {
	.version = {2, 40},
	.C_Initialize = fake_initialize,
	.C_Finalize = fake_finalize,
	.C_GetSlotList = fake_slot_list,
	.C_GetTokenInfo = fake_token_info,
	.C_OpenSession = fake_open,
	.C_CloseSession = fake_close,
	.C_CloseAllSessions = fake_close_all,
};

/* A token as token_open() leaves it, on the fake module. */
static struct token *fake_token(void)
{
	struct token *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	memset(&fake, 0, sizeof(fake));
	fake.next_session = 100;
	t->fn = &fake_fn;
	t->slot_id = FAKE_SLOT;
	t->login_session = CK_INVALID_HANDLE;
	strcpy(t->label, "signet-test");
	strcpy(t->manufacturer, "fake");
	strcpy(t->model, "model");
	strcpy(t->serial, "0001");
	atomic_init(&t->state, TOKEN_UP);
	atomic_init(&t->generation, 1);
	assert_int_equal(pthread_rwlock_init(&t->use, NULL), 0);
	assert_int_equal(pthread_mutex_init(&t->recover, NULL), 0);
	assert_int_equal(pthread_mutex_init(&t->state_lock, NULL), 0);
	t->locks_ready = 1;
	return t;
}

/* One request on u's session that meets `rv` in the module. */
static void request_failing(struct token *t, struct token_user *u, CK_RV rv)
{
	token_enter(t, u);
	if (rv != CKR_OK)
		p11_fail(NULL, rv, "test");
	token_leave(t, u);
}

static void test_gone_codes(void **state)
{
	static const CK_RV gone[] = {CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT, CKR_DEVICE_ERROR,
				     CKR_TOKEN_NOT_RECOGNIZED, CKR_CRYPTOKI_NOT_INITIALIZED};
	static const CK_RV not_gone[] = {CKR_OK,
					 CKR_FUNCTION_FAILED,
					 CKR_SESSION_HANDLE_INVALID,
					 CKR_SESSION_CLOSED,
					 CKR_USER_NOT_LOGGED_IN,
					 CKR_PIN_INCORRECT,
					 CKR_KEY_HANDLE_INVALID,
					 CKR_DEVICE_MEMORY,
					 CKR_ATTRIBUTE_SENSITIVE};

	(void)state;
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		assert_true(token_gone(gone[i]));
	for (size_t i = 0; i < sizeof(not_gone) / sizeof(not_gone[0]); i++)
		assert_false(token_gone(not_gone[i]));
}

static void test_backoff_schedule(void **state)
{
	static const long want[] = {200, 400, 800, 1600, 3200, 5000, 5000, 5000};
	long b = TOKEN_BACKOFF_MIN_MS;

	(void)state;
	assert_int_equal(TOKEN_BACKOFF_MIN_MS, 100);
	assert_int_equal(TOKEN_BACKOFF_MAX_MS, 5000);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		b = token_backoff_next(b);
		assert_int_equal(b, want[i]);
	}
}

/* Each failure that means the token is gone marks it down, at once. */
static void test_gone_marks_down(void **state)
{
	static const CK_RV gone[] = {CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT, CKR_DEVICE_ERROR,
				     CKR_TOKEN_NOT_RECOGNIZED, CKR_CRYPTOKI_NOT_INITIALIZED};

	(void)state;
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
		struct token *t = fake_token();
		struct token_user u = {.session = CK_INVALID_HANDLE};
		struct errmsg em = {0};
		char name[32];

		request_failing(t, &u, gone[i]);
		assert_int_equal(token_check(t, &em), SIGNET_E_UNAVAILABLE);
		assert_non_null(strstr(em.text, p11_rv_name(gone[i], name, sizeof(name))));
		assert_non_null(strstr(em.text, "retrying"));
		assert_int_equal(t->backoff_ms, TOKEN_BACKOFF_MIN_MS);
		assert_int_equal(t->attempts, 0);
		/* the session is dropped, and not reopened while the token is down */
		assert_int_equal(u.session, CK_INVALID_HANDLE);
		token_enter(t, &u);
		assert_int_equal(u.session, CK_INVALID_HANDLE);
		token_leave(t, &u);
		assert_int_equal(fake.opened, 1);
		token_close(t);
	}
}

/* Other failures leave the token up; the session is replaced unless the
 * failure says nothing about it. */
static void test_session_failures(void **state)
{
	struct token *t = fake_token();
	struct token_user u = {.session = CK_INVALID_HANDLE};
	struct errmsg em = {0};
	CK_SESSION_HANDLE first;

	(void)state;
	token_enter(t, &u);
	token_leave(t, &u);
	first = u.session;
	assert_int_not_equal(first, CK_INVALID_HANDLE);
	assert_int_equal(u.generation, token_generation(t));

	request_failing(t, &u, CKR_ATTRIBUTE_SENSITIVE);
	assert_int_equal(u.session, first);
	request_failing(t, &u, CKR_BUFFER_TOO_SMALL);
	assert_int_equal(u.session, first);
	assert_int_equal(fake.closed, 0);

	request_failing(t, &u, CKR_FUNCTION_FAILED);
	assert_int_equal(token_check(t, &em), 0);
	assert_int_equal(u.session, CK_INVALID_HANDLE);
	assert_int_equal(fake.closed, 1); /* closed: it is this generation's */
	token_enter(t, &u);
	assert_int_not_equal(u.session, CK_INVALID_HANDLE);
	assert_int_not_equal(u.session, first);
	token_leave(t, &u);
	token_close(t);
}

/* A session from before a recovery is forgotten, not closed: its handle
 * may name another thread's session by now. */
static void test_generation_voids_sessions(void **state)
{
	struct token *t = fake_token();
	struct token_user u = {.session = CK_INVALID_HANDLE};
	unsigned long gen;

	(void)state;
	token_enter(t, &u);
	token_leave(t, &u);
	gen = token_generation(t);
	atomic_fetch_add(&t->generation, 1);
	assert_int_equal(token_generation(t), gen + 1);

	token_enter(t, &u);
	assert_int_equal(u.generation, gen + 1);
	assert_int_equal(fake.opened, 2);
	token_leave(t, &u);
	assert_int_equal(fake.closed, 0);

	/* a failure on it later closes it, being current */
	request_failing(t, &u, CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(fake.closed, 1);
	token_close(t);
}

/* Down, then: a retry that is not due does nothing; failed attempts double
 * the wait, the second re-initializes the module; a successful one brings
 * the token back in a new generation. */
static void test_recovery(void **state)
{
	struct token *t = fake_token();
	struct token_user u = {.session = CK_INVALID_HANDLE};
	struct errmsg em = {0};
	unsigned long gen;

	(void)state;
	request_failing(t, &u, CKR_DEVICE_REMOVED);
	gen = token_generation(t);
	fake.info_rv = CKR_TOKEN_NOT_PRESENT;

	token_maintain(t); /* not due yet */
	assert_int_equal(t->attempts, 0);
	assert_int_equal(t->backoff_ms, 100);

	t->next_retry_ms = 0;
	token_maintain(t); /* looks in the old slot only */
	assert_int_equal(t->attempts, 1);
	assert_int_equal(t->backoff_ms, 200);
	assert_int_equal(fake.finalized, 0);
	assert_int_equal(token_generation(t), gen);

	t->next_retry_ms = 0;
	token_maintain(t); /* re-initializes, and finds no token */
	assert_int_equal(t->attempts, 2);
	assert_int_equal(t->backoff_ms, 400);
	assert_int_equal(fake.finalized, 1);
	assert_int_equal(fake.initialized, 1);
	assert_int_equal(token_generation(t), gen + 1);
	assert_int_equal(token_check(t, &em), SIGNET_E_UNAVAILABLE);

	fake.info_rv = CKR_OK;
	t->next_retry_ms = 0;
	token_maintain(t);
	assert_int_equal(token_check(t, &em), 0);
	assert_int_equal(token_generation(t), gen + 2);
	assert_int_equal(fake.closed_all, 1);
	assert_int_not_equal(t->login_session, CK_INVALID_HANDLE);

	/* the worker's next request gets a session of the new generation */
	token_enter(t, &u);
	assert_int_not_equal(u.session, CK_INVALID_HANDLE);
	assert_int_equal(u.generation, gen + 2);
	token_leave(t, &u);
	token_close(t);
}

static void test_health(void **state)
{
	struct token *t = fake_token();
	struct token_user u = {.session = CK_INVALID_HANDLE};
	char buf[160];

	(void)state;
	assert_int_equal(token_health(t, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ok");
	request_failing(t, &u, CKR_DEVICE_REMOVED);
	assert_int_equal(token_health(t, buf, sizeof(buf)), SIGNET_E_UNAVAILABLE);
	assert_true(strncmp(buf, "down: CKR_DEVICE_REMOVED since ", 31) == 0);
	assert_non_null(strstr(buf, ", retrying"));
	token_close(t);
}

/* Health is how an idle daemon notices a removed token. */
static void test_health_notices_removal(void **state)
{
	struct token *t = fake_token();
	char buf[160];

	(void)state;
	fake.info_rv = CKR_DEVICE_REMOVED;
	assert_int_equal(token_health(t, buf, sizeof(buf)), SIGNET_E_UNAVAILABLE);
	assert_string_equal(buf, "C_GetTokenInfo: CKR_DEVICE_REMOVED");
	assert_int_equal(atomic_load(&t->state), TOKEN_DOWN);
	token_close(t);
}

/* CKR_GENERAL_ERROR alone says nothing certain: the token is asked
 * (C_GetTokenInfo) and stays up while it answers, unless the error repeats
 * TOKEN_GENERAL_ERROR_LIMIT requests in a row; a request with no failure
 * starts the count again. */
static void test_general_error_repeated(void **state)
{
	struct token *t = fake_token();
	struct token_user u = {.session = CK_INVALID_HANDLE};
	struct errmsg em = {0};

	(void)state;
	for (int i = 0; i < TOKEN_GENERAL_ERROR_LIMIT - 1; i++)
		request_failing(t, &u, CKR_GENERAL_ERROR);
	assert_int_equal(token_check(t, &em), 0);
	request_failing(t, &u, CKR_OK);
	for (int i = 0; i < TOKEN_GENERAL_ERROR_LIMIT - 1; i++)
		request_failing(t, &u, CKR_GENERAL_ERROR);
	assert_int_equal(token_check(t, &em), 0);
	request_failing(t, &u, CKR_GENERAL_ERROR);
	assert_int_equal(token_check(t, &em), SIGNET_E_UNAVAILABLE);
	assert_non_null(strstr(em.text, "down: CKR_GENERAL_ERROR"));
	token_close(t);
}

/* A CKR_GENERAL_ERROR while C_GetTokenInfo fails too: down at once. */
static void test_general_error_token_failing(void **state)
{
	struct token *t = fake_token();
	struct token_user u = {.session = CK_INVALID_HANDLE};
	struct errmsg em = {0};

	(void)state;
	request_failing(t, &u, CKR_GENERAL_ERROR);
	assert_int_equal(token_check(t, &em), 0);
	fake.info_rv = CKR_GENERAL_ERROR;
	request_failing(t, &u, CKR_GENERAL_ERROR);
	assert_int_equal(token_check(t, &em), SIGNET_E_UNAVAILABLE);
	assert_non_null(strstr(em.text, "CKR_GENERAL_ERROR"));
	token_close(t);
}

/* A token down for CKR_GENERAL_ERROR is in an unknown state inside the
 * module: the first recovery attempt re-initializes it already. */
static void test_general_error_recovery(void **state)
{
	struct token *t = fake_token();
	struct token_user u = {.session = CK_INVALID_HANDLE};
	struct errmsg em = {0};

	(void)state;
	fake.info_rv = CKR_GENERAL_ERROR;
	request_failing(t, &u, CKR_GENERAL_ERROR);
	assert_int_equal(atomic_load(&t->state), TOKEN_DOWN);
	fake.info_rv = CKR_OK;
	t->next_retry_ms = 0;
	token_maintain(t);
	assert_int_equal(fake.finalized, 1);
	assert_int_equal(fake.initialized, 1);
	assert_int_equal(token_check(t, &em), 0);
	token_close(t);
}

/* token_confirm: the token's own word on a miss; a failure marks it down. */
static void test_confirm(void **state)
{
	struct token *t = fake_token();
	struct errmsg em = {0};

	(void)state;
	assert_int_equal(token_confirm(t, &em), 0);
	fake.info_rv = CKR_GENERAL_ERROR;
	assert_int_equal(token_confirm(t, &em), SIGNET_E_UNAVAILABLE);
	assert_string_equal(em.text, "C_GetTokenInfo: CKR_GENERAL_ERROR");
	assert_int_equal(atomic_load(&t->state), TOKEN_DOWN);
	assert_int_equal(token_confirm(t, &em), SIGNET_E_UNAVAILABLE);
	assert_non_null(strstr(em.text, "down: CKR_GENERAL_ERROR"));
	token_close(t);
}

/* Health that meets CKR_GENERAL_ERROR marks the token down as well. */
static void test_health_general_error(void **state)
{
	struct token *t = fake_token();
	char buf[160];

	(void)state;
	fake.info_rv = CKR_GENERAL_ERROR;
	assert_int_equal(token_health(t, buf, sizeof(buf)), SIGNET_E_UNAVAILABLE);
	assert_string_equal(buf, "C_GetTokenInfo: CKR_GENERAL_ERROR");
	assert_int_equal(atomic_load(&t->state), TOKEN_DOWN);
	token_close(t);
}

static void test_accessors(void **state)
{
	struct token *t = fake_token();

	(void)state;
	assert_string_equal(token_label(t), "signet-test");
	assert_string_equal(token_serial(t), "0001");
	assert_string_equal(token_model(t), "model");
	assert_string_equal(token_manufacturer(t), "fake");
	assert_int_equal(token_slot_id(t), FAKE_SLOT);
	token_close(t);
	token_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gone_codes),
		cmocka_unit_test(test_backoff_schedule),
		cmocka_unit_test(test_gone_marks_down),
		cmocka_unit_test(test_session_failures),
		cmocka_unit_test(test_generation_voids_sessions),
		cmocka_unit_test(test_recovery),
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_health_notices_removal),
		cmocka_unit_test(test_general_error_repeated),
		cmocka_unit_test(test_general_error_token_failing),
		cmocka_unit_test(test_general_error_recovery),
		cmocka_unit_test(test_confirm),
		cmocka_unit_test(test_health_general_error),
		cmocka_unit_test(test_accessors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
