#!/usr/bin/env bash
# Peak memory (maximum resident set, as the kernel reports it through GNU time) of the registry verbs on large
# generated models: init with a base, add a consecutive checkpoint (1% of the weights moved one bf16 step: a
# delta against the base), get, get-tensor and verify. It runs once per SIZE; memory bounded by a tensor (64 MiB
# here), not by the model, shows as peaks that stay flat as SIZE grows.
# Usage: bench/measure-registry-memory.sh ["1G 2G"] [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="${1:-1G 2G}"
dir="${2:-$(mktemp -d)}"
mkdir -p "$dir"
trap 'rm -rf "$dir"/base.safetensors "$dir"/next.safetensors "$dir"/restored.safetensors "$dir"/tensor.bin "$dir"/zoo "$dir"/time.txt' EXIT

if [ ! -x /usr/bin/time ]; then
  echo "needs GNU time (apt-get install -y time)" >&2
  exit 1
fi

dotnet build -c Release src/Z4Ai.Cli -v quiet -nologo >/dev/null
dotnet build -c Release bench/Z4Ai.Benchmarks -v quiet -nologo >/dev/null
cli="dotnet src/Z4Ai.Cli/bin/Release/net10.0/Z4Ai.Cli.dll"
make="dotnet bench/Z4Ai.Benchmarks/bin/Release/net10.0/Z4Ai.Benchmarks.dll make-large"

declare -A peaks
step() {
  local size="$1" verb="$2"
  shift 2
  /usr/bin/time -f "%M %e" -o "$dir/time.txt" "$@" >/dev/null
  read -r kib seconds < "$dir/time.txt"
  peaks["$size,$verb"]="$((kib / 1024)) MiB ($seconds s)"
}

for size in $sizes; do
  rm -rf "$dir/zoo" "$dir/restored.safetensors" "$dir/tensor.bin"
  $make --size "$size" -o "$dir/base.safetensors" >/dev/null
  $make --size "$size" --change 0.01 -o "$dir/next.safetensors" >/dev/null
  step "$size" init $cli registry init "$dir/zoo" "$dir/base.safetensors" -q
  step "$size" add $cli registry add "$dir/zoo" "$dir/next.safetensors" --name next --parent base -q
  step "$size" get $cli registry get "$dir/zoo" next --out "$dir/restored.safetensors" -q
  cmp "$dir/next.safetensors" "$dir/restored.safetensors"
  step "$size" get-tensor $cli registry get-tensor "$dir/zoo" next model.layers.0.weight --out "$dir/tensor.bin"
  step "$size" verify $cli registry verify "$dir/zoo" -q
  echo "$size: checkpoint restored byte-identical (cmp); $($cli registry list "$dir/zoo" | tail -n 1)"
done

echo
header="| verb |"
rule="| --- |"
for size in $sizes; do
  header="$header peak resident memory, $size model (wall time) |"
  rule="$rule --- |"
done
echo "$header"
echo "$rule"
for verb in init add get get-tensor verify; do
  row="| registry $verb |"
  for size in $sizes; do
    row="$row ${peaks[$size,$verb]} |"
  done
  echo "$row"
done
