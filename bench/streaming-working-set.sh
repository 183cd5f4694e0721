#!/usr/bin/env bash
# Working-set benchmark of the streaming runtime (issue 8): generates a BF16 model of a 7B-class layer shape as a
# compressed .z4ai container (streaming, bounded memory), then runs one forward pass of a short prompt twice, as
# SEPARATE processes: every weight loaded first, and streamed through ITensorSource with a budget of two layers.
# It reports the peak resident memory the OS measured (VmHWM from /proc/self/status and /usr/bin/time's maximum
# RSS), the times, and the logits digests, which must be identical.
#
#   bench/streaming-working-set.sh                      # 32 layers, width 4096, MLP 11008, vocab 32000 (~13.5 GB BF16)
#   bench/streaming-working-set.sh --layers 8           # a smaller configuration
#   options: --layers N --dim N --heads N --ffn N --vocab N --tokens N --budget-layers X --dir DIR --skip-loaded --keep
set -euo pipefail
cd "$(dirname "$0")/.."

layers=32 dim=4096 heads=32 ffn=11008 vocab=32000 tokens=8 budget_layers=2
dir="${TMPDIR:-/tmp}/z4ai-streaming-bench" keep=0 skip_loaded=0
while [ $# -gt 0 ]; do
  case "$1" in
    --layers) layers=$2; shift 2 ;;
    --dim) dim=$2; shift 2 ;;
    --heads) heads=$2; shift 2 ;;
    --ffn) ffn=$2; shift 2 ;;
    --vocab) vocab=$2; shift 2 ;;
    --tokens) tokens=$2; shift 2 ;;
    --budget-layers) budget_layers=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --skip-loaded) skip_loaded=1; shift ;;
    *) echo "unknown option $1" >&2; exit 1 ;;
  esac
done

mkdir -p "$dir"
model="$dir/model-L${layers}-D${dim}-H${heads}-F${ffn}-V${vocab}.z4ai"
raw_bytes=$(( (2 * vocab * dim + layers * (4 * dim * dim + 3 * dim * ffn + 2 * dim) + dim) * 2 ))

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//') x $(nproc)"
echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), available $(awk '/MemAvailable/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "dotnet: $(dotnet --version); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "model: layers=$layers dim=$dim heads=$heads ffn=$ffn vocab=$vocab, $raw_bytes bytes BF16; prompt $tokens tokens; budget $budget_layers layers"

free_kb=$(df -Pk "$dir" | awk 'NR==2 {print $4}')
if [ ! -f "$model" ] && [ $(( free_kb * 1024 )) -lt $(( raw_bytes + (1 << 30) )) ]; then
  echo "not enough disk in $dir: $(( free_kb / 1048576 )) GiB free, about $(( raw_bytes >> 30 )) GiB needed" >&2
  exit 1
fi

echo "== build"
dotnet build examples/StreamingInference -c Release -o "$dir/app" -v q -nologo | grep -E 'error|Warn|Elapsed' || true
app="$dir/app/StreamingInference.dll"

if [ ! -f "$model" ]; then
  echo "== generate $model"
  /usr/bin/time -f "generate: wall %e s, user %U s, max RSS %M KiB" \
    dotnet "$app" --generate "$model" --layers "$layers" --dim "$dim" --heads "$heads" --ffn "$ffn" --vocab "$vocab"
fi
echo "container: $(stat -c %s "$model") bytes (ratio $(awk -v r="$raw_bytes" -v c="$(stat -c %s "$model")" 'BEGIN {printf "%.3f", r / c}'))"

run() { # mode, output file
  /usr/bin/time -f "time_max_rss_kb: %M\ntime_cpu_seconds: %U %S" dotnet "$app" --run "$model" --mode "$1" --tokens "$tokens" --budget-layers "$budget_layers" > "$2" 2>&1
  cat "$2"
}
field() { grep -m1 "^$1:" "$2" | cut -d' ' -f2; }

if [ "$skip_loaded" -eq 0 ]; then
  avail_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
  if [ $(( avail_kb * 1024 )) -lt $(( raw_bytes + raw_bytes / 8 + (1 << 30) )) ]; then
    echo "only $(( avail_kb / 1048576 )) GiB available: the fully loaded run would not fit; rerun with --skip-loaded or a smaller --layers" >&2
    exit 1
  fi
  echo "== loaded"
  run loaded "$dir/loaded.txt"
fi
echo "== streamed"
run streamed "$dir/streamed.txt"

echo "== summary"
printf '| mode | total s | load s | forward s | CPU user+sys s | peak RSS (VmHWM) | max RSS (time) | logits SHA-256 |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n'
for m in loaded streamed; do
  f="$dir/$m.txt"
  [ -f "$f" ] && [ "$m" != loaded -o "$skip_loaded" -eq 0 ] || continue
  cpu=$(grep -m1 '^time_cpu_seconds:' "$f" | awk '{printf "%.1f", $2 + $3}')
  printf '| %s | %s | %s | %s | %s | %s MiB | %s MiB | `%s` |\n' "$m" "$(field total_seconds "$f")" "$(field load_seconds "$f")" \
    "$(field forward_seconds "$f")" "$cpu" "$(( $(field peak_rss_bytes "$f") >> 20 ))" "$(( $(field time_max_rss_kb "$f") >> 10 ))" "$(field logits_sha256 "$f")"
done
if [ "$skip_loaded" -eq 0 ]; then
  l="$dir/loaded.txt" s="$dir/streamed.txt"
  awk -v lr="$(field peak_rss_bytes "$l")" -v sr="$(field peak_rss_bytes "$s")" -v lt="$(field total_seconds "$l")" -v st="$(field total_seconds "$s")" \
    'BEGIN {printf "peak RSS loaded/streamed: %.2fx (target >= 5.8x, aim 10x); time streamed/loaded: %.2fx (target <= 1.5x)\n", lr / sr, st / lt}'
  if [ "$(field logits_sha256 "$l")" = "$(field logits_sha256 "$s")" ]; then echo "logits digests: identical"; else echo "logits digests: DIFFERENT"; exit 2; fi
fi
[ "$keep" -eq 1 ] || rm -f "$model"
