#!/usr/bin/env bash
# Coverage-guided fuzzing of Z4Ai's readers with SharpFuzz + AFL++ (see docs/reliability.md).
#
#   scripts/fuzz.sh TARGET [SECONDS]      fuzz one target (default 60 s)
#   scripts/fuzz.sh all [SECONDS]         fuzz every target in turn, SECONDS each
#   scripts/fuzz.sh T1,T2 [SECONDS]       fuzz the listed targets in turn
#   scripts/fuzz.sh list                  print the targets
#
# Targets: safetensors container codec delta z4delta z4al manifest archive.
# Builds fuzz/Z4Ai.Fuzz (Release), instruments its copy of Z4Ai.dll with the SharpFuzz tool (local tool manifest),
# seeds each target from valid files the library writes plus the matching files of tests/Z4Ai.Tests/TestData/hostile,
# runs afl-fuzz under `nice -n 19` with the GC heap capped (an unbounded allocation becomes a crash), replays every
# crasher outside afl and copies it to $FUZZ_DIR/crashes/. Prints execs, crashes and hangs per target from afl's
# fuzzer_stats.
# Exit: 0 no crash; 1 a crash was found (or the build failed); 3 afl++ could not run here (nothing was fuzzed).
# Environment: FUZZ_DIR (work folder, default artifacts/fuzz), FUZZ_HEAP_LIMIT (GC heap cap, default 0x40000000 =
# 1 GiB), FUZZ_TIMEOUT_MS (per-input afl timeout, default 5000), FUZZ_RESUME=1 (continue a target's earlier queue).
set -uo pipefail
cd "$(dirname "$0")/.."

targets=(safetensors container codec delta z4delta z4al manifest archive)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

target="${1:-}"
seconds="${2:-60}"
if [ -z "$target" ] || [ "$target" = "-h" ] || [ "$target" = "--help" ]; then
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
if [ "$target" = "list" ]; then printf '%s\n' "${targets[@]}"; exit 0; fi
if [ "$target" = "all" ]; then selected=("${targets[@]}"); else IFS=',' read -r -a selected <<<"$target"; fi
for t in "${selected[@]}"; do
  case " ${targets[*]} " in *" $t "*) ;; *) echo "fuzz: unknown target '$t' (expected: ${targets[*]} or all)" >&2; exit 2;; esac
done
case "$seconds" in ''|*[!0-9]*) echo "fuzz: SECONDS must be a whole number" >&2; exit 2;; esac

work="${FUZZ_DIR:-artifacts/fuzz}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
bin="$work/bin"

if ! command -v afl-fuzz >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq afl++) >/dev/null 2>&1 || true
  fi
  if ! command -v afl-fuzz >/dev/null 2>&1; then
    echo "fuzz: afl-fuzz is not installed (Debian package afl++); nothing fuzzed" >&2
    exit 3
  fi
fi

echo "== fuzz: build and instrument"
dotnet tool restore >/dev/null || { echo "fuzz: dotnet tool restore failed" >&2; exit 1; }
rm -rf "$bin"
dotnet build fuzz/Z4Ai.Fuzz -c Release -o "$bin" 2>&1 | grep -E ' error |Build succeeded' | sort -u
[ -f "$bin/Z4Ai.Fuzz.dll" ] || { echo "fuzz: build failed" >&2; exit 1; }
# Seeds and crash replay use the uninstrumented library; afl runs the instrumented copy.
rm -rf "$work/plain" "$work/seeds"
cp -r "$bin" "$work/plain"
dotnet tool run sharpfuzz "$bin/Z4Ai.dll" >/dev/null || { echo "fuzz: SharpFuzz instrumentation failed" >&2; exit 1; }
dotnet "$work/plain/Z4Ai.Fuzz.dll" seed "$work/seeds" || { echo "fuzz: seeding failed" >&2; exit 1; }
# The hostile regression files seed the target that reads their kind (afl takes seeds up to 1 MB).
for f in tests/Z4Ai.Tests/TestData/hostile/*; do
  [ -f "$f" ] || continue
  [ "$(stat -c %s "$f")" -le 1000000 ] || continue
  case "$f" in
    *.safetensors) t=safetensors;; *.z4ai) t=container;; *.frame) t=codec;; *.delta) t=delta;;
    *.z4delta) t=z4delta;; *.z4al) t=z4al;; *.json) t=manifest;; *.z4arc) t=archive;; *) continue;;
  esac
  cp "$f" "$work/seeds/$t/"
done

export AFL_SKIP_CPUFREQ=1 AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_FORKSRV_INIT_TMOUT=60000 AFL_QUIET=1
mkdir -p "$work/tmp"
export TMPDIR="$work/tmp" DOTNET_GCHeapHardLimit="${FUZZ_HEAP_LIMIT:-0x40000000}" DOTNET_TieredPGO=0
timeout_ms="${FUZZ_TIMEOUT_MS:-5000}"
status=0
ran=0
mkdir -p "$work/crashes"
summary=()
for t in "${selected[@]}"; do
  out="$work/findings/$t"
  input="$work/seeds/$t"
  if [ "${FUZZ_RESUME:-0}" = "1" ] && [ -d "$out/default/queue" ]; then input="-"; else rm -rf "$out"; fi
  mkdir -p "$out"
  echo "== fuzz: $t for ${seconds}s"
  nice -n 19 afl-fuzz -i "$input" -o "$out" -t "$timeout_ms" -m none -V "$seconds" -- dotnet "$bin/Z4Ai.Fuzz.dll" "$t" \
    >"$out/afl.log" 2>&1
  stats="$out/default/fuzzer_stats"
  if [ ! -f "$stats" ]; then
    echo "fuzz: afl-fuzz did not start for $t; its log ends with:" >&2
    tail -n 15 "$out/afl.log" >&2
    summary+=("$t: afl++ did not start")
    continue
  fi
  ran=$((ran + 1))
  field() { grep -E "^$1 " "$stats" | sed "s/.*: *//"; }
  execs=$(field execs_done); eps=$(field execs_per_sec); crashes=$(field saved_crashes); hangs=$(field saved_hangs)
  paths=$(field corpus_count)
  summary+=("$t: ${execs} execs (${eps}/s), corpus ${paths}, ${crashes:-0} crashes, ${hangs:-0} hangs")
  for c in "$out"/default/crashes/id*; do
    [ -f "$c" ] || continue
    name="$t-$(basename "$c" | cut -d, -f1 | tr ':' '-')"
    cp "$c" "$work/crashes/$name"
    echo "fuzz: crash in $t saved as $work/crashes/$name; replay:"
    dotnet "$work/plain/Z4Ai.Fuzz.dll" replay "$t" "$c" 2>&1 | head -n 20
    status=1
  done
  for h in "$out"/default/hangs/id*; do
    [ -f "$h" ] || continue
    echo "fuzz: hang (over ${timeout_ms} ms under afl) in $t: $h"
  done
done

rm -rf "$work/tmp"
echo "== fuzz summary (load: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%s\n' "${summary[@]}"
if [ "$ran" -eq 0 ]; then exit 3; fi
exit "$status"
