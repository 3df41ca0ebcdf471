#!/usr/bin/env bash
# The daemon's layers, checked: each folder of daemon/ is a library whose
# DEPENDS (its CMakeLists.txt) name the folders below it. This fails when
#  - the DEPENDS between folders form a cycle, or
#  - a file includes a header of a folder its own folder does not depend on,
#    directly or through the folders below ("rpc/rpc.h" from hsm/), or
#  - a folder includes a header of the top level (server.h, reload.h, ...).
# So the include graph reads top-down, and the CMake files are the one place
# that says what may use what.
set -euo pipefail
daemon=${1:-$(dirname "${BASH_SOURCE[0]}")/../../daemon}
cd "$daemon"

declare -A deps closure
folders=()
for cm in */CMakeLists.txt; do
	folder=${cm%/CMakeLists.txt}
	folders+=("$folder")
	# signetd_module(NAME SOURCES ... DEPENDS a b ...): the signetd_* names after DEPENDS
	deps[$folder]=$(tr '\n' ' ' <"$cm" | sed -n 's/.*signetd_module([^)]*DEPENDS\([^)]*\)).*/\1/p' |
		grep -o 'signetd_[a-z_]*' | sed 's/^signetd_//' | tr '\n' ' ' || true)
done

# closure(f): every folder f may use, by depth-first search; a folder met
# again while it is being expanded is a cycle.
declare -A state
fail=0
expand() {
	local f=$1 d
	case ${state[$f]:-} in
	expanded) return 0 ;;
	open)
		echo "layers: the DEPENDS of daemon/ folders form a cycle through $f" >&2
		fail=1
		return 0
		;;
	esac
	state[$f]=open
	closure[$f]=""
	for d in ${deps[$f]}; do
		if [[ ! -f $d/CMakeLists.txt ]]; then
			echo "layers: $f depends on signetd_$d, which is no folder" >&2
			fail=1
			continue
		fi
		expand "$d"
		closure[$f]+=" $d ${closure[$d]}"
	done
	state[$f]=expanded
}
for f in "${folders[@]}"; do expand "$f"; done

top_headers=$(find . -maxdepth 1 -name '*.h' -printf '%f\n')
checked=0
for f in "${folders[@]}"; do
	while IFS=: read -r file line inc; do
		checked=$((checked + 1))
		inc=${inc#*\"}
		inc=${inc%\"*}
		target=${inc%%/*}
		if [[ $inc != */* ]]; then
			# unqualified: the top level's headers are off limits below it
			if grep -qx "$inc" <<<"$top_headers"; then
				echo "layers: $file:$line includes the top level's $inc" >&2
				fail=1
			fi
			continue
		fi
		[[ $target == "$f" || ! -d $target ]] && continue
		if [[ " ${closure[$f]} " != *" $target "* ]]; then
			echo "layers: $file:$line includes $inc, but $f does not depend on $target" >&2
			fail=1
		fi
	done < <(grep -Hn '^#include "' "$f"/*.[ch] | sed 's/:#include /:/')
done
if ((checked == 0)); then
	echo "layers: no include found under $daemon: nothing was checked" >&2
	exit 1
fi
if ((fail)); then exit 1; fi
echo "layers: ${#folders[@]} folders, $checked includes, all top-down"
