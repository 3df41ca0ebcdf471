#!/usr/bin/env bash
# layers.sh must refuse what it exists to refuse: run it on small made-up
# daemon trees, one fault each, and on one without a fault.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# tree NAME: base <- hsm <- rpc, each with one .c including its own header.
tree() {
	local t=$tmp/$1 d
	mkdir -p "$t"
	for d in base hsm rpc; do
		mkdir -p "$t/$d"
		echo "#include \"$d/$d.h\"" >"$t/$d/$d.c"
		: >"$t/$d/$d.h"
	done
	echo 'signetd_module(base SOURCES base.c DEPENDS PkgConfig::OPENSSL)' >"$t/base/CMakeLists.txt"
	printf 'signetd_module(hsm SOURCES hsm.c\n  DEPENDS signetd_base)\ntarget_link_libraries(signetd_rpc x)\n' >"$t/hsm/CMakeLists.txt"
	echo 'signetd_module(rpc SOURCES rpc.c DEPENDS signetd_hsm)' >"$t/rpc/CMakeLists.txt"
	: >"$t/server.h"
	echo "$t"
}

expect() {
	local want=$1 name=$2 t=$3 out rc=0
	out=$(bash "$here/layers.sh" "$t" 2>&1) || rc=$?
	if [[ $want == pass && $rc != 0 ]] || [[ $want == fail && $rc == 0 ]]; then
		echo "FAIL: $name: expected $want, layers.sh said (rc=$rc): $out"
		exit 1
	fi
	echo "ok: $name: $out"
}

t=$(tree clean)
echo '#include "base/base.h"' >>"$t/rpc/rpc.c" # two layers down: allowed
expect pass "a clean tree" "$t"

t=$(tree upward)
echo '#include "rpc/rpc.h"' >>"$t/base/base.c"
expect fail "an include back up" "$t"

t=$(tree sideways)
mkdir -p "$t/records" && : >"$t/records/records.h"
echo 'signetd_module(records SOURCES r.c DEPENDS signetd_base)' >"$t/records/CMakeLists.txt"
echo '#include "records/records.h"' >>"$t/hsm/hsm.c"
expect fail "an include of a folder not depended on" "$t"

t=$(tree top)
echo '#include "server.h"' >>"$t/hsm/hsm.c"
expect fail "an include of the top level" "$t"

t=$(tree cycle)
echo 'signetd_module(base SOURCES base.c DEPENDS signetd_rpc)' >"$t/base/CMakeLists.txt"
expect fail "a cycle of DEPENDS" "$t"

echo "layers_selftest: 5 passed, 0 failed"
