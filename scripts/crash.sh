#!/usr/bin/env bash
# Crash-consistency and concurrency runs with real z4ai processes (tests/Z4Ai.Cli.Tests):
#   scripts/crash.sh [--kills N] [--seed S] [--writers W] [--only crash|concurrency] [--no-build]
# --kills: how many registry add / gc / compress runs are killed with SIGKILL mid-way (CI default 30; the long
# run is --kills 200); --seed: the sequence of operations and kill instants; --writers: versions added at once in
# the concurrency run (default 4). Runs at the lowest CPU priority (Z4AI_NICE overrides 19); prints the figures
# line of each run.
set -euo pipefail
cd "$(dirname "$0")/.."

kills=30 seed=20261124 writers=4 only="" build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --kills) kills="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --writers) writers="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "usage: scripts/crash.sh [--kills N] [--seed S] [--writers W] [--only crash|concurrency] [--no-build]" >&2; exit 2 ;;
  esac
done

case "$only" in
  crash) filter='FullyQualifiedName~CrashConsistencyTests' ;;
  concurrency) filter='FullyQualifiedName~RegistryConcurrencyTests' ;;
  "") filter='FullyQualifiedName~CrashConsistencyTests|FullyQualifiedName~RegistryConcurrencyTests' ;;
  *) echo "--only takes crash or concurrency" >&2; exit 2 ;;
esac

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
export Z4AI_CRASH_KILLS="$kills" Z4AI_CRASH_SEED="$seed" Z4AI_CONCURRENCY_WRITERS="$writers"
priority="${Z4AI_NICE:-19}"
if [ "$build" = 1 ]; then
  nice -n "$priority" dotnet build tests/Z4Ai.Cli.Tests 2>&1 | grep -E ' error |Build succeeded' | sort -u
fi
echo "crash: kills $kills, seed $seed, writers $writers, nice $priority; load: $(uptime | sed 's/.*load average/load average/')"
start=$(date +%s)
mkdir -p artifacts   # the full test output goes to artifacts/crash-last.log (ignored by git)
set +e
nice -n "$priority" dotnet test tests/Z4Ai.Cli.Tests --no-build --filter "$filter" \
  --logger "console;verbosity=normal" 2>&1 | tee artifacts/crash-last.log \
  | grep --line-buffered -E '^(crash|concurrency):|Passed|Failed|Total|error|Expected|But was' | awk '!seen[$0]++ { print; fflush() }'
status=${PIPESTATUS[0]}
set -e
echo "crash: $(( $(date +%s) - start )) s; load: $(uptime | sed 's/.*load average/load average/')"
exit "$status"
