#!/bin/sh
# The last CI job: every report the kernel jobs uploaded (any *.json or *.json.gz under IN)
# compared in one go, ordered by kernel version: OUT/compare.html (one self-contained page),
# OUT/compare.md, OUT/junit.xml (a changed case is a failed test) and OUT/timeline.md.
#   sh docs/ci/merge-job.sh IN [OUT]          (make ci-merge CI_IN=... CI_OUT=...)
# Exit 0 whether or not something changed (the JUnit report carries it); FAIL_ON_CHANGE=1
# makes a change fail the job. Exit 2: fewer than two reports, or a bad one.
set -eu
cd "$(dirname "$0")/../.."
[ $# -ge 1 ] || { echo "usage: $0 IN [OUT]" >&2; exit 2; }
in=$1
out=${2:-ci-merged}
make --no-print-directory sockreuse >/dev/null
mkdir -p "$out"
reports=$(find "$in" -type f \( -name '*.json' -o -name '*.json.gz' \) | sort)
n=$(printf '%s\n' $reports | grep -c . || true)
if [ "$n" -lt 2 ]; then
	echo "$0: $n report(s) under $in; compare needs two or more" >&2
	exit 2
fi
rc=0
for fmt in html md junit; do
	ext=$fmt; [ $fmt = junit ] && ext=xml
	name=compare; [ $fmt = junit ] && name=junit
	# shellcheck disable=SC2086
	./sockreuse compare $reports --format $fmt --output "$out/$name.$ext" || rc=$?
	[ $rc -le 1 ] || exit $rc
done
# shellcheck disable=SC2086
PYTHONPATH=kernels /usr/bin/python3 -m harness.timeline $reports > "$out/timeline.md"
echo "$0: $n reports -> $out/compare.html $out/compare.md $out/junit.xml $out/timeline.md"
if [ "$rc" -eq 1 ] && [ "${FAIL_ON_CHANGE:-0}" = 1 ]; then
	exit 1
fi
exit 0
