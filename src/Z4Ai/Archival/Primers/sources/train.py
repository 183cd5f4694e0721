#!/usr/bin/env python3
"""Fine-tune a causal language model on a text dataset and save the weights as safetensors."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

logger = logging.getLogger(__name__)


@dataclass
class TrainingConfig:
    model_name_or_path: str = "base-model"
    output_dir: str = "checkpoints"
    train_file: Optional[str] = None
    validation_file: Optional[str] = None
    max_seq_length: int = 2048
    per_device_batch_size: int = 8
    gradient_accumulation_steps: int = 4
    learning_rate: float = 2e-5
    weight_decay: float = 0.0
    warmup_ratio: float = 0.03
    num_train_epochs: int = 3
    max_grad_norm: float = 1.0
    logging_steps: int = 10
    save_steps: int = 500
    seed: int = 42
    bf16: bool = True
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, path: str) -> "TrainingConfig":
        with open(path, "r", encoding="utf-8") as f:
            data = json.load(f)
        return cls(**data)

    def to_dict(self) -> Dict[str, Any]:
        return dict(self.__dict__)


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


class TextDataset(Dataset):
    """Tokenized examples packed into fixed-length blocks."""

    def __init__(self, path: str, tokenizer, block_size: int) -> None:
        self.block_size = block_size
        self.examples: List[torch.Tensor] = []
        ids: List[int] = []
        with open(path, "r", encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                record = json.loads(line)
                text = record.get("text") or record["prompt"] + record["response"]
                ids.extend(tokenizer.encode(text) + [tokenizer.eos_token_id])
        for i in range(0, len(ids) - block_size + 1, block_size):
            self.examples.append(torch.tensor(ids[i : i + block_size], dtype=torch.long))
        logger.info("Loaded %d blocks of %d tokens from %s", len(self.examples), block_size, path)

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> Dict[str, torch.Tensor]:
        input_ids = self.examples[index]
        return {"input_ids": input_ids, "labels": input_ids.clone()}


def get_cosine_schedule(optimizer, num_warmup_steps: int, num_training_steps: int, min_ratio: float = 0.1):
    def lr_lambda(step: int) -> float:
        if step < num_warmup_steps:
            return float(step) / float(max(1, num_warmup_steps))
        progress = float(step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))
        return max(min_ratio, 0.5 * (1.0 + math.cos(math.pi * progress)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)


class RMSNorm(nn.Module):
    def __init__(self, hidden_size: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.eps = eps

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        variance = hidden_states.pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.eps)
        return self.weight * hidden_states


def evaluate(model: nn.Module, loader: DataLoader, device: torch.device) -> Dict[str, float]:
    model.eval()
    total_loss = 0.0
    total_tokens = 0
    with torch.no_grad():
        for batch in loader:
            batch = {k: v.to(device) for k, v in batch.items()}
            outputs = model(**batch)
            tokens = batch["labels"].ne(-100).sum().item()
            total_loss += outputs.loss.item() * tokens
            total_tokens += tokens
    model.train()
    loss = total_loss / max(1, total_tokens)
    return {"eval_loss": loss, "perplexity": math.exp(min(loss, 20.0))}


def save_checkpoint(model: nn.Module, config: TrainingConfig, step: int) -> Path:
    from safetensors.torch import save_file

    path = Path(config.output_dir) / f"checkpoint-{step}"
    path.mkdir(parents=True, exist_ok=True)
    state_dict = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state_dict, str(path / "model.safetensors"), metadata={"format": "pt"})
    with open(path / "training_config.json", "w", encoding="utf-8") as f:
        json.dump(config.to_dict(), f, indent=2, sort_keys=True)
    logger.info("Saved checkpoint to %s", path)
    return path


def train(config: TrainingConfig, model: nn.Module, tokenizer) -> None:
    set_seed(config.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    train_dataset = TextDataset(config.train_file, tokenizer, config.max_seq_length)
    train_loader = DataLoader(train_dataset, batch_size=config.per_device_batch_size, shuffle=True, drop_last=True)
    eval_loader = None
    if config.validation_file:
        eval_dataset = TextDataset(config.validation_file, tokenizer, config.max_seq_length)
        eval_loader = DataLoader(eval_dataset, batch_size=config.per_device_batch_size)

    no_decay = ["bias", "norm.weight"]
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)], "weight_decay": config.weight_decay},
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=config.learning_rate, betas=(0.9, 0.95), eps=1e-8)
    steps_per_epoch = len(train_loader) // config.gradient_accumulation_steps
    total_steps = steps_per_epoch * config.num_train_epochs
    scheduler = get_cosine_schedule(optimizer, int(total_steps * config.warmup_ratio), total_steps)

    global_step = 0
    start = time.time()
    model.train()
    for epoch in range(config.num_train_epochs):
        for step, batch in enumerate(train_loader):
            batch = {k: v.to(device) for k, v in batch.items()}
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=config.bf16):
                outputs = model(**batch)
                loss = outputs.loss / config.gradient_accumulation_steps
            loss.backward()
            if (step + 1) % config.gradient_accumulation_steps != 0:
                continue
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            global_step += 1
            if global_step % config.logging_steps == 0:
                elapsed = time.time() - start
                logger.info(
                    "epoch %d step %d/%d loss %.4f lr %.3e (%.1f s)",
                    epoch, global_step, total_steps, loss.item() * config.gradient_accumulation_steps,
                    scheduler.get_last_lr()[0], elapsed,
                )
            if global_step % config.save_steps == 0:
                save_checkpoint(model, config, global_step)
        if eval_loader is not None:
            metrics = evaluate(model, eval_loader, device)
            logger.info("epoch %d: %s", epoch, json.dumps(metrics))
    save_checkpoint(model, config, global_step)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=str, required=True, help="Path to a JSON training configuration.")
    parser.add_argument("--output_dir", type=str, default=None, help="Overrides the output directory.")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--verbose", action="store_true")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    logging.basicConfig(
        format="%(asctime)s - %(levelname)s - %(name)s - %(message)s",
        level=logging.DEBUG if args.verbose else logging.INFO,
    )
    config = TrainingConfig.from_json(args.config)
    if args.output_dir is not None:
        config.output_dir = args.output_dir
    if args.seed is not None:
        config.seed = args.seed
    os.makedirs(config.output_dir, exist_ok=True)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(config.model_name_or_path)
    model = AutoModelForCausalLM.from_pretrained(config.model_name_or_path, torch_dtype=torch.bfloat16)
    train(config, model, tokenizer)


if __name__ == "__main__":
    main()
