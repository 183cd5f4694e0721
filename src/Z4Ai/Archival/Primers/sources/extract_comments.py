#!/usr/bin/env python3
"""Collects the English prose of this repository's XML doc comments at one commit, for the prose primer.

Usage: extract_comments.py COMMIT LIMIT [FOLDER ...] > out

Reads every *.cs file under the folders (default: src) as committed at COMMIT, in byte order of the paths, and
keeps each `///` comment block as one sentence group: tags are replaced by the names they refer to, white space
is collapsed, groups shorter than 60 characters and repeats are dropped. Groups are joined four to a paragraph
and wrapped at 100 columns until LIMIT bytes are written. Only git and the standard library are used, so the
output depends on nothing but the commit.
"""
import html
import re
import subprocess
import sys
import textwrap


def git(*args):
    return subprocess.run(["git", *args], check=True, capture_output=True).stdout


def name_of(reference):
    # "T:Z4Ai.Archival.Primer" or "ArchiveCodec.Compress(ReadOnlySpan{byte})" -> "Primer" / "Compress"
    reference = reference.split("(")[0].split(":")[-1]
    return reference.split(".")[-1].split("{")[0].split("`")[0]


def clean(text):
    text = re.sub(r'<see(?:also)? (?:c)?ref="([^"]+)"\s*/>', lambda m: name_of(m.group(1)), text)
    text = re.sub(r'<see langword="([^"]+)"\s*/>', r"\1", text)
    text = re.sub(r'<(?:type)?paramref name="([^"]+)"\s*/>', r"\1", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = html.unescape(text)
    return re.sub(r"\s+", " ", text).strip()


def blocks(source):
    current = []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("///"):
            current.append(stripped[3:])
        elif current:
            yield " ".join(current)
            current = []
    if current:
        yield " ".join(current)


def main():
    commit, limit = sys.argv[1], int(sys.argv[2])
    folders = sys.argv[3:] or ["src"]
    paths = git("ls-tree", "-r", "--name-only", commit, "--", *folders).decode("utf-8").split("\n")
    paths = sorted((p for p in paths if p.endswith(".cs")), key=lambda p: p.encode("utf-8"))
    seen = set()
    groups = []
    total = 0
    for path in paths:
        source = git("show", f"{commit}:{path}").decode("utf-8")
        for block in blocks(source):
            text = clean(block)
            if len(text) < 60 or text in seen:
                continue
            seen.add(text)
            groups.append(text)
            total += len(text) + 1
            if total >= limit:
                break
        if total >= limit:
            break
    paragraphs = [" ".join(groups[i:i + 4]) for i in range(0, len(groups), 4)]
    sys.stdout.write("\n\n".join(textwrap.fill(p, 100) for p in paragraphs) + "\n")


if __name__ == "__main__":
    main()
