#!/usr/bin/env bash
# Mutation testing of the core with Stryker.NET (a local dotnet tool, see .config/dotnet-tools.json), using the
# Z4Ai.Tests project. One area per run; the machine may be shared, so it runs at the lowest priority, one test
# process at a time (concurrency 1 in stryker-config.json) and stops after a time box.
#   scripts/mutation.sh Integrity                  mutate src/Z4Ai/Integrity/**
#   scripts/mutation.sh Codecs                     mutate src/Z4Ai/Codecs/**
#   scripts/mutation.sh Format                     mutate src/Z4Ai/Format/**
#   scripts/mutation.sh Format 'Format/Container*.cs'   a subset of one area (globs relative to src/Z4Ai)
#   scripts/mutation.sh Core GLOB...               several areas in one run (one build, one initial test run)
#   scripts/mutation.sh score REPORT.json...       per-file and overall score over one or more finished reports
# Environment:
#   Z4AI_MUTATION_TIMEBOX   seconds before the run is stopped (default 3600)
#   Z4AI_MUTATION_FILTER    VSTest filter for the tests run against each mutant; the default per area is the
#                           tests of that area plus the ones that exercise it from the layers above (see below)
#   Z4AI_MUTATION_NICE      CPU priority (default 19, the lowest)
#   Z4AI_MUTATION_CONCURRENCY  test processes at once (default 1, from stryker-config.json)
#   Z4AI_MUTATION_REPORT    folder name under artifacts/mutation/ (default: the area), so runs over several file
#                           groups of one area keep their reports apart
# Reports land in artifacts/mutation/<report>/reports/ (mutation-report.html, mutation-report.json); the score per
# file is printed at the end of the run.
# Score = (killed + timeout) / (killed + timeout + survived + no coverage); compile errors and ignored mutants (files
# outside the mutate globs) do not count. `score` merges reports file by file: a file's mutants are taken from the
# last report that tested any of them, so a re-run of one group replaces that group's figures.
set -euo pipefail
cd "$(dirname "$0")/.."

area="${1:-Integrity}"
shift || true

if [ "$area" = score ]; then
  [ $# -gt 0 ] || { echo "usage: scripts/mutation.sh score REPORT.json..." >&2; exit 2; }
  jq -rs '
    def counted: map(select(.status == "Killed" or .status == "Timeout" or .status == "Survived" or .status == "NoCoverage"));
    def tally: {k: map(select(.status == "Killed")) | length, t: map(select(.status == "Timeout")) | length,
                s: map(select(.status == "Survived")) | length, n: map(select(.status == "NoCoverage")) | length};
    def pct: if (.k + .t + .s + .n) == 0 then "n/a" else ((.k + .t) * 10000 / (.k + .t + .s + .n) | floor / 100 | tostring) + "%" end;
    def line($name): "\(.k)\t\(.t)\t\(.s)\t\(.n)\t\(pct)\t\($name)";
    (reduce (.[] | .files | to_entries[] | select(.value.mutants | counted | length > 0)) as $e ({}; .[$e.key] = ($e.value.mutants | counted)))
    | to_entries | sort_by(.key)
    | (["killed\ttimeout\tsurvived\tnocov\tscore\tfile"]
       + map((.key | sub("^.*src/Z4Ai/"; "")) as $f | .value | tally | line($f)) | .[]),
      ((map(.value) | add // [] | tally) | line("TOTAL"))' "$@"
  exit 0
fi

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
  --config-file "$root/stryker-config.json" --output "$root/artifacts/mutation/${Z4AI_MUTATION_REPORT:-$area}" "${mutate_args[@]}" \
  --test-case-filter "$filter" --concurrency "${Z4AI_MUTATION_CONCURRENCY:-1}" --skip-version-check
