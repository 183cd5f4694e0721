"""Checkpoint housekeeping: find, rotate, shard, quantize and describe training checkpoints.

Written for the Z4Ai archive primer. A training run writes a checkpoint folder every few hundred steps; each folder
holds the weights (one or more safetensors shards and an index), the optimizer state, the trainer state and the
configuration. This module finds those folders, keeps the ones a retention policy asks for, splits and joins
shards, applies simple symmetric int8 quantization to float32 weights for quick experiments, and writes a short
summary of a run for its model card.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import math
import os
import re
import shutil
import struct
import sys
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

logger = logging.getLogger(__name__)

CHECKPOINT_PATTERN = re.compile(r"^checkpoint-(\d+)$")
INDEX_NAME = "model.safetensors.index.json"
TRAINER_STATE = "trainer_state.json"
SHARD_NAME = "model-{index:05d}-of-{count:05d}.safetensors"


class CheckpointError(RuntimeError):
    """A checkpoint folder is incomplete or inconsistent."""


@dataclass(order=True)
class Checkpoint:
    """One checkpoint folder, ordered by training step."""

    step: int
    path: Path = field(compare=False)

    @property
    def name(self) -> str:
        return self.path.name

    def files(self) -> List[Path]:
        return sorted(p for p in self.path.iterdir() if p.is_file())

    def size(self) -> int:
        return sum(p.stat().st_size for p in self.files())

    def weight_files(self) -> List[Path]:
        index = self.path / INDEX_NAME
        if index.is_file():
            with open(index, "r", encoding="utf-8") as handle:
                data = json.load(handle)
            names = sorted(set(data.get("weight_map", {}).values()))
            missing = [n for n in names if not (self.path / n).is_file()]
            if missing:
                raise CheckpointError(f"{self.path}: index names missing shards: {', '.join(missing)}")
            return [self.path / n for n in names]
        single = self.path / "model.safetensors"
        if single.is_file():
            return [single]
        raise CheckpointError(f"{self.path}: no weights (neither {INDEX_NAME} nor model.safetensors)")

    def trainer_state(self) -> Dict[str, object]:
        path = self.path / TRAINER_STATE
        if not path.is_file():
            return {}
        with open(path, "r", encoding="utf-8") as handle:
            return json.load(handle)

    def is_complete(self) -> bool:
        try:
            self.weight_files()
        except CheckpointError:
            return False
        return (self.path / "config.json").is_file()

    def metric(self, name: str) -> Optional[float]:
        """The last logged value of a metric (e.g. eval_loss) at or before this checkpoint's step."""
        history = self.trainer_state().get("log_history", [])
        value = None
        if isinstance(history, list):
            for entry in history:
                if isinstance(entry, dict) and name in entry and entry.get("step", 0) <= self.step:
                    value = float(entry[name])
        return value


def find_checkpoints(run_dir: str) -> List[Checkpoint]:
    """Every checkpoint-N folder directly under run_dir, sorted by step."""
    root = Path(run_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"run folder not found: {run_dir}")
    found = []
    for child in root.iterdir():
        match = CHECKPOINT_PATTERN.match(child.name)
        if match and child.is_dir():
            found.append(Checkpoint(int(match.group(1)), child))
    return sorted(found)


@dataclass
class RetentionPolicy:
    """Which checkpoints to keep: the newest few, the best few by a metric, and one every so many steps."""

    keep_last: int = 3
    keep_best: int = 1
    metric: str = "eval_loss"
    greater_is_better: bool = False
    keep_every: int = 0
    protect: List[str] = field(default_factory=list)

    def select(self, checkpoints: Sequence[Checkpoint]) -> Tuple[List[Checkpoint], List[Checkpoint]]:
        """Split into (keep, remove). Incomplete checkpoints are kept: they may still be being written."""
        keep: Dict[int, Checkpoint] = {}
        complete = [c for c in checkpoints if c.is_complete()]
        for checkpoint in checkpoints:
            if not checkpoint.is_complete():
                keep[checkpoint.step] = checkpoint
            if any(fnmatch.fnmatch(checkpoint.name, pattern) for pattern in self.protect):
                keep[checkpoint.step] = checkpoint
        for checkpoint in complete[-self.keep_last :] if self.keep_last > 0 else []:
            keep[checkpoint.step] = checkpoint
        if self.keep_best > 0:
            scored = [(c.metric(self.metric), c) for c in complete]
            scored = [(v, c) for v, c in scored if v is not None and not math.isnan(v)]
            scored.sort(key=lambda item: item[0], reverse=self.greater_is_better)
            for _, checkpoint in scored[: self.keep_best]:
                keep[checkpoint.step] = checkpoint
        if self.keep_every > 0:
            for checkpoint in complete:
                if checkpoint.step % self.keep_every == 0:
                    keep[checkpoint.step] = checkpoint
        remove = [c for c in checkpoints if c.step not in keep]
        return sorted(keep.values()), remove


def rotate(run_dir: str, policy: RetentionPolicy, dry_run: bool = True) -> List[Checkpoint]:
    """Apply the policy to a run folder. With dry_run (the default) nothing is deleted, only reported."""
    keep, remove = policy.select(find_checkpoints(run_dir))
    for checkpoint in remove:
        if dry_run:
            logger.info("would remove %s (%.1f MiB)", checkpoint.path, checkpoint.size() / 2**20)
        else:
            logger.info("removing %s", checkpoint.path)
            shutil.rmtree(checkpoint.path)
    logger.info("keeping %s", ", ".join(c.name for c in keep) or "nothing")
    return remove


# --------------------------------------------------------------------------- raw safetensors helpers


def read_header(path: Path) -> Tuple[Dict[str, dict], int]:
    with open(path, "rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        if length > 100 << 20:
            raise CheckpointError(f"{path}: header of {length} bytes is implausibly large")
        header = json.loads(handle.read(length))
    return header, 8 + length


def tensor_sizes(path: Path) -> Dict[str, int]:
    header, _ = read_header(path)
    return {name: info["data_offsets"][1] - info["data_offsets"][0] for name, info in header.items() if name != "__metadata__"}


def plan_shards(sizes: Mapping[str, int], max_shard_bytes: int) -> List[List[str]]:
    """Group tensors, in order, into shards of at most max_shard_bytes (a larger tensor gets a shard of its own)."""
    if max_shard_bytes <= 0:
        raise ValueError("max_shard_bytes must be positive")
    shards: List[List[str]] = [[]]
    used = 0
    for name, size in sizes.items():
        if shards[-1] and used + size > max_shard_bytes:
            shards.append([])
            used = 0
        shards[-1].append(name)
        used += size
    return [s for s in shards if s]


def write_index(folder: Path, shards: Sequence[Sequence[str]], total_size: int) -> Path:
    count = len(shards)
    weight_map = {}
    for i, names in enumerate(shards, start=1):
        for name in names:
            weight_map[name] = SHARD_NAME.format(index=i, count=count)
    index = {"metadata": {"total_size": total_size}, "weight_map": dict(sorted(weight_map.items()))}
    path = folder / INDEX_NAME
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(index, handle, indent=2)
        handle.write("\n")
    os.replace(temporary, path)
    return path


def parse_size(text: str) -> int:
    """'5GB', '500MB', '2GiB' or a plain number of bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?)B?\s*", text, re.IGNORECASE)
    if match is None:
        raise ValueError(f"not a size: {text!r}")
    number, unit, binary = match.groups()
    base = 1024 if binary else 1000
    power = " KMGT".index(unit.upper() or " ")
    return int(float(number) * base**power)


# --------------------------------------------------------------------------- quantization


@dataclass
class QuantizedTensor:
    """Symmetric int8 quantization with one scale per row: value = q * scale[row]."""

    shape: Tuple[int, ...]
    scales: List[float]
    values: bytes

    def dequantize(self) -> List[float]:
        rows = len(self.scales)
        width = len(self.values) // rows if rows else 0
        q = array("b", self.values)
        out = []
        for r in range(rows):
            scale = self.scales[r]
            out.extend(q[r * width + c] * scale for c in range(width))
        return out


def quantize_rows(values: Sequence[float], shape: Tuple[int, ...]) -> QuantizedTensor:
    if not shape:
        raise ValueError("cannot quantize a scalar by rows")
    width = 1
    for dim in shape[1:]:
        width *= dim
    rows = shape[0]
    if rows * width != len(values):
        raise ValueError(f"{len(values)} values do not fill shape {list(shape)}")
    scales: List[float] = []
    q = array("b")
    for r in range(rows):
        row = values[r * width : (r + 1) * width]
        peak = max((abs(v) for v in row), default=0.0)
        scale = peak / 127.0 if peak > 0 else 1.0
        scales.append(scale)
        q.extend(max(-127, min(127, int(round(v / scale)))) for v in row)
    return QuantizedTensor(shape, scales, q.tobytes())


def quantization_error(original: Sequence[float], restored: Sequence[float]) -> Dict[str, float]:
    if len(original) != len(restored):
        raise ValueError("lengths differ")
    if not original:
        return {"max_abs": 0.0, "rmse": 0.0, "relative": 0.0}
    diffs = [a - b for a, b in zip(original, restored)]
    rmse = math.sqrt(sum(d * d for d in diffs) / len(diffs))
    norm = math.sqrt(sum(a * a for a in original) / len(original))
    return {"max_abs": max(abs(d) for d in diffs), "rmse": rmse, "relative": rmse / norm if norm else 0.0}


# --------------------------------------------------------------------------- run summary


def describe_run(run_dir: str) -> str:
    """A Markdown paragraph and table for a model card: steps, losses and sizes of the kept checkpoints."""
    checkpoints = find_checkpoints(run_dir)
    if not checkpoints:
        return f"No checkpoints found in `{run_dir}`.\n"
    lines = [
        f"Training run `{os.path.basename(os.path.abspath(run_dir))}`: {len(checkpoints)} checkpoints, "
        f"steps {checkpoints[0].step} to {checkpoints[-1].step}.",
        "",
        "| checkpoint | step | train loss | eval loss | size |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for checkpoint in checkpoints:
        train = checkpoint.metric("loss")
        evaluation = checkpoint.metric("eval_loss")
        lines.append(
            f"| {checkpoint.name} | {checkpoint.step} | {'' if train is None else f'{train:.4f}'} | "
            f"{'' if evaluation is None else f'{evaluation:.4f}'} | {checkpoint.size() / 2**30:.2f} GiB |"
        )
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    lines.append("")
    lines.append(f"Summary written {stamp}.")
    return "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Checkpoint housekeeping for training runs.")
    sub = parser.add_subparsers(dest="command", required=True)

    ls = sub.add_parser("list", help="list the checkpoints of a run")
    ls.add_argument("run_dir")

    rot = sub.add_parser("rotate", help="remove checkpoints the retention policy does not keep")
    rot.add_argument("run_dir")
    rot.add_argument("--keep-last", type=int, default=3)
    rot.add_argument("--keep-best", type=int, default=1)
    rot.add_argument("--metric", default="eval_loss")
    rot.add_argument("--greater-is-better", action="store_true")
    rot.add_argument("--keep-every", type=int, default=0)
    rot.add_argument("--protect", action="append", default=[], help="glob of checkpoint names never to remove")
    rot.add_argument("--yes", action="store_true", help="really delete (otherwise only report)")

    plan = sub.add_parser("plan-shards", help="show how a file's tensors would be split into shards")
    plan.add_argument("file")
    plan.add_argument("--max-shard-size", default="5GB")

    card = sub.add_parser("describe", help="print a Markdown summary of a run")
    card.add_argument("run_dir")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.command == "list":
            for checkpoint in find_checkpoints(args.run_dir):
                state = "complete" if checkpoint.is_complete() else "incomplete"
                print(f"{checkpoint.step:>8}  {checkpoint.size() / 2**20:>10.1f} MiB  {state:10s}  {checkpoint.path}")
        elif args.command == "rotate":
            policy = RetentionPolicy(
                keep_last=args.keep_last,
                keep_best=args.keep_best,
                metric=args.metric,
                greater_is_better=args.greater_is_better,
                keep_every=args.keep_every,
                protect=args.protect,
            )
            removed = rotate(args.run_dir, policy, dry_run=not args.yes)
            print(f"{len(removed)} checkpoint(s) {'removed' if args.yes else 'would be removed'}")
        elif args.command == "plan-shards":
            sizes = tensor_sizes(Path(args.file))
            shards = plan_shards(sizes, parse_size(args.max_shard_size))
            for i, names in enumerate(shards, start=1):
                total = sum(sizes[n] for n in names)
                print(f"{SHARD_NAME.format(index=i, count=len(shards))}: {len(names)} tensors, {total / 2**20:.1f} MiB")
        else:
            sys.stdout.write(describe_run(args.run_dir))
    except (CheckpointError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
