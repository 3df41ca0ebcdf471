/*
 * A PKCS#11 function list that fails every call with CKR_DEVICE_ERROR, so
 * that fuzzing and unit tests can drive request handlers without a token.
 * Only the functions signetd's handlers call are filled in; reaching any
 * other one crashes on purpose (a NULL call), which would be a finding.
 */
#ifndef SIGNET_TESTS_FAKE_TOKEN_H
#define SIGNET_TESTS_FAKE_TOKEN_H

#include "hsm/token.h"

/* A token on that function list, up, named "fake"; NULL when out of memory.
 * Release with token_close(). */
struct token *fake_token_new(void);

#endif
