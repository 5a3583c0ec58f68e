#!/usr/bin/env bash
# Instructions per echoed message in an echo server's user space, counted by callgrind (exact
# and repeatable, whatever else the machine does; the kernel's share is not counted). The README
# quotes it for the emulated port, the Reactor and raw epoll.
#
#   make -C ../shared/bench/c OUT=$PWD/target/c-bench
#   cargo build --release -p overlap-cli
#   docs/callgrind-echo.sh target/release/overlap echo-server --model completion --backend epoll --threads 1
#   docs/callgrind-echo.sh target/c-bench/echo_epoll
#
# The server runs under valgrind (about 40 times slower), loaded by the shared C client with 16
# connections for 5 s (CONNS, SECS). valgrind cannot run io_uring servers.
set -euo pipefail
C=${C_BENCH:-$(dirname "$0")/../target/c-bench}
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
out=$(mktemp)
valgrind --tool=callgrind --callgrind-out-file="$out" "$@" --port "$port" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 200); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), timeout=1).close()" 2>/dev/null && break
    sleep 0.1
done
result=$("$C/client" --port "$port" --conns "${CONNS:-16}" --size 64 --secs "${SECS:-5}" --warmup 0)
kill -TERM $server
wait $server 2>/dev/null || true
msgs=$(sed -E 's/.*msgs=([0-9]+).*/\1/' <<<"$result")
instructions=$(callgrind_annotate "$out" 2>/dev/null | grep 'PROGRAM TOTALS' | sed -E 's/^ *([0-9,]+).*/\1/' | tr -d ,)
echo "messages=$msgs instructions=$instructions per-message=$((instructions / msgs))"
