#!/usr/bin/env bash
# Started as root, signetd reads the PIN, opens the token and binds its
# socket as root, then serves as the configured user: /proc shows the
# dropped ids, the process is not dumpable, and it still serves. The socket
# directory it creates is 0750 for that user and group, the socket 0660: a
# member of the group may connect, anyone else may not. Started as root
# without a user, it refuses to start. Needs root; skipped otherwise.
source "$(dirname "$0")/lib.sh"
if ((EUID != 0)); then
	echo "privileges: skipped: needs root to start signetd as root and drop to nobody"
	exit 0
fi
command -v setpriv >/dev/null || it_fail "setpriv (util-linux) is missing"
it_setup
D="$IT_DIR"
user=nobody
uid=$(id -u "$user")
group=$(id -gn "$user")
gid=$(id -g "$user")

# What the dropped daemon needs: to traverse the test directory, and its
# own token store and state directory. The PIN file stays root's 0600.
chmod 0711 "$D" "$D/token"
chown -R "$user:$group" "$D/token/tokens"
mkdir -m 0700 "$D/state"
chown "$user:$group" "$D/state"
export SIGNET_ENDPOINT="ipc://$D/run/signetd.sock"
it_write_config "$D/base.conf"
sed "s/^user = \"root\";/user = \"$user\";/" "$D/base.conf" >"$D/signetd.conf"
grep -q "^user = \"$user\";" "$D/signetd.conf" || it_fail "user not written"

# root without a user setting: refused, with the reason
grep -v '^user = ' "$D/base.conf" >"$D/nouser.conf"
rc=0
timeout 20 "$SIGNETD" --config "$D/nouser.conf" >"$D/nouser.log" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || it_fail "root without user: exit $rc, wanted 1"
grep -q "started as root without a 'user' setting" "$D/nouser.log" || it_fail "no reason: $(cat "$D/nouser.log")"
[[ ! -e "$D/run" ]] || it_fail "root without user: the socket directory was created"
sed "s/^user = \"root\";/user = \"no-such-user-signet\";/" "$D/base.conf" >"$D/baduser.conf"
rc=0
timeout 20 "$SIGNETD" --config "$D/baduser.conf" >"$D/baduser.log" 2>&1 || rc=$?
[[ $rc -eq 1 ]] && grep -q "no such user" "$D/baduser.log" || it_fail "unknown user: $(cat "$D/baduser.log")"

it_start "$D/signetd.conf"
status=/proc/$IT_PID/status
grep -qE "^Uid:\s+$uid\s+$uid\s+$uid\s+$uid$" "$status" || it_fail "uids not dropped: $(grep ^Uid "$status")"
grep -qE "^Gid:\s+$gid\s+$gid\s+$gid\s+$gid$" "$status" || it_fail "gids not dropped: $(grep ^Gid "$status")"
groups=$(awk '/^Groups:/ { $1 = ""; print }' "$status")
[[ " $groups " != *" 0 "* ]] || it_fail "root's group kept: $groups"
# a process that is not dumpable has its /proc files owned by root
[[ $(stat -c %u "$status") == 0 ]] || it_fail "dumpable again after the uid change"
grep -q "serving as user '$user'" "$D/signetd.log" || it_fail "the drop is not logged"

# it serves, and writes its token and state as the dropped user
"$SIGNET" key generate --alg p256 dropped-key >/dev/null || it_fail "key generation as $user"
"$SIGNET" health >/dev/null || it_fail "health as $user"
[[ $(stat -c %U "$D/state/ledger.db") == "$user" ]] || it_fail "ledger not written as $user"

# the socket directory and the socket
[[ $(stat -c '%a %U %G' "$D/run") == "750 $user $group" ]] ||
	it_fail "socket directory: $(stat -c '%a %U %G' "$D/run"), wanted 750 $user $group"
[[ $(stat -c '%a %U %G' "$D/run/signetd.sock") == "660 $user $group" ]] ||
	it_fail "socket: $(stat -c '%a %U %G' "$D/run/signetd.sock"), wanted 660 $user $group"
# a member of the group connects, another user does not (uid 12345 has no account)
as_member=(setpriv --reuid=12345 --regid="$gid" --clear-groups)
as_other=(setpriv --reuid=12345 --regid=12345 --clear-groups)
ASAN_OPTIONS=detect_leaks=0 "${as_member[@]}" "$SIGNET" --timeout 3000 health >/dev/null 2>"$D/member.err" ||
	it_fail "a member of group $group cannot connect: $(cat "$D/member.err")"
rc=0
ASAN_OPTIONS=detect_leaks=0 "${as_other[@]}" "$SIGNET" --timeout 1000 health >/dev/null 2>"$D/other.err" || rc=$?
[[ $rc -ne 0 ]] || it_fail "a user outside group $group connected"
# (nanomsg retries a refused connect until the timeout: say why it failed)
"${as_other[@]}" ls "$D/run" >/dev/null 2>"$D/other.ls" && it_fail "a user outside group $group can enter $D/run"
grep -q "Permission denied" "$D/other.ls" || it_fail "not a permission refusal: $(cat "$D/other.ls")"

it_stop
[[ ! -e "$D/run/signetd.sock" ]] || it_fail "socket left behind by the dropped daemon"
echo "privileges: ok"
