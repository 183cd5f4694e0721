"""A byte-level BPE tokenizer in pure Python: training, encoding, decoding, saving and loading.

Written for the Z4Ai archive primer. It follows the usual recipe: text is split into pre-tokens by a regular
expression, each pre-token is turned into bytes, and the most frequent adjacent pair of symbols is merged again
and again until the vocabulary has the requested size. Encoding applies the learned merges in the order they were
learned. It is meant for small experiments and tests, not for speed.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter, defaultdict
from functools import lru_cache
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

Pair = Tuple[int, int]

# Words with an optional leading space, numbers of up to three digits, runs of punctuation, and white space.
PRETOKEN = re.compile(r" ?[^\W\d_]+| ?\d{1,3}| ?[^\s\w]+|\s+(?!\S)|\s+", re.UNICODE)


@lru_cache(maxsize=None)
def byte_to_unicode() -> Dict[int, str]:
    """A reversible map from the 256 byte values to printable characters, so that vocabularies can be saved as
    JSON strings. Printable ASCII and Latin-1 characters map to themselves; the rest are shifted above 255."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1))
    printable += list(range(ord("\xae"), ord("\xff") + 1))
    mapping: Dict[int, str] = {}
    shift = 0
    for value in range(256):
        if value in printable:
            mapping[value] = chr(value)
        else:
            mapping[value] = chr(256 + shift)
            shift += 1
    return mapping


def unicode_to_byte() -> Dict[str, int]:
    return {char: value for value, char in byte_to_unicode().items()}


def pretokenize(text: str) -> List[str]:
    text = unicodedata.normalize("NFC", text)
    return PRETOKEN.findall(text)


class TrainingError(ValueError):
    pass


class BpeTokenizer:
    """A trained byte-level BPE model.

    ``vocab`` maps token strings (in the printable byte alphabet) to ids; ``merges`` lists the merged pairs in the
    order they were learned. Special tokens are matched before pre-tokenization and are never split.
    """

    def __init__(
        self,
        vocab: Dict[str, int],
        merges: Sequence[Tuple[str, str]],
        special_tokens: Optional[Dict[str, int]] = None,
    ) -> None:
        self.vocab = dict(vocab)
        self.inverse = {index: token for token, index in self.vocab.items()}
        self.merges = list(merges)
        self.ranks = {pair: rank for rank, pair in enumerate(self.merges)}
        self.special_tokens = dict(special_tokens or {})
        for token, index in self.special_tokens.items():
            self.inverse[index] = token
        if self.special_tokens:
            escaped = sorted((re.escape(t) for t in self.special_tokens), key=len, reverse=True)
            self._special = re.compile("(" + "|".join(escaped) + ")")
        else:
            self._special = None
        self._cache: Dict[str, List[int]] = {}
        self.encoder = byte_to_unicode()
        self.decoder = unicode_to_byte()

    # ------------------------------------------------------------------ training

    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        vocab_size: int,
        special_tokens: Sequence[str] = ("<|endoftext|>",),
        min_frequency: int = 2,
        show_progress: bool = False,
    ) -> "BpeTokenizer":
        """Learn merges from texts until the vocabulary (bytes, merges and special tokens) has vocab_size entries."""
        base = 256 + len(special_tokens)
        if vocab_size < base:
            raise TrainingError(f"vocab_size must be at least {base} (256 bytes and the special tokens)")
        encoder = byte_to_unicode()
        words: Counter = Counter()
        for text in texts:
            for piece in pretokenize(text):
                words[tuple(encoder[b] for b in piece.encode("utf-8"))] += 1

        vocab: Dict[str, int] = {encoder[b]: b for b in range(256)}
        merges: List[Tuple[str, str]] = []
        sequences = {word: list(word) for word in words}
        pair_counts: Counter = Counter()
        where: Dict[Tuple[str, str], Set[Tuple[str, ...]]] = defaultdict(set)
        for word, count in words.items():
            symbols = sequences[word]
            for a, b in zip(symbols, symbols[1:]):
                pair_counts[(a, b)] += count
                where[(a, b)].add(word)

        while len(vocab) + len(special_tokens) < vocab_size and pair_counts:
            (a, b), count = max(pair_counts.items(), key=lambda item: (item[1], item[0]))
            if count < min_frequency:
                break
            merged = a + b
            merges.append((a, b))
            vocab[merged] = len(vocab)
            for word in list(where.pop((a, b), ())):
                symbols = sequences[word]
                times = words[word]
                for x, y in zip(symbols, symbols[1:]):
                    pair_counts[(x, y)] -= times
                    if pair_counts[(x, y)] <= 0:
                        del pair_counts[(x, y)]
                out: List[str] = []
                i = 0
                while i < len(symbols):
                    if i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
                        out.append(merged)
                        i += 2
                    else:
                        out.append(symbols[i])
                        i += 1
                sequences[word] = out
                for x, y in zip(out, out[1:]):
                    pair_counts[(x, y)] += times
                    where[(x, y)].add(word)
            if show_progress and len(merges) % 1000 == 0:
                print(f"{len(merges)} merges, last {merged!r} ({count} times)")

        specials = {token: len(vocab) + i for i, token in enumerate(special_tokens)}
        return cls(vocab, merges, specials)

    # ------------------------------------------------------------------ encoding

    def _bpe(self, piece: str) -> List[int]:
        cached = self._cache.get(piece)
        if cached is not None:
            return cached
        symbols = [self.encoder[b] for b in piece.encode("utf-8")]
        while len(symbols) > 1:
            best: Optional[Tuple[int, int]] = None
            for i in range(len(symbols) - 1):
                rank = self.ranks.get((symbols[i], symbols[i + 1]))
                if rank is not None and (best is None or rank < best[0]):
                    best = (rank, i)
            if best is None:
                break
            i = best[1]
            symbols[i : i + 2] = [symbols[i] + symbols[i + 1]]
        ids = [self.vocab[s] for s in symbols]
        if len(self._cache) < 100_000:
            self._cache[piece] = ids
        return ids

    def encode(self, text: str, allow_special: bool = True) -> List[int]:
        ids: List[int] = []
        parts = self._special.split(text) if (self._special is not None and allow_special) else [text]
        for part in parts:
            if not part:
                continue
            special = self.special_tokens.get(part) if allow_special else None
            if special is not None:
                ids.append(special)
                continue
            for piece in pretokenize(part):
                ids.extend(self._bpe(piece))
        return ids

    def encode_batch(self, texts: Iterable[str]) -> List[List[int]]:
        return [self.encode(text) for text in texts]

    def decode(self, ids: Iterable[int], skip_special: bool = False) -> str:
        chunks: List[bytes] = []
        pending = bytearray()
        for index in ids:
            token = self.inverse.get(index)
            if token is None:
                raise KeyError(f"token id {index} is not in the vocabulary")
            if token in self.special_tokens:
                if pending:
                    chunks.append(bytes(pending))
                    pending.clear()
                if not skip_special:
                    chunks.append(token.encode("utf-8"))
                continue
            pending.extend(self.decoder[ch] for ch in token)
        if pending:
            chunks.append(bytes(pending))
        return b"".join(chunks).decode("utf-8", errors="replace")

    def __len__(self) -> int:
        return len(self.vocab) + len(self.special_tokens)

    def token_to_id(self, token: str) -> Optional[int]:
        return self.special_tokens.get(token, self.vocab.get(token))

    def id_to_token(self, index: int) -> Optional[str]:
        return self.inverse.get(index)

    # ------------------------------------------------------------------ files

    def to_dict(self) -> Dict[str, object]:
        return {
            "version": "1.0",
            "model": {"type": "BPE", "vocab": self.vocab, "merges": [f"{a} {b}" for a, b in self.merges]},
            "added_tokens": [
                {"id": index, "content": token, "special": True} for token, index in sorted(self.special_tokens.items(), key=lambda x: x[1])
            ],
        }

    def save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(self.to_dict(), handle, ensure_ascii=False, indent=2)
            handle.write("\n")

    @classmethod
    def load(cls, path: str) -> "BpeTokenizer":
        with open(path, "r", encoding="utf-8") as handle:
            data = json.load(handle)
        model = data.get("model", {})
        if model.get("type") != "BPE":
            raise ValueError(f"{path}: not a BPE tokenizer (model type {model.get('type')!r})")
        merges = []
        for line in model.get("merges", []):
            a, sep, b = line.partition(" ")
            if not sep:
                raise ValueError(f"{path}: malformed merge {line!r}")
            merges.append((a, b))
        specials = {entry["content"]: entry["id"] for entry in data.get("added_tokens", []) if entry.get("special")}
        return cls(model["vocab"], merges, specials)


def chunked(ids: Sequence[int], size: int, overlap: int = 0) -> Iterator[Sequence[int]]:
    """Windows of at most size ids, each starting size - overlap after the previous one."""
    if size <= 0 or not 0 <= overlap < size:
        raise ValueError("need size > 0 and 0 <= overlap < size")
    step = size - overlap
    for start in range(0, max(len(ids) - overlap, 1), step):
        yield ids[start : start + size]


if __name__ == "__main__":
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="Train or apply a byte-level BPE tokenizer.")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train")
    train.add_argument("files", nargs="+")
    train.add_argument("--vocab-size", type=int, default=8192)
    train.add_argument("-o", "--output", default="tokenizer.json")
    encode = sub.add_parser("encode")
    encode.add_argument("tokenizer")
    encode.add_argument("text", nargs="?")
    args = parser.parse_args()

    if args.command == "train":
        def read_all(paths: Sequence[str]) -> Iterator[str]:
            for p in paths:
                with open(p, "r", encoding="utf-8") as f:
                    yield f.read()

        tokenizer = BpeTokenizer.train(read_all(args.files), args.vocab_size, show_progress=True)
        tokenizer.save(args.output)
        print(f"saved {len(tokenizer)} tokens to {args.output}")
    else:
        tokenizer = BpeTokenizer.load(args.tokenizer)
        text = args.text if args.text is not None else sys.stdin.read()
        ids = tokenizer.encode(text)
        print(" ".join(str(i) for i in ids))
        print(f"{len(ids)} tokens for {len(text)} characters", file=sys.stderr)
