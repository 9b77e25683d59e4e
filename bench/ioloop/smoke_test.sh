#!/usr/bin/env bash
# Smoke test of the ioloop peer programs (not a performance test): the echo server starts and stops on
# SIGTERM, every client completes round trips against it and prints well-formed result lines, the
# micro-benchmark prints its four lines, and bad options are refused.
# Usage: smoke_test.sh <dir with the bench_* programs>
set -euo pipefail
dir=$1
tmp=$(mktemp -d)
server_pid=""
cleanup() {
    if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# Each line must be one result object with a positive value; prints the number of lines checked.
check_lines() {
    /usr/bin/python3 -c '
import json, sys
want_bench, want_impl = sys.argv[1], sys.argv[2]
n = 0
for line in sys.stdin:
    r = json.loads(line)
    assert set(r) == {"bench", "impl", "params", "metric", "value", "unit"}, r
    assert r["bench"] == want_bench and r["impl"] == want_impl, r
    assert isinstance(r["value"], float) and r["value"] > 0, r
    n += 1
print(n)' "$1" "$2"
}

"$dir/bench_echo_server" --port 0 >"$tmp/server.out" &
server_pid=$!
for _ in $(seq 50); do
    [[ -s $tmp/server.out ]] && break
    sleep 0.1
done
read -r word port <"$tmp/server.out" || fail "echo server printed nothing"
[[ $word == listening && $port -gt 0 ]] || fail "echo server said: $word $port"

for client in raw_epoll raw_uring libuv; do
    prog=$dir/bench_pingpong_$client
    [[ -x $prog ]] || { echo "skip $client: not built"; continue; }
    for c in 1 8; do
        if ! "$prog" --port "$port" --connections $c --duration 0.3 --warmup 0.1 >"$tmp/out" 2>"$tmp/err"; then
            if [[ $client == raw_uring ]] && grep -q io_uring_queue_init "$tmp/err"; then
                echo "skip raw_uring: io_uring refused here ($(cat "$tmp/err"))"
                break
            fi
            fail "$client c=$c: $(cat "$tmp/err")"
        fi
        n=$(check_lines ioloop_pingpong "${client/_/-}" <"$tmp/out") || fail "$client c=$c output: $(cat "$tmp/out")"
        [[ $n == 2 ]] || fail "$client c=$c printed $n lines"
        grep -q "\"c\": $c, \"size\": 64" "$tmp/out" || fail "$client c=$c params: $(cat "$tmp/out")"
    done
    # A 100 kB message cannot travel in one segment: partial sends and receives must still add up.
    "$prog" --port "$port" --connections 2 --size 100000 --duration 0.3 --warmup 0 >"$tmp/out" 2>"$tmp/err" ||
        grep -q io_uring_queue_init "$tmp/err" || fail "$client large messages: $(cat "$tmp/err")"
    if "$prog" --port "$port" --connections 0 >/dev/null 2>&1; then fail "$client accepted --connections 0"; fi
done

if [[ -x $dir/bench_loop_ops_libuv ]]; then
    n=$("$dir/bench_loop_ops_libuv" --duration 0.1 --warmup 0 | grep -c '"impl": "libuv"') || true
    [[ $n == 4 ]] || fail "bench_loop_ops_libuv printed $n lines"
fi

kill -TERM "$server_pid"
wait "$server_pid" || fail "echo server exited with $? on SIGTERM"
server_pid=""
echo "ioloop peers: ok"
