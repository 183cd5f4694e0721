#!/usr/bin/env bash
# Mutation testing of the core with Stryker.NET (a local dotnet tool, see .config/dotnet-tools.json), using the
# Z4Ai.Tests project. One area per run; the machine may be shared, so it runs at the lowest priority, one test
# process at a time (concurrency 1 in stryker-config.json) and stops after a time box.
#   scripts/mutation.sh Integrity                  mutate src/Z4Ai/Integrity/**
#   scripts/mutation.sh Codecs                     mutate src/Z4Ai/Codecs/**
#   scripts/mutation.sh Format                     mutate src/Z4Ai/Format/**
#   scripts/mutation.sh Format 'Format/Container*.cs'   a subset of one area (globs relative to src/Z4Ai)
#   scripts/mutation.sh Core GLOB...               several areas in one run (one build, one initial test run)
# Environment:
#   Z4AI_MUTATION_TIMEBOX   seconds before the run is stopped (default 3600)
#   Z4AI_MUTATION_FILTER    VSTest filter for the tests run against each mutant; the default per area is the
#                           tests of that area plus the ones that exercise it from the layers above (see below)
#   Z4AI_MUTATION_NICE      CPU priority (default 19, the lowest)
# Reports land in artifacts/mutation/<area>/reports/ (mutation-report.html, mutation-report.json); the score per
# file is printed at the end of the run.
set -euo pipefail
cd "$(dirname "$0")/.."

area="${1:-Integrity}"
shift || true

case "$area" in
  Integrity) default_filter='FullyQualifiedName~Z4Ai.Tests.Mutation|FullyQualifiedName~Z4Ai.Tests.Format|FullyQualifiedName~Z4Ai.Tests.Registry.ManifestJsonTests|FullyQualifiedName~Z4Ai.Tests.Registry.ObjectStoreTests' ;;
  Codecs) default_filter='FullyQualifiedName~Z4Ai.Tests.Mutation|FullyQualifiedName~Z4Ai.Tests.Codecs' ;;
  Format) default_filter='FullyQualifiedName~Z4Ai.Tests.Mutation|FullyQualifiedName~Z4Ai.Tests.Format|FullyQualifiedName~Z4Ai.Tests.Api|FullyQualifiedName~Z4Ai.Tests.Delta.ModelDelta' ;;
  Core) default_filter='FullyQualifiedName~Z4Ai.Tests.Mutation|FullyQualifiedName~Z4Ai.Tests.Codecs.TensorCodecTests|FullyQualifiedName~Z4Ai.Tests.Format.ContainerRoundTripTests' ;;
  *) echo "usage: scripts/mutation.sh Integrity|Codecs|Format|Core [glob relative to src/Z4Ai ...]" >&2; exit 2 ;;
esac

globs=("$@")
if [ ${#globs[@]} -eq 0 ]; then
  [ "$area" = Core ] && globs=("Integrity/**/*.cs" "Codecs/**/*.cs" "Format/**/*.cs") || globs=("$area/**/*.cs")
fi
mutate_args=()
for g in "${globs[@]}"; do
  mutate_args+=(--mutate "$g")
done

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet tool restore >/dev/null
timebox="${Z4AI_MUTATION_TIMEBOX:-3600}"
filter="${Z4AI_MUTATION_FILTER:-$default_filter}"
echo "mutation: area $area, mutate ${globs[*]}, tests '$filter', time box ${timebox}s" >&2
# Stryker runs from the test project's folder (from the root it would take the solution and all its projects).
root="$(pwd)"
cd tests/Z4Ai.Tests
exec timeout --signal=INT --kill-after=60 "$timebox" nice -n "${Z4AI_MUTATION_NICE:-19}" dotnet dotnet-stryker \
  --config-file "$root/stryker-config.json" --output "$root/artifacts/mutation/$area" "${mutate_args[@]}" \
  --test-case-filter "$filter" --skip-version-check
