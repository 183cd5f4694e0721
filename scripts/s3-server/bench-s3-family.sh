#!/usr/bin/env bash
# Runs the S3 benchmark (bench verb s3-family) against a throwaway Ceph RGW: starts it with start.sh in its own state
# directory, runs the benchmark (Release build, niced), and stops the server again whatever happens. Arguments go to
# the benchmark, e.g. --mib 100 --versions 4 (the default: a 500 MiB family). Run as root from the repository root.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export Z4AI_S3_STATE="${Z4AI_S3_STATE:-${TMPDIR:-/tmp}/z4ai-s3-bench}"

"$HERE/start.sh" >/dev/null
trap '"$HERE/stop.sh" >/dev/null 2>&1 || true' EXIT
# shellcheck disable=SC1091
. "$Z4AI_S3_STATE/env.sh"
nice -n 19 dotnet run -c Release --project "$ROOT/bench/Z4Ai.Benchmarks" -- s3-family "$@"
