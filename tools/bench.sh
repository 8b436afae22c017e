#!/bin/sh
# make bench: the runner's cost per case against the bare cost of what a case must do.
# Prints ratios; the targets are in DESIGN.md (overhead ratio <= 1.5).
set -e
cd "$(dirname "$0")/.."
cc -O2 -D_GNU_SOURCE -o tools/bare-case tools/bare-case.c
N=${BENCH_N:-400}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" tools/bare-case' EXIT
mkdir -p "$tmp/cases"
cat > "$tmp/cases/0001-trivial.case" <<CASE
case 0001
title    a trivial case: one bind in a fresh namespace
group    bench
matrix   n $(seq -s ' ' 1 $N)
test:
    socket s tcp
    bind   s loopback 4000
expect ok
    why  nothing holds the port
    ref  bind(2)
CASE
bare=$(./tools/bare-case $N)
start=$(date +%s%N)
runner/sockreuse run --cases "$tmp/cases" -j 1 --tap /dev/null 2>/dev/null >/dev/null || true
end=$(date +%s%N)
runner_ms=$(awk "BEGIN{print ($end - $start) / 1000000 / $N}")
printf 'bare fork+unshare+lo up+bind: %.3f ms per case\n' "$bare"
printf 'runner, trivial case (-j 1):  %.3f ms per case\n' "$runner_ms"
printf 'overhead ratio %.2f (target <= 1.5)\n' "$(awk "BEGIN{print $runner_ms / $bare}")"
start=$(date +%s%N)
runner/sockreuse run -j 2 --tap /dev/null >/dev/null 2>"$tmp/summary" || true
end=$(date +%s%N)
printf 'whole suite, -j 2: %.2f s (%s)\n' "$(awk "BEGIN{print ($end - $start) / 1000000000}")" "$(tail -1 "$tmp/summary")"
