#!/usr/bin/env bash
# Peak memory of compressing and restoring a large .safetensors file (default 2 GiB), as the OS reports it
# (the CLI's --stats prints the process's peak working set). Usage: bench/measure-memory.sh [SIZE] [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-2G}"
dir="${2:-$(mktemp -d)}"
mkdir -p "$dir"
trap 'rm -f "$dir"/large.safetensors "$dir"/large.z4ai "$dir"/restored.safetensors' EXIT

dotnet build -c Release src/Z4Ai.Cli -v quiet -nologo >/dev/null
dotnet build -c Release bench/Z4Ai.Benchmarks -v quiet -nologo >/dev/null
cli="dotnet src/Z4Ai.Cli/bin/Release/net10.0/Z4Ai.Cli.dll"

dotnet bench/Z4Ai.Benchmarks/bin/Release/net10.0/Z4Ai.Benchmarks.dll make-large --size "$size" -o "$dir/large.safetensors"
echo "== compress"
$cli compress "$dir/large.safetensors" -o "$dir/large.z4ai" --stats --force 2>/dev/null | tail -n 3
echo "== decompress"
$cli decompress "$dir/large.z4ai" -o "$dir/restored.safetensors" --stats --force 2>/dev/null
cmp "$dir/large.safetensors" "$dir/restored.safetensors" && echo "restored file: byte-identical"
