#!/usr/bin/env bash
# The corpus benchmark (issue 3): generates the scenario suite, runs Z4Ai, zstd -3, zstd -19 and xz -9 on every case
# and on the sample weights in ../shared/data, and writes docs/benchmarks.md (its generated part: the hand-written
# sections from "## Model registry" on are kept) and docs/benchmarks-ratio.svg.
# Usage: bench/run-corpus.sh [runner options], e.g. --mib 8 for a quicker run or --only bf16 for a subset
# (see bench/Z4Ai.Benchmarks/Corpus/CorpusRunner.cs). A full run at 32 MiB per case takes roughly 10-15 minutes
# on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v zstd >/dev/null 2>&1 || missing+=(zstd)
command -v xz >/dev/null 2>&1 || missing+=(xz-utils)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing ${missing[*]} (the benchmark compares against the system binaries)"
    sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

dotnet build -c Release bench/Z4Ai.Benchmarks -v quiet -nologo >/dev/null
dotnet run -c Release --no-build --project bench/Z4Ai.Benchmarks -- corpus --out docs/benchmarks.md "$@"
