"""Data loading for language-model training: reading, tokenizing, packing, shuffling and sharding examples.

Written for the Z4Ai archive primer. The module has no third-party dependencies; a tokenizer is anything with an
``encode(text) -> list[int]`` method. It reads plain text, JSON lines and CSV files, keeps a small on-disk cache
of tokenized shards, packs token streams into fixed-length blocks and splits the work across data-parallel
workers deterministically, so that every run with the same seed sees the same batches in the same order.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import itertools
import json
import logging
import os
import random
import re
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter, deque
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Deque, Dict, Iterable, Iterator, List, Optional, Protocol, Sequence, Tuple

logger = logging.getLogger(__name__)

_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


class Tokenizer(Protocol):
    """What the pipeline needs from a tokenizer."""

    eos_token_id: int

    def encode(self, text: str) -> List[int]:
        ...


class DataError(Exception):
    """A problem with the input data, with the file and line where it was found."""

    def __init__(self, message: str, path: Optional[str] = None, line: Optional[int] = None) -> None:
        location = ""
        if path is not None:
            location = f" ({path}" + (f", line {line}" if line is not None else "") + ")"
        super().__init__(message + location)
        self.path = path
        self.line = line


@dataclass
class DataConfig:
    """Everything that decides which examples a run sees, and in which order."""

    paths: List[str] = field(default_factory=list)
    text_field: str = "text"
    block_size: int = 2048
    batch_size: int = 8
    seed: int = 1234
    shuffle_buffer: int = 10_000
    min_chars: int = 32
    max_chars: int = 1_000_000
    validation_fraction: float = 0.01
    cache_dir: Optional[str] = None
    num_workers: int = 1
    rank: int = 0
    drop_last: bool = True

    def validate(self) -> None:
        if not self.paths:
            raise ValueError("no input paths were given")
        if self.block_size <= 0 or self.batch_size <= 0:
            raise ValueError("block_size and batch_size must be positive")
        if not 0.0 <= self.validation_fraction < 1.0:
            raise ValueError(f"validation_fraction must be in [0, 1), got {self.validation_fraction}")
        if not 0 <= self.rank < self.num_workers:
            raise ValueError(f"rank {self.rank} is outside 0..{self.num_workers - 1}")

    def fingerprint(self) -> str:
        """A short digest of the settings that change the tokenized data, used as the cache key."""
        keys = {"paths": sorted(self.paths), "text_field": self.text_field, "min": self.min_chars, "max": self.max_chars}
        return hashlib.sha256(json.dumps(keys, sort_keys=True).encode("utf-8")).hexdigest()[:16]

    @classmethod
    def from_dict(cls, values: Dict[str, Any]) -> "DataConfig":
        known = {name for name in cls.__dataclass_fields__}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown data settings: {', '.join(unknown)}")
        return cls(**values)


def open_text(path: str) -> io.TextIOBase:
    """Open a text file for reading, transparently decompressing .gz files."""
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, "r", encoding="utf-8", newline="")


class Source(ABC):
    """A stream of raw text documents from one file."""

    def __init__(self, path: str) -> None:
        self.path = path

    @abstractmethod
    def __iter__(self) -> Iterator[str]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"


class TextSource(Source):
    """Plain text: documents are separated by one or more blank lines."""

    def __iter__(self) -> Iterator[str]:
        lines: List[str] = []
        with open_text(self.path) as handle:
            for line in handle:
                if line.strip():
                    lines.append(line)
                elif lines:
                    yield "".join(lines).strip()
                    lines = []
        if lines:
            yield "".join(lines).strip()


class JsonLinesSource(Source):
    """One JSON object per line; the document is the value of ``text_field``."""

    def __init__(self, path: str, text_field: str = "text") -> None:
        super().__init__(path)
        self.text_field = text_field

    def __iter__(self) -> Iterator[str]:
        with open_text(self.path) as handle:
            for number, line in enumerate(handle, start=1):
                line = line.strip()
                if not line:
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise DataError(f"invalid JSON: {error.msg}", self.path, number) from error
                if not isinstance(record, dict):
                    raise DataError("expected a JSON object", self.path, number)
                value = record.get(self.text_field)
                if value is None:
                    continue
                if not isinstance(value, str):
                    raise DataError(f"field {self.text_field!r} is not a string", self.path, number)
                yield value


class CsvSource(Source):
    """A CSV file with a header row; the document is the column named ``text_field``."""

    def __init__(self, path: str, text_field: str = "text") -> None:
        super().__init__(path)
        self.text_field = text_field

    def __iter__(self) -> Iterator[str]:
        with open_text(self.path) as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or self.text_field not in reader.fieldnames:
                raise DataError(f"no column named {self.text_field!r}", self.path, 1)
            for row in reader:
                value = row.get(self.text_field) or ""
                if value:
                    yield value


def make_source(path: str, text_field: str = "text") -> Source:
    name = path[:-3] if path.endswith(".gz") else path
    if name.endswith((".jsonl", ".json")):
        return JsonLinesSource(path, text_field)
    if name.endswith(".csv"):
        return CsvSource(path, text_field)
    if name.endswith((".txt", ".md")):
        return TextSource(path)
    raise DataError(f"cannot tell the format of {os.path.basename(path)!r} from its extension", path)


def expand_paths(patterns: Sequence[str]) -> List[str]:
    """Expand folders and glob patterns into a sorted list of files, so the order never depends on the file system."""
    found: List[str] = []
    for pattern in patterns:
        p = Path(pattern)
        if p.is_dir():
            found.extend(str(f) for f in p.rglob("*") if f.is_file())
        elif any(ch in pattern for ch in "*?["):
            found.extend(str(f) for f in Path(".").glob(pattern) if f.is_file())
        elif p.is_file():
            found.append(str(p))
        else:
            raise FileNotFoundError(f"no such file or folder: {pattern}")
    return sorted(set(found))


def clean_text(text: str) -> str:
    """Normalise line endings and white space at the ends of lines; keep everything else as written."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def documents(config: DataConfig) -> Iterator[str]:
    """Every document of every input file, cleaned and filtered by length, in a fixed order."""
    skipped = Counter()
    for path in expand_paths(config.paths):
        for text in make_source(path, config.text_field):
            text = clean_text(text)
            if len(text) < config.min_chars:
                skipped["short"] += 1
                continue
            if len(text) > config.max_chars:
                skipped["long"] += 1
                continue
            yield text
    if skipped:
        logger.info("skipped %d short and %d long documents", skipped["short"], skipped["long"])


def split_of(text: str, validation_fraction: float) -> str:
    """Assign a document to 'train' or 'validation' by a hash of its text, so the split is stable across runs."""
    digest = hashlib.sha1(text.encode("utf-8")).digest()
    bucket = int.from_bytes(digest[:4], "big") / 2**32
    return "validation" if bucket < validation_fraction else "train"


class ShuffleBuffer:
    """An approximate shuffle of an endless stream with bounded memory."""

    def __init__(self, capacity: int, seed: int) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self.random = random.Random(seed)
        self.items: List[Any] = []

    def push(self, item: Any) -> Optional[Any]:
        if len(self.items) < self.capacity:
            self.items.append(item)
            return None
        index = self.random.randrange(self.capacity)
        out, self.items[index] = self.items[index], item
        return out

    def drain(self) -> Iterator[Any]:
        self.random.shuffle(self.items)
        while self.items:
            yield self.items.pop()


def shuffled(items: Iterable[Any], capacity: int, seed: int) -> Iterator[Any]:
    buffer = ShuffleBuffer(capacity, seed)
    for item in items:
        out = buffer.push(item)
        if out is not None:
            yield out
    yield from buffer.drain()


def pack(token_lists: Iterable[List[int]], block_size: int, eos_token_id: int) -> Iterator[List[int]]:
    """Concatenate documents, separated by the end-of-sequence token, and cut the stream into full blocks.

    Each block has block_size + 1 tokens so that inputs and labels can be taken from the same block, shifted by
    one. The tail that does not fill a block is dropped.
    """
    window: Deque[int] = deque()
    need = block_size + 1
    for tokens in token_lists:
        window.extend(tokens)
        window.append(eos_token_id)
        while len(window) >= need:
            block = [window.popleft() for _ in range(block_size)]
            block.append(window[0])
            yield block


def batches(blocks: Iterable[List[int]], batch_size: int, drop_last: bool = True) -> Iterator[List[List[int]]]:
    batch: List[List[int]] = []
    for block in blocks:
        batch.append(block)
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch and not drop_last:
        yield batch


def shard(items: Iterable[Any], rank: int, world_size: int) -> Iterator[Any]:
    """Every world_size-th item, starting at rank: each worker sees a disjoint share of the stream."""
    return itertools.islice(items, rank, None, world_size)


class TokenCache:
    """Tokenized documents stored on disk as JSON lines, keyed by the data settings and the tokenizer name.

    A cache entry is written to a temporary file and renamed when complete, so an interrupted run never leaves a
    truncated cache behind; a later run simply tokenizes again.
    """

    def __init__(self, folder: str, key: str) -> None:
        self.folder = Path(folder)
        self.path = self.folder / f"tokens-{key}.jsonl.gz"
        self._lock = threading.Lock()

    def exists(self) -> bool:
        return self.path.is_file()

    def read(self) -> Iterator[List[int]]:
        with gzip.open(self.path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as error:
                    raise DataError("damaged cache entry; delete the file to rebuild it", str(self.path), number) from error

    def write(self, token_lists: Iterable[List[int]]) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        count = 0
        with self._lock:
            with gzip.open(temporary, "wt", encoding="utf-8") as handle:
                for tokens in token_lists:
                    handle.write(json.dumps(tokens, separators=(",", ":")))
                    handle.write("\n")
                    count += 1
            os.replace(temporary, self.path)
        return count


@contextmanager
def timed(label: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        logger.info("%s took %.2f s", label, time.perf_counter() - start)


class TrainingData:
    """The batches one worker trains on, rebuilt identically from the config and the tokenizer."""

    def __init__(self, config: DataConfig, tokenizer: Tokenizer, tokenizer_name: str = "tokenizer") -> None:
        config.validate()
        self.config = config
        self.tokenizer = tokenizer
        self.tokenizer_name = tokenizer_name
        self.epoch = 0

    def _tokenized(self, split: str) -> Iterator[List[int]]:
        config = self.config
        texts = (t for t in documents(config) if split_of(t, config.validation_fraction) == split)
        if config.cache_dir is None:
            return (self.tokenizer.encode(t) for t in texts)
        key = f"{config.fingerprint()}-{self.tokenizer_name}-{split}"
        cache = TokenCache(config.cache_dir, key)
        if not cache.exists():
            with timed(f"tokenizing the {split} split"):
                count = cache.write(self.tokenizer.encode(t) for t in texts)
            logger.info("cached %d %s documents in %s", count, split, cache.path)
        return cache.read()

    def train_batches(self) -> Iterator[List[List[int]]]:
        """One epoch of training batches; call set_epoch first to get a different order for each epoch."""
        config = self.config
        seed = config.seed * 1000 + self.epoch
        docs = shuffled(self._tokenized("train"), config.shuffle_buffer, seed)
        blocks = pack(shard(docs, config.rank, config.num_workers), config.block_size, self.tokenizer.eos_token_id)
        return batches(blocks, config.batch_size, config.drop_last)

    def validation_batches(self) -> Iterator[List[List[int]]]:
        config = self.config
        docs = shard(self._tokenized("validation"), config.rank, config.num_workers)
        blocks = pack(docs, config.block_size, self.tokenizer.eos_token_id)
        return batches(blocks, config.batch_size, drop_last=False)

    def set_epoch(self, epoch: int) -> None:
        if epoch < 0:
            raise ValueError("epoch must not be negative")
        self.epoch = epoch

    def describe(self) -> Dict[str, Any]:
        return {"config": asdict(self.config), "tokenizer": self.tokenizer_name, "epoch": self.epoch}


class WhitespaceTokenizer:
    """A tiny word-level tokenizer for tests and examples: a fixed vocabulary built from a sample of text."""

    def __init__(self, vocabulary: Dict[str, int], unk_token_id: int = 0, eos_token_id: int = 1) -> None:
        self.vocabulary = vocabulary
        self.unk_token_id = unk_token_id
        self.eos_token_id = eos_token_id
        self.inverse = {index: word for word, index in vocabulary.items()}

    @classmethod
    def train(cls, texts: Iterable[str], size: int = 32_000, min_count: int = 2) -> "WhitespaceTokenizer":
        counts: Counter = Counter()
        for text in texts:
            counts.update(_WORD.findall(text.lower()))
        vocabulary = {"<unk>": 0, "</s>": 1}
        for word, count in counts.most_common(size - len(vocabulary)):
            if count < min_count:
                break
            vocabulary[word] = len(vocabulary)
        return cls(vocabulary)

    def encode(self, text: str) -> List[int]:
        return [self.vocabulary.get(word, self.unk_token_id) for word in _WORD.findall(text.lower())]

    def decode(self, ids: Sequence[int]) -> str:
        return " ".join(self.inverse.get(i, "<unk>") for i in ids if i != self.eos_token_id)

    def save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"vocabulary": self.vocabulary, "unk": self.unk_token_id, "eos": self.eos_token_id}, handle, indent=2)

    @classmethod
    def load(cls, path: str) -> "WhitespaceTokenizer":
        with open(path, "r", encoding="utf-8") as handle:
            data = json.load(handle)
        return cls(data["vocabulary"], data.get("unk", 0), data.get("eos", 1))


def summarize(config: DataConfig, tokenizer: Tokenizer, limit: Optional[int] = None) -> Dict[str, float]:
    """Counts that are worth logging before a long run: documents, characters, tokens and tokens per character."""
    docs = chars = tokens = 0
    for text in itertools.islice(documents(config), limit):
        docs += 1
        chars += len(text)
        tokens += len(tokenizer.encode(text))
    return {
        "documents": docs,
        "characters": chars,
        "tokens": tokens,
        "tokens_per_character": tokens / chars if chars else 0.0,
        "blocks": tokens // (config.block_size + 1),
    }


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Inspect a text dataset the way the training loader sees it.")
    parser.add_argument("paths", nargs="+", help="files, folders or glob patterns")
    parser.add_argument("--field", default="text", help="the JSON or CSV field that holds the text")
    parser.add_argument("--limit", type=int, default=None, help="look at the first N documents only")
    parser.add_argument("--block-size", type=int, default=2048)
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    data_config = DataConfig(paths=options.paths, text_field=options.field, block_size=options.block_size)
    sample = itertools.islice(documents(data_config), 1000)
    words = WhitespaceTokenizer.train(sample)
    print(json.dumps(summarize(data_config, words, options.limit), indent=2))
