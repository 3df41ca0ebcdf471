#!/usr/bin/env bash
# 1,500 half-open connections do not starve Health: signetd raises its soft
# file descriptor limit to the hard one at start-up, so connections that
# never finish the SP handshake (each holds one of signetd's fds until
# nanomsg's handshake timeout) cannot use up the 1024 a shell's default
# soft limit gives. signetd runs with soft 1024 / hard 4096 here; the
# client holding the connections raises its own limit.
source "$(dirname "$0")/lib.sh"
HOLD=1500

hard=$(ulimit -Hn)
if [[ $hard != unlimited ]] && ((hard < HOLD + 200)); then
	echo "SKIP: the hard fd limit ($hard) is below what the test needs" >&2
	exit 77
fi
command -v python3 >/dev/null || it_fail "python3 not found (scripts/deps.sh installs it)"
it_setup
D="$IT_DIR"
# signetd and everything else started from here: soft 1024, hard 4096
ulimit -Sn 1024
ulimit -Hn 4096
it_start
grep -q "file descriptor limit" "$D/signetd.log" || it_fail "signetd did not log its fd limit"

# hold PATH N SECONDS READY: keep N raw connections to the ipc socket open
# for SECONDS, none ever sending the SP header; the ones signetd closes (its
# handshake timeout) are opened again. READY gets how many are open once N
# are, or after 4 s (a signetd out of fds takes no more).
hold() {
	python3 - "$@" <<'PY'
import resource, select, socket, sys, time

path, n, seconds, ready = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
held, poller, most, told = {}, select.poll(), 0, False
start = time.monotonic()
end = start + seconds
while time.monotonic() < end:
    # a blocking connect waits while signetd's listen backlog is full, so
    # connections are opened as fast as signetd accepts them
    while len(held) < n:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(0.1)
        try:
            s.connect(path)
        except OSError:  # signetd takes no more just now
            s.close()
            break
        s.setblocking(False)
        held[s.fileno()] = s
        poller.register(s, select.POLLIN)
    for fd, _ in poller.poll(0):
        s = held[fd]
        try:
            if s.recv(64) != b"":  # signetd's SP header: never answered
                continue
        except BlockingIOError:
            continue
        except OSError:
            pass
        poller.unregister(fd)
        del held[fd]
        s.close()
    most = max(most, len(held))
    if not told and (len(held) >= n or time.monotonic() > start + 4):
        with open(ready, "w") as f:
            f.write("%d\n" % len(held))
        told = True
print("held at most %d" % most)
PY
}

hold "$D/signetd.sock" "$HOLD" 12 "$D/ready" >"$D/hold.out" 2>&1 &
holder=$!
for _ in $(seq 1 60); do
	[[ -s $D/ready ]] && break
	kill -0 "$holder" 2>/dev/null || it_fail "the connection holder died: $(cat "$D/hold.out")"
	sleep 0.1
done
[[ -s $D/ready ]] || it_fail "the holder did not get going: $(cat "$D/hold.out")"

# while they are held, Health answers SERVING, each time within 2 s; and
# signetd took them all (one out of descriptors leaves the rest, and any
# new client, waiting in the listen backlog)
for i in 1 2 3; do
	"$SIGNET" --timeout 2000 health >"$D/health" 2>&1 ||
		it_fail "Health $i failed with $(cat "$D/ready") connections held: $(cat "$D/health")"
	grep -q '^SERVING' "$D/health" || it_fail "Health $i: $(cat "$D/health")"
done
kill -0 "$holder" 2>/dev/null || it_fail "the holder stopped early: $(cat "$D/hold.out")"
(($(cat "$D/ready") >= HOLD)) || it_fail "only $(cat "$D/ready") of $HOLD connections were taken"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
kill -0 "$IT_PID" 2>/dev/null || it_fail "signetd exited"
it_stop
echo "PASS: Health served with $HOLD half-open connections held"
