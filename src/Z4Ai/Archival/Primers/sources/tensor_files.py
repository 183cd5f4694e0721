#!/usr/bin/env python3
"""Read, write, check and compare safetensors files with nothing but the standard library.

Written for the Z4Ai archive primer. The module is a small, self-contained toolkit: it parses the JSON header of a
safetensors file, validates every offset against the file size, reads tensors as raw bytes or as Python numbers,
writes new files, computes per-tensor SHA-256 digests and compares two checkpoints tensor by tensor.

Examples::

    python tensor_files.py info model.safetensors
    python tensor_files.py digest model.safetensors --json
    python tensor_files.py diff base.safetensors tuned.safetensors --top 10
    python tensor_files.py merge shard-*.safetensors -o merged.safetensors
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import struct
import sys
import tempfile
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import BinaryIO, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

__all__ = [
    "DTYPES",
    "FormatError",
    "TensorInfo",
    "SafetensorsFile",
    "read_header",
    "write_file",
    "digest_file",
    "compare_files",
    "main",
]

# Bytes per element for each data type name used in headers. Sub-byte types are counted in bits separately.
DTYPES: Dict[str, int] = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}

# struct format characters for the types that Python can unpack directly.
_STRUCT_CODES: Dict[str, str] = {
    "BOOL": "?",
    "U8": "B",
    "I8": "b",
    "I16": "h",
    "U16": "H",
    "F16": "e",
    "I32": "i",
    "U32": "I",
    "F32": "f",
    "I64": "q",
    "U64": "Q",
    "F64": "d",
}

MAX_HEADER_BYTES = 100 * 1024 * 1024
ALIGNMENT = 8


class FormatError(ValueError):
    """Raised when a file is not a valid safetensors file; the message says what is wrong and where."""

    def __init__(self, message: str, path: Optional[str] = None, tensor: Optional[str] = None) -> None:
        parts = [message]
        if tensor is not None:
            parts.append(f"tensor {tensor!r}")
        if path is not None:
            parts.append(f"in {path}")
        super().__init__(", ".join(parts))
        self.path = path
        self.tensor = tensor


@dataclass(frozen=True)
class TensorInfo:
    """Where one tensor's bytes are and how to read them."""

    name: str
    dtype: str
    shape: Tuple[int, ...]
    begin: int
    end: int

    @property
    def nbytes(self) -> int:
        return self.end - self.begin

    @property
    def numel(self) -> int:
        count = 1
        for dim in self.shape:
            count *= dim
        return count

    def expected_nbytes(self) -> int:
        size = DTYPES.get(self.dtype)
        if size is None:
            raise FormatError(f"unknown dtype {self.dtype!r}", tensor=self.name)
        return self.numel * size

    def to_json(self) -> Dict[str, object]:
        return {"dtype": self.dtype, "shape": list(self.shape), "data_offsets": [self.begin, self.end]}


@dataclass
class Header:
    """The parsed header: tensors in file order, the metadata and where the data section starts."""

    tensors: "OrderedDict[str, TensorInfo]"
    metadata: Dict[str, str] = field(default_factory=dict)
    data_start: int = 0

    def __iter__(self) -> Iterator[TensorInfo]:
        return iter(self.tensors.values())

    def __len__(self) -> int:
        return len(self.tensors)

    def __contains__(self, name: object) -> bool:
        return name in self.tensors

    def total_bytes(self) -> int:
        return sum(t.nbytes for t in self.tensors.values())


def _check_shape(name: str, shape: object) -> Tuple[int, ...]:
    if not isinstance(shape, list):
        raise FormatError("shape is not a list", tensor=name)
    dims = []
    for dim in shape:
        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 0:
            raise FormatError(f"invalid dimension {dim!r}", tensor=name)
        dims.append(dim)
    return tuple(dims)


def read_header(stream: BinaryIO, file_size: int, path: Optional[str] = None) -> Header:
    """Parse and validate the header of a safetensors file.

    Every offset is checked against the file size before anything else is read, tensors must not overlap, and
    the data section must be covered without gaps, so a damaged or hostile file is rejected early with a
    precise message instead of producing wrong tensors later.
    """
    prefix = stream.read(8)
    if len(prefix) != 8:
        raise FormatError("file is shorter than the 8-byte header length", path)
    (length,) = struct.unpack("<Q", prefix)
    if length > MAX_HEADER_BYTES:
        raise FormatError(f"header length {length} exceeds the limit of {MAX_HEADER_BYTES} bytes", path)
    if 8 + length > file_size:
        raise FormatError(f"header length {length} runs past the end of the file ({file_size} bytes)", path)
    raw = stream.read(length)
    try:
        parsed = json.loads(raw.decode("utf-8"), object_pairs_hook=OrderedDict)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FormatError(f"header is not valid JSON: {error}", path) from error
    if not isinstance(parsed, dict):
        raise FormatError("header is not a JSON object", path)

    metadata: Dict[str, str] = {}
    tensors: "OrderedDict[str, TensorInfo]" = OrderedDict()
    for name, entry in parsed.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                raise FormatError("__metadata__ must map strings to strings", path)
            metadata = dict(entry)
            continue
        if not isinstance(entry, dict):
            raise FormatError("entry is not an object", path, name)
        dtype = entry.get("dtype")
        if dtype not in DTYPES:
            raise FormatError(f"unknown dtype {dtype!r}", path, name)
        shape = _check_shape(name, entry.get("shape"))
        offsets = entry.get("data_offsets")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
            raise FormatError("data_offsets must be two integers", path, name)
        begin, end = offsets
        if begin < 0 or end < begin:
            raise FormatError(f"data_offsets [{begin}, {end}] are out of order", path, name)
        info = TensorInfo(name, dtype, shape, begin, end)
        if info.nbytes != info.expected_nbytes():
            raise FormatError(f"holds {info.nbytes} bytes but its shape needs {info.expected_nbytes()}", path, name)
        tensors[name] = info

    data_start = 8 + length
    data_size = file_size - data_start
    position = 0
    for info in sorted(tensors.values(), key=lambda t: (t.begin, t.end)):
        if info.begin != position:
            kind = "overlaps the previous tensor" if info.begin < position else "leaves a gap before it"
            raise FormatError(f"{kind} at offset {info.begin}", path, info.name)
        position = info.end
    if position != data_size:
        raise FormatError(f"tensors cover {position} bytes but the data section has {data_size}", path)
    return Header(tensors, metadata, data_start)


class SafetensorsFile:
    """An open safetensors file: the header is parsed once, tensors are read on demand.

    Use it as a context manager so that the file is closed when you are done::

        with SafetensorsFile("model.safetensors") as f:
            for info in f.header:
                print(info.name, info.dtype, info.shape)
            weights = f.read_values("lm_head.weight")
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._stream: Optional[BinaryIO] = open(path, "rb")
        try:
            size = os.fstat(self._stream.fileno()).st_size
            self.header = read_header(self._stream, size, path)
        except Exception:
            self._stream.close()
            raise

    def __enter__(self) -> "SafetensorsFile":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def _require_open(self) -> BinaryIO:
        if self._stream is None:
            raise ValueError(f"{self.path} is closed")
        return self._stream

    def names(self) -> List[str]:
        return list(self.header.tensors)

    def info(self, name: str) -> TensorInfo:
        try:
            return self.header.tensors[name]
        except KeyError:
            raise KeyError(f"no tensor named {name!r} in {self.path}") from None

    def read_bytes(self, name: str) -> bytes:
        info = self.info(name)
        stream = self._require_open()
        stream.seek(self.header.data_start + info.begin)
        data = stream.read(info.nbytes)
        if len(data) != info.nbytes:
            raise FormatError(f"file ended after {len(data)} of {info.nbytes} bytes", self.path, name)
        return data

    def read_values(self, name: str) -> List[float]:
        """The tensor's elements as Python numbers, in row-major order (BF16 is widened to float)."""
        info = self.info(name)
        data = self.read_bytes(name)
        if info.dtype == "BF16":
            halves = struct.unpack(f"<{info.numel}H", data)
            return [struct.unpack("<f", struct.pack("<I", h << 16))[0] for h in halves]
        code = _STRUCT_CODES.get(info.dtype)
        if code is None:
            raise FormatError(f"cannot unpack dtype {info.dtype} as numbers", self.path, name)
        return list(struct.unpack(f"<{info.numel}{code}", data))

    def iter_chunks(self, name: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        info = self.info(name)
        stream = self._require_open()
        stream.seek(self.header.data_start + info.begin)
        remaining = info.nbytes
        while remaining > 0:
            chunk = stream.read(min(chunk_size, remaining))
            if not chunk:
                raise FormatError("file ended early", self.path, name)
            remaining -= len(chunk)
            yield chunk


def _aligned_header(entries: "OrderedDict[str, object]") -> bytes:
    text = json.dumps(entries, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    padding = (-len(text)) % ALIGNMENT
    return text + b" " * padding


def write_file(
    path: str,
    tensors: Mapping[str, Tuple[str, Sequence[int], bytes]],
    metadata: Optional[Mapping[str, str]] = None,
) -> None:
    """Write tensors given as (dtype, shape, raw bytes) to a new safetensors file.

    The file is written to a temporary name in the same folder and renamed into place only when it is complete,
    so a crash never leaves a half-written file under the final name.
    """
    entries: "OrderedDict[str, object]" = OrderedDict()
    if metadata:
        entries["__metadata__"] = dict(metadata)
    offset = 0
    for name, (dtype, shape, data) in tensors.items():
        info = TensorInfo(name, dtype, tuple(shape), offset, offset + len(data))
        if info.nbytes != info.expected_nbytes():
            raise ValueError(f"tensor {name!r}: {len(data)} bytes do not match shape {list(shape)} of {dtype}")
        entries[name] = info.to_json()
        offset += len(data)
    header = _aligned_header(entries)

    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(struct.pack("<Q", len(header)))
            out.write(header)
            for _, (_, _, data) in tensors.items():
                out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def digest_file(path: str) -> Dict[str, str]:
    """SHA-256 of every tensor's bytes, by name, plus the digest of the whole file under the empty name."""
    digests: Dict[str, str] = {}
    with SafetensorsFile(path) as f:
        for info in f.header:
            h = hashlib.sha256()
            for chunk in f.iter_chunks(info.name):
                h.update(chunk)
            digests[info.name] = h.hexdigest()
    whole = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            whole.update(block)
    digests[""] = whole.hexdigest()
    return digests


@dataclass
class TensorDiff:
    name: str
    status: str
    max_abs: float = 0.0
    mean_abs: float = 0.0
    changed: int = 0
    numel: int = 0

    def describe(self) -> str:
        if self.status != "changed":
            return f"{self.name}: {self.status}"
        share = self.changed / self.numel if self.numel else 0.0
        return (
            f"{self.name}: {self.changed}/{self.numel} elements changed ({share:.1%}), "
            f"max |d| {self.max_abs:.3g}, mean |d| {self.mean_abs:.3g}"
        )


def compare_files(base_path: str, other_path: str) -> List[TensorDiff]:
    """Compare two checkpoints tensor by tensor: added, removed, retyped, reshaped, equal or changed."""
    results: List[TensorDiff] = []
    with SafetensorsFile(base_path) as base, SafetensorsFile(other_path) as other:
        names = list(base.header.tensors)
        names += [n for n in other.header.tensors if n not in base.header.tensors]
        for name in names:
            if name not in other.header:
                results.append(TensorDiff(name, "removed"))
                continue
            if name not in base.header:
                results.append(TensorDiff(name, "added"))
                continue
            a, b = base.info(name), other.info(name)
            if a.dtype != b.dtype:
                results.append(TensorDiff(name, f"dtype {a.dtype} -> {b.dtype}"))
                continue
            if a.shape != b.shape:
                results.append(TensorDiff(name, f"shape {list(a.shape)} -> {list(b.shape)}"))
                continue
            if base.read_bytes(name) == other.read_bytes(name):
                results.append(TensorDiff(name, "equal", numel=a.numel))
                continue
            if a.dtype not in _STRUCT_CODES and a.dtype != "BF16":
                results.append(TensorDiff(name, "changed", numel=a.numel, changed=a.numel))
                continue
            left, right = base.read_values(name), other.read_values(name)
            diffs = [abs(x - y) for x, y in zip(left, right) if not (math.isnan(x) and math.isnan(y))]
            changed = sum(1 for d in diffs if d != 0)
            results.append(
                TensorDiff(
                    name,
                    "changed",
                    max_abs=max(diffs, default=0.0),
                    mean_abs=sum(diffs) / len(diffs) if diffs else 0.0,
                    changed=changed,
                    numel=a.numel,
                )
            )
    return results


def merge_files(paths: Iterable[str], output: str) -> int:
    """Merge shards into one file; a tensor name that appears twice is an error. Returns the tensor count."""
    tensors: "OrderedDict[str, Tuple[str, Sequence[int], bytes]]" = OrderedDict()
    metadata: Dict[str, str] = {}
    for path in paths:
        with SafetensorsFile(path) as f:
            metadata.update(f.header.metadata)
            for info in f.header:
                if info.name in tensors:
                    raise ValueError(f"tensor {info.name!r} appears in more than one shard (again in {path})")
                tensors[info.name] = (info.dtype, info.shape, f.read_bytes(info.name))
    write_file(output, tensors, metadata)
    return len(tensors)


def _format_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"


def _cmd_info(args: argparse.Namespace) -> int:
    with SafetensorsFile(args.file) as f:
        print(f"{args.file}: {len(f.header)} tensors, {_format_bytes(f.header.total_bytes())}")
        for key, value in sorted(f.header.metadata.items()):
            print(f"  metadata {key} = {value}")
        by_dtype: Dict[str, int] = {}
        for info in f.header:
            by_dtype[info.dtype] = by_dtype.get(info.dtype, 0) + info.nbytes
            if args.verbose:
                print(f"  {info.name:60s} {info.dtype:8s} {str(list(info.shape)):24s} {_format_bytes(info.nbytes)}")
        for dtype, size in sorted(by_dtype.items(), key=lambda item: -item[1]):
            print(f"  {dtype}: {_format_bytes(size)}")
    return 0


def _cmd_digest(args: argparse.Namespace) -> int:
    digests = digest_file(args.file)
    if args.json:
        json.dump(digests, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        for name, value in digests.items():
            print(f"{value}  {name or '(file)'}")
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    results = compare_files(args.base, args.other)
    changed = [r for r in results if r.status != "equal"]
    changed.sort(key=lambda r: -r.max_abs)
    for result in changed[: args.top] if args.top else changed:
        print(result.describe())
    print(f"{len(results) - len(changed)} equal, {len(changed)} different")
    return 1 if changed and args.exit_code else 0


def _cmd_merge(args: argparse.Namespace) -> int:
    count = merge_files(args.files, args.output)
    print(f"wrote {count} tensors to {args.output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tensor_files", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    info = commands.add_parser("info", help="list the tensors of a file")
    info.add_argument("file")
    info.add_argument("-v", "--verbose", action="store_true", help="print every tensor")
    info.set_defaults(func=_cmd_info)

    digest = commands.add_parser("digest", help="SHA-256 of every tensor and of the file")
    digest.add_argument("file")
    digest.add_argument("--json", action="store_true", help="print a JSON object")
    digest.set_defaults(func=_cmd_digest)

    diff = commands.add_parser("diff", help="compare two checkpoints tensor by tensor")
    diff.add_argument("base")
    diff.add_argument("other")
    diff.add_argument("--top", type=int, default=0, help="show only the N largest changes")
    diff.add_argument("--exit-code", action="store_true", help="exit with 1 when anything differs")
    diff.set_defaults(func=_cmd_diff)

    merge = commands.add_parser("merge", help="merge shards into one file")
    merge.add_argument("files", nargs="+")
    merge.add_argument("-o", "--output", required=True)
    merge.set_defaults(func=_cmd_merge)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except FormatError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (OSError, KeyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
