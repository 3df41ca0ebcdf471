#!/usr/bin/env bash
# Every RPC through libsignet (itest_client), then a clean SIGTERM shutdown.
source "$(dirname "$0")/lib.sh"
it_setup
it_start
"$SIGNET_BUILD_DIR/tests/integration/itest_client" || it_fail "itest_client failed"
it_stop
echo "client: ok"
