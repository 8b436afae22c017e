#!/bin/sh
# One CI job of the fan-out: the suite on one kernel, the host's or a Debian kernel booted
# under qemu (TCG), its JSON report left in OUT. Case failures do not fail this job: the
# merge job compares the reports and publishes them.
#   sh docs/ci/kernel-job.sh KERNEL [OUT]      (make ci-kernel KERNEL=... CI_OUT=...)
# KERNEL is what kernels/run takes: host, 6.1, 6.1.0-57, 6.12.117+deb12, 6.1.170..6.1.192.
# FILTER (optional) runs only the cases matching that glob.
set -eu
cd "$(dirname "$0")/../.."
[ $# -ge 1 ] || { echo "usage: $0 KERNEL [OUT]" >&2; exit 2; }
kernel=$1
out=${2:-ci-out}
make --no-print-directory sockreuse >/dev/null
set -- --no-compare --fresh --out "$out" "$kernel"
if [ -n "${FILTER:-}" ]; then
	set -- --filter "$FILTER" "$@"
fi
sh kernels/run "$@"
ls "$out"/*.json
