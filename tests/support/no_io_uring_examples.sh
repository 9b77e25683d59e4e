#!/bin/sh
# Each example and CLI forced to io_uring (SQUALL_IOLOOP=uring) on a host that refuses it (no_io_uring):
# it must print the loop's one-line BackendUnavailableError, which says how to use epoll, and exit with
# its error status; never die in std::terminate (SIGABRT) or hang.
#   no_io_uring_examples.sh NO_IO_URING_WRAPPER "PROGRAM [ARG...]"...
wrapper=$1
shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
failed=0
for cmd in "$@"; do
  # shellcheck disable=SC2086  # each argument is a program and its arguments, split on spaces
  SQUALL_IOLOOP=uring timeout 20 "$wrapper" $cmd </dev/null >/dev/null 2>"$out"
  code=$?
  if [ "$code" -eq 0 ] || [ "$code" -ge 124 ]; then
    echo "FAILED: '$cmd' exited with $code (want an error status, not success, a signal or a timeout):"
    cat "$out"
    failed=1
  elif ! grep -q "io_uring backend unavailable.*SQUALL_IOLOOP=epoll" "$out"; then
    echo "FAILED: '$cmd' exited with $code without the loop's message saying how to use epoll:"
    cat "$out"
    failed=1
  else
    echo "ok: $(basename "${cmd%% *}") exits $code: $(cat "$out")"
  fi
done
exit $failed
