#!/usr/bin/env python3
"""Builds the synthetic JSON/log part of the json primer (deterministic: fixed seed, no input files)."""
import json, random, re, sys

rng = random.Random(20240501)
out = []

def emit(obj, indent=2, sort=True):
    out.append(json.dumps(obj, indent=indent, sort_keys=sort, ensure_ascii=False) + "\n")

llama = {
    "architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
    "bos_token_id": 1, "eos_token_id": 2, "head_dim": 64, "hidden_act": "silu", "hidden_size": 2048,
    "initializer_range": 0.02, "intermediate_size": 5632, "max_position_embeddings": 4096,
    "mlp_bias": False, "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 22,
    "num_key_value_heads": 4, "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": None,
    "rope_theta": 10000.0, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    "transformers_version": "4.44.2", "use_cache": True, "vocab_size": 32000,
}
emit(llama)
mistral = dict(llama, architectures=["MistralForCausalLM"], model_type="mistral", hidden_size=4096,
               intermediate_size=14336, num_hidden_layers=32, num_key_value_heads=8, head_dim=128,
               max_position_embeddings=32768, rope_theta=1000000.0, sliding_window=None, vocab_size=32768)
emit(mistral)
emit({"architectures": ["BertForMaskedLM"], "attention_probs_dropout_prob": 0.1, "classifier_dropout": None,
      "gradient_checkpointing": False, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 768,
      "initializer_range": 0.02, "intermediate_size": 3072, "layer_norm_eps": 1e-12, "max_position_embeddings": 512,
      "model_type": "bert", "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 0,
      "position_embedding_type": "absolute", "transformers_version": "4.44.2", "type_vocab_size": 2,
      "use_cache": True, "vocab_size": 30522})
emit({"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1, "bos_token_id": 50256,
      "embd_pdrop": 0.1, "eos_token_id": 50256, "initializer_range": 0.02, "layer_norm_epsilon": 1e-05,
      "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_inner": None, "n_layer": 12,
      "n_positions": 1024, "resid_pdrop": 0.1, "summary_activation": None, "summary_first_dropout": 0.1,
      "summary_proj_to_labels": True, "summary_type": "cls_index", "summary_use_proj": True,
      "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}}, "vocab_size": 50257})
emit({"bos_token_id": 1, "do_sample": True, "eos_token_id": 2, "max_length": 4096, "pad_token_id": 0,
      "temperature": 0.6, "top_p": 0.9, "transformers_version": "4.44.2"})
special = {"bos_token": {"content": "<s>", "lstrip": False, "normalized": False, "rstrip": False, "single_word": False},
           "eos_token": {"content": "</s>", "lstrip": False, "normalized": False, "rstrip": False, "single_word": False},
           "pad_token": "</s>",
           "unk_token": {"content": "<unk>", "lstrip": False, "normalized": False, "rstrip": False, "single_word": False}}
emit(special)
added = {}
for i, tok in enumerate(["<unk>", "<s>", "</s>"]):
    added[str(i)] = {"content": tok, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False, "special": True}
for i, tok in enumerate(["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|pad|>"]):
    added[str(32000 + i)] = {"content": tok, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False, "special": True}
emit({"add_bos_token": True, "add_eos_token": False, "added_tokens_decoder": added, "bos_token": "<s>",
      "chat_template": "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
      "clean_up_tokenization_spaces": False, "eos_token": "</s>", "legacy": False, "model_max_length": 4096,
      "pad_token": "</s>", "padding_side": "right", "sp_model_kwargs": {}, "spaces_between_special_tokens": False,
      "tokenizer_class": "LlamaTokenizer", "unk_token": "<unk>", "use_default_system_prompt": False})

# Sharded index for a small llama-style model.
weight_map = {}
names = ["model.embed_tokens.weight"]
for layer in range(6):
    p = f"model.layers.{layer}."
    names += [p + "input_layernorm.weight", p + "mlp.down_proj.weight", p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight",
              p + "post_attention_layernorm.weight", p + "self_attn.k_proj.weight", p + "self_attn.o_proj.weight",
              p + "self_attn.q_proj.weight", p + "self_attn.v_proj.weight"]
names += ["model.norm.weight", "lm_head.weight"]
for i, n in enumerate(sorted(names)):
    weight_map[n] = "model-0000%d-of-00002.safetensors" % (1 if i < len(names) // 2 else 2)
emit({"metadata": {"total_size": 2200119296}, "weight_map": weight_map})

# Safetensors header for a couple of tensors.
offset = 0
header = {"__metadata__": {"format": "pt"}}
for n in names[:12]:
    shape = [2048] if n.endswith("norm.weight") else [rng.choice([256, 2048, 5632]), 2048]
    size = 2
    for d in shape:
        size *= d
    header[n] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + size]}
    offset += size
out.append(json.dumps(header, separators=(",", ":")) + "\n")

# trainer_state.json style log history.
history = []
loss = 2.9
lr = 0.0
for step in range(10, 410, 10):
    lr = min(2e-05, 2e-05 * step / 100) if step <= 100 else 2e-05 * (0.5 + 0.5 * (1 - (step - 100) / 300))
    loss = max(0.9, loss * (0.985 + rng.random() * 0.01))
    history.append({"epoch": round(step / 400 * 3, 4), "grad_norm": round(0.3 + rng.random() * 1.2, 6),
                    "learning_rate": float("%.6e" % lr), "loss": round(loss, 4), "step": step})
    if step % 100 == 0:
        history.append({"epoch": round(step / 400 * 3, 4), "eval_loss": round(loss + 0.05 + rng.random() * 0.02, 6),
                        "eval_runtime": round(20 + rng.random() * 5, 4), "eval_samples_per_second": round(40 + rng.random() * 4, 3),
                        "eval_steps_per_second": round(5 + rng.random(), 3), "step": step})
emit({"best_metric": None, "best_model_checkpoint": None, "epoch": 3.0, "eval_steps": 100, "global_step": 400,
      "is_hyper_param_search": False, "is_local_process_zero": True, "is_world_process_zero": True,
      "log_history": history, "logging_steps": 10, "max_steps": 400, "num_input_tokens_seen": 0,
      "num_train_epochs": 3, "save_steps": 500, "total_flos": 1.2345678901234568e+17, "train_batch_size": 8,
      "trial_name": None, "trial_params": None})

# A byte-level BPE tokenizer.json: vocabulary and merges built from the words of the other primers' texts.
import collections
words = collections.Counter()
for name in ("model-card.md", "train.py"):
    for w in re.findall(r"[A-Za-z]+", open(name, encoding="utf-8").read()):
        words[w] += 1
vocab = {}
for i in range(33, 127):
    vocab[chr(i)] = len(vocab)
for ch in ["\u0120", "\u010a", "\u0109"]:
    vocab[ch] = len(vocab)
merges = []
for w, _ in sorted(words.items(), key=lambda t: (-t[1], t[0]))[:1200]:
    for token in (w, "\u0120" + w, w.lower(), "\u0120" + w.lower()):
        if token not in vocab:
            vocab[token] = len(vocab)
            if len(token) > 1:
                merges.append(token[:-1] + " " + token[-1])
tok = {"version": "1.0", "truncation": None, "padding": None,
       "added_tokens": [{"id": int(k), "content": v["content"], "single_word": False, "lstrip": False, "rstrip": False,
                         "normalized": False, "special": True} for k, v in added.items()],
       "normalizer": None,
       "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
       "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
       "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
       "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                 "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                 "vocab": vocab, "merges": merges}}
out.append(json.dumps(tok, indent=2, ensure_ascii=False) + "\n")

# JSON lines metrics and a plain text log.
t = 1714564800
for step in range(1, 121):
    t += rng.randint(2, 4)
    rec = {"step": step, "loss": round(2.5 * (0.99 ** step) + rng.random() * 0.05, 4), "lr": float("%.4e" % (3e-4 * min(1, step / 50))),
           "tokens_per_second": rng.randint(41000, 43999), "grad_norm": round(0.2 + rng.random(), 4)}
    out.append(json.dumps(rec) + "\n")
levels = ["INFO", "INFO", "INFO", "DEBUG", "WARNING"]
msgs = ["Loading checkpoint shards", "Saving model checkpoint to checkpoints/checkpoint-{n}", "Configuration saved in checkpoints/checkpoint-{n}/config.json",
        "Model weights saved in checkpoints/checkpoint-{n}/model.safetensors", "***** Running Evaluation *****", "  Num examples = {n}",
        "  Batch size = 8", "Epoch {e}: train_loss={l} eval_loss={l2}", "Gradient overflow detected, skipping step", "tokenizer config file saved in checkpoints/tokenizer_config.json"]
for i in range(90):
    t += rng.randint(1, 30)
    hh, mm, ss = (t // 3600) % 24, (t // 60) % 60, t % 60
    m = rng.choice(msgs).format(n=rng.randint(1, 40) * 100, e=rng.randint(0, 2), l=round(1 + rng.random(), 4), l2=round(1.1 + rng.random(), 4))
    out.append("2024-05-01 %02d:%02d:%02d,%03d - %s - trainer - %s\n" % (hh, mm, ss, rng.randint(0, 999), rng.choice(levels), m))

sys.stdout.write("".join(out))
