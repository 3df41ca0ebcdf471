#!/usr/bin/env bash
# records/sql.c's unit tests against a real PostgreSQL: a private server, and
# test_daemon_sql told where it is (it skips its PostgreSQL cases when
# SIGNET_TEST_PG_CONNINFO is not set, as under the unit label).
source "$(dirname "$0")/lib.sh"
# tests/CMakeLists.txt builds the unit programs in the build's tests/
UNIT=""
for f in "$SIGNET_BUILD_DIR/tests/test_daemon_sql" "$SIGNET_BUILD_DIR/tests/unit/test_daemon_sql"; do
	[[ -x $f ]] && UNIT=$f && break
done
[[ -n $UNIT ]] || it_fail "test_daemon_sql not built in $SIGNET_BUILD_DIR/tests (ninja test_daemon_sql)"
it_tmpdir
it_pg_start
rc=0
SIGNET_TEST_PG_CONNINFO=$PG_URI SIGNET_TEST_PG_PASSWORD_FILE=$PG_PASSWORD_FILE "$UNIT" || rc=$?
((rc == 0)) || it_fail "test_daemon_sql on $PG_URI exited $rc"
echo "sql_pg: OK"
