"""Typed experiment configuration: defaults, files, environment overrides and command-line flags, in that order.

Written for the Z4Ai archive primer. A configuration is a tree of dataclasses. Values are read from a JSON or INI
file, then from environment variables such as ``TRAIN_OPTIM__LR=3e-4``, then from ``--set optim.lr=3e-4`` flags;
each value is converted to the field's declared type and checked, and the final tree can be printed, saved and
compared with another one. Unknown keys are errors, because a misspelt key that is silently ignored is one of the
most expensive bugs in machine learning.
"""

from __future__ import annotations

import configparser
import copy
import dataclasses
import enum
import json
import os
import sys
import typing
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Type, TypeVar, Union, get_args, get_origin

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(ValueError):
    """A configuration value is missing, unknown or of the wrong type; the message names the key."""


class Precision(str, enum.Enum):
    FP32 = "fp32"
    FP16 = "fp16"
    BF16 = "bf16"


class Schedule(str, enum.Enum):
    CONSTANT = "constant"
    LINEAR = "linear"
    COSINE = "cosine"


@dataclass
class ModelConfig:
    name: str = "base-model"
    hidden_size: int = 2048
    num_layers: int = 22
    num_heads: int = 32
    num_kv_heads: int = 4
    vocab_size: int = 32000
    max_position_embeddings: int = 4096
    rope_theta: float = 10000.0
    tie_embeddings: bool = False

    def check(self) -> None:
        if self.hidden_size % self.num_heads != 0:
            raise ConfigError(f"model.hidden_size {self.hidden_size} is not divisible by model.num_heads {self.num_heads}")
        if self.num_heads % self.num_kv_heads != 0:
            raise ConfigError("model.num_heads must be a multiple of model.num_kv_heads")


@dataclass
class OptimConfig:
    lr: float = 2e-4
    weight_decay: float = 0.1
    betas: Tuple[float, float] = (0.9, 0.95)
    eps: float = 1e-8
    schedule: Schedule = Schedule.COSINE
    warmup_steps: int = 200
    min_lr_ratio: float = 0.1
    grad_clip: Optional[float] = 1.0

    def check(self) -> None:
        if self.lr <= 0:
            raise ConfigError("optim.lr must be positive")
        if not all(0.0 <= b < 1.0 for b in self.betas):
            raise ConfigError(f"optim.betas must be in [0, 1), got {self.betas}")
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            raise ConfigError("optim.min_lr_ratio must be between 0 and 1")


@dataclass
class DataConfig:
    train: List[str] = field(default_factory=list)
    validation: List[str] = field(default_factory=list)
    seq_len: int = 2048
    batch_size: int = 8
    grad_accum: int = 4
    num_workers: int = 2


@dataclass
class RunConfig:
    name: str = "run"
    output_dir: str = "runs"
    seed: int = 42
    max_steps: int = 10000
    eval_every: int = 500
    save_every: int = 1000
    keep_last: int = 3
    precision: Precision = Precision.BF16
    tags: Dict[str, str] = field(default_factory=dict)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    data: DataConfig = field(default_factory=DataConfig)

    def check(self) -> None:
        if self.max_steps <= 0:
            raise ConfigError("max_steps must be positive")
        if self.save_every <= 0 or self.eval_every <= 0:
            raise ConfigError("save_every and eval_every must be positive")
        self.model.check()
        self.optim.check()

    @property
    def tokens_per_step(self) -> int:
        return self.data.seq_len * self.data.batch_size * self.data.grad_accum


def convert(value: Any, kind: Any, key: str) -> Any:
    """Convert a value read from a file, the environment or a flag to the declared type of a field."""
    origin = get_origin(kind)
    args = get_args(kind)
    if kind is Any:
        return value
    if origin is Union:
        options = [a for a in args if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() in {"none", "null", ""}):
            if type(None) in args:
                return None
            raise ConfigError(f"{key} may not be empty")
        errors = []
        for option in options:
            try:
                return convert(value, option, key)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError("; ".join(errors))
    if origin in (list, List, Sequence):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()] if not value.startswith("[") else json.loads(value)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} must be a list, got {type(value).__name__}")
        return [convert(v, args[0] if args else Any, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin in (tuple, Tuple):
        if isinstance(value, str):
            value = json.loads(value) if value.startswith("[") else [v.strip() for v in value.split(",")]
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ConfigError(f"{key} must have {len(args)} items")
        return tuple(convert(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if origin in (dict, Dict, Mapping):
        if isinstance(value, str):
            value = json.loads(value)
        if not isinstance(value, dict):
            raise ConfigError(f"{key} must be a mapping")
        key_type, value_type = args if args else (Any, Any)
        return {convert(k, key_type, key): convert(v, value_type, f"{key}.{k}") for k, v in value.items()}
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(value)
        except ValueError:
            choices = ", ".join(str(m.value) for m in kind)
            raise ConfigError(f"{key} must be one of {choices}, got {value!r}") from None
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    if kind is int:
        if isinstance(value, bool):
            raise ConfigError(f"{key} must be an integer, got a boolean")
        try:
            number = float(value) if isinstance(value, str) and ("e" in value.lower() or "." in value) else value
            if isinstance(number, float):
                if not number.is_integer():
                    raise ValueError
                return int(number)
            return int(number)
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be an integer, got {value!r}") from None
    if kind is float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be a number, got {value!r}") from None
    if kind is str:
        return str(value)
    raise ConfigError(f"{key}: unsupported type {kind!r}")


def _hints(cls: type) -> Dict[str, Any]:
    return typing.get_type_hints(cls)


def apply(target: Any, values: Mapping[str, Any], prefix: str = "") -> None:
    """Set fields of a dataclass tree from a nested mapping; unknown keys raise ConfigError."""
    hints = _hints(type(target))
    names = {f.name for f in fields(target)}
    for key, value in values.items():
        path = f"{prefix}{key}"
        if key not in names:
            suggestions = [n for n in names if n.startswith(key[:3])]
            hint = f" (did you mean {', '.join(sorted(suggestions))}?)" if suggestions else ""
            raise ConfigError(f"unknown setting {path}{hint}")
        current = getattr(target, key)
        if is_dataclass(current) and isinstance(value, Mapping):
            apply(current, value, f"{path}.")
        else:
            setattr(target, key, convert(value, hints[key], path))


def set_path(target: Any, dotted: str, value: str) -> None:
    """Set one value by a dotted path such as optim.lr."""
    parts = dotted.split(".")
    nested: Dict[str, Any] = {}
    cursor = nested
    for part in parts[:-1]:
        cursor = cursor.setdefault(part, {})
    cursor[parts[-1]] = value
    apply(target, nested)


def from_file(target: Any, path: str) -> None:
    if path.endswith(".json"):
        with open(path, "r", encoding="utf-8") as handle:
            apply(target, json.load(handle))
        return
    if path.endswith((".ini", ".cfg")):
        parser = configparser.ConfigParser()
        parser.optionxform = str  # keep the case of keys
        with open(path, "r", encoding="utf-8") as handle:
            parser.read_file(handle)
        for section in parser.sections():
            for key, value in parser.items(section):
                set_path(target, key if section == "run" else f"{section}.{key}", value)
        return
    raise ConfigError(f"cannot read {path}: expected a .json, .ini or .cfg file")


def from_environment(target: Any, prefix: str = "TRAIN_", environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """Apply PREFIX_SECTION__KEY=value variables; returns the dotted keys that were set."""
    environ = os.environ if environ is None else environ
    applied = []
    for name in sorted(environ):
        if not name.startswith(prefix):
            continue
        dotted = name[len(prefix) :].lower().replace("__", ".")
        set_path(target, dotted, environ[name])
        applied.append(dotted)
    return applied


def to_dict(value: Any) -> Any:
    if is_dataclass(value):
        return {f.name: to_dict(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [to_dict(v) for v in value]
    if isinstance(value, dict):
        return {k: to_dict(v) for k, v in value.items()}
    return value


def flatten(value: Mapping[str, Any], prefix: str = "") -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, Mapping) and item:
            out.update(flatten(item, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = item
    return out


def difference(a: Any, b: Any) -> List[Tuple[str, Any, Any]]:
    """The settings that differ between two configurations, as (key, a, b), sorted by key."""
    left, right = flatten(to_dict(a)), flatten(to_dict(b))
    keys = sorted(set(left) | set(right))
    return [(k, left.get(k), right.get(k)) for k in keys if left.get(k) != right.get(k)]


def load(argv: Optional[Sequence[str]] = None, environ: Optional[Mapping[str, str]] = None) -> RunConfig:
    """Defaults, then --config FILE, then the environment, then --set KEY=VALUE flags; finally check()."""
    import argparse

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--config", action="append", default=[])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args, _ = parser.parse_known_args(argv)
    config = RunConfig()
    for path in args.config:
        from_file(config, path)
    from_environment(config, environ=environ)
    for assignment in args.set:
        key, sep, value = assignment.partition("=")
        if not sep:
            raise ConfigError(f"--set expects KEY=VALUE, got {assignment!r}")
        set_path(config, key.strip(), value.strip())
    config.check()
    return config


def describe(config: RunConfig) -> str:
    lines = [f"run {config.name}: {config.max_steps} steps of {config.tokens_per_step:,} tokens"]
    for key, value in sorted(flatten(to_dict(config)).items()):
        lines.append(f"  {key} = {json.dumps(value)}")
    return "\n".join(lines)


if __name__ == "__main__":
    try:
        run = load(sys.argv[1:])
    except (ConfigError, OSError, json.JSONDecodeError) as error:
        print(f"configuration error: {error}", file=sys.stderr)
        sys.exit(2)
    print(describe(run))
    baseline = RunConfig()
    changes = difference(baseline, run)
    if changes:
        print("changed from the defaults:")
        for key, old, new in changes:
            print(f"  {key}: {json.dumps(old)} -> {json.dumps(new)}")
