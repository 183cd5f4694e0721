#!/bin/sh
# Rebuilds the shipped primers byte for byte from this repository's own history. Run from the repository root:
#   sh src/Z4Ai/Archival/Primers/sources/build.sh COMMIT
# COMMIT is the commit the primers were made from (Primers/README.md names it). Every input is read with
# `git show COMMIT:path`, so the working tree, the locale and the file system order do not matter; the only tools
# are git, python3 (standard library only) and sh. Released primers never change: a new text is a new version
# with its own recipe (keep the old recipe in the README when you add one).
set -e
C=${1:?usage: build.sh COMMIT}
P=src/Z4Ai/Archival/Primers
S=$P/sources
OUT=${2:-$P}
show() { git show "$C:$1"; }
# Files under the given folders with the given suffix, in byte order of their paths.
files() { suffix=$1; shift; git ls-tree -r --name-only "$C" -- "$@" | grep "$suffix\$" | LC_ALL=C sort; }

# prose-v3: the English of the C# doc comments (first 200,000 bytes), the docs, then the hand-written prose.
{
  git show "$C:$S/extract_comments.py" | python3 - "$C" 200000 src
  for f in $(files '\.md' docs) README.md nuget/README.md nuget/RELEASE-NOTES.md src/Z4Ai/Entropy/FORMAT.md; do
    printf '\n'; show "$f"
  done
  for f in model-card.md background.md decisions.md guide.md operations.md; do printf '\n'; show "$S/$f"; done
} > "$OUT/prose-v3.txt"

# code-v2: C# (examples, the CLI, the archival model), then the hand-written C# and Python, Python last.
{
  for f in $(files '\.cs' examples src/Z4Ai.Cli src/Z4Ai/Archival); do show "$f"; printf '\n'; done
  show "$S/CheckpointStore.cs.txt"
  for f in make_json.py train.py test_tensor_files.py bpe.py evaluate.py checkpoints.py config_tools.py serve.py \
      data_pipeline.py tensor_files.py; do
    printf '\n'; show "$S/$f"
  done
} > "$OUT/code-v2.txt"

# json-v1: synthetic configs, tokenizer files, indexes and logs from a fixed seed; the script takes words from
# model-card.md and train.py in its working folder.
T=$(mktemp -d)
for f in make_json.py model-card.md train.py; do show "$S/$f" > "$T/$f"; done
OUT_ABS=$(cd "$OUT" && pwd)
(cd "$T" && python3 make_json.py > "$OUT_ABS/json-v1.txt")
rm -r "$T"
# The primers are hashed byte for byte (SHA-256 in every primed archive): never convert line endings.
