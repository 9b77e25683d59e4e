#!/bin/sh
# await_temporaries_rejected CXX INCLUDE_DIR SOURCE: the documented form compiles, and each hazardous form
# of the co_await temporaries rule fails on the deleted overload that takes an rvalue (GCC before 13):
# "use of deleted function", or an ambiguous call whose candidates include it ("(deleted)").
cxx=$1 inc=$2 src=$3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! "$cxx" -std=c++20 -fsyntax-only -Wall -Wextra -Werror -I"$inc" "$src" >"$out" 2>&1; then
  echo "FAILED: the documented form does not compile:"; cat "$out"; exit 1
fi
echo "ok: the documented form compiles"
status=0
for form in 1 2 3; do
  if "$cxx" -std=c++20 -fsyntax-only -I"$inc" -DSQUALL_HAZARDOUS_FORM=$form "$src" >"$out" 2>&1; then
    echo "FAILED: hazardous form $form compiles"; status=1
  elif ! grep -q "use of deleted function\|(deleted)" "$out"; then
    echo "FAILED: hazardous form $form fails for another reason:"; cat "$out"; status=1
  else
    echo "ok: hazardous form $form is rejected: $(grep -m1 'error:' "$out")"
  fi
done
exit $status
