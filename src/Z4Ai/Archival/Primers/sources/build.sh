#!/bin/sh
# Rebuilds the v1 primers from their sources, byte for byte. Run from this folder:
#   sh build.sh REFDIR CLICKDIR
# REFDIR: ref/net10.0 of the Microsoft.NETCore.App.Ref 10.0.12 targeting pack (MIT).
# CLICKDIR: the click package folder of click 8.4.0 (BSD-3-Clause).
# Released primers never change: this script documents how v1 was made; a v2 gets its own files.
set -e
python3 extract_dotnet.py "$1" 250000 > dotnet.tmp
{ cat dotnet.tmp; printf '\n'; cat model-card.md; } > ../prose-v1.txt
rm dotnet.tmp
{
  printf '# Copyright 2014 Pallets. BSD-3-Clause (see README.md next to this file).\n'
  cat "$2/core.py"; printf '\n'
  cat "$2/types.py"; printf '\n'
  cat "$2/utils.py"; printf '\n'
  cat CheckpointStore.cs.txt; printf '\n'
  cat train.py
} > ../code-v1.txt
python3 make_json.py > ../json-v1.txt
# prose-v2 (model version 2): prose-v1, then the project's own docs/*.md (byte order of names) and README.md as of
# commit 40819c9, each preceded by a line feed. Run from the repository root:
#   P=src/Z4Ai/Archival/Primers; { cat $P/prose-v1.txt; for f in $(git ls-tree --name-only 40819c9 docs/ |
#     grep '\.md$' | LC_ALL=C sort) README.md; do printf '\n'; git show "40819c9:$f"; done; } > $P/prose-v2.txt
