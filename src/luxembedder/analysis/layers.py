"""Sentence representations at every transformer layer of a sentence-transformers model.

For each text the model's own preprocessing is used (its default prompt, e.g. e5's ``"query: "``, is
prepended exactly as ``model.encode`` does; its tokenizer and ``max_seq_length``); the underlying Hugging
Face model is run once per batch with ``output_hidden_states=True`` and no gradients. Each hidden state
(index 0 = the embedding layer output, index L = the last transformer layer) is mean-pooled over the
attention mask (all real tokens, including the prompt and special tokens, as sentence-transformers' mean
pooling with ``include_prompt=True``). The model's final sentence embedding (after its own pooling and
normalisation modules) comes from the same forward pass under the key ``"final"``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

FINAL = "final"


def layer_key(index: int) -> str:
    """Name of hidden-state ``index`` (0 = embeddings output)."""
    return f"layer_{index:02d}"


def default_prompt(model: Any) -> str | None:
    """The prompt ``model.encode`` would prepend by default (None when the model has none)."""
    name = getattr(model, "default_prompt_name", None)
    prompts = getattr(model, "prompts", None) or {}
    return prompts.get(name) if name else None


def _hf_model(model: Any) -> Any:
    first = model[0]
    for attr in ("auto_model", "model"):
        hf = getattr(first, attr, None)
        if hf is not None and hasattr(hf, "config"):
            return hf
    raise TypeError(f"the first module of this model ({type(first).__name__}) wraps no Hugging Face model")


def num_hidden_states(model: Any) -> int:
    """Number of hidden states (transformer layers + the embedding layer)."""
    return int(_hf_model(model).config.num_hidden_layers) + 1


def layer_embeddings(
    model: Any,
    texts: Sequence[str],
    batch_size: int = 32,
    layers: Sequence[int] | None = None,
    include_final: bool = True,
    prompt: str | None = None,
    show_progress: bool = False,
) -> dict[str, np.ndarray]:
    """Mean-pooled hidden states per layer (and the final sentence embedding) for ``texts``.

    Returns ``{layer_key(i): (n, hidden) float32, ..., "final": (n, dim) float32}`` in input order.
    ``layers`` selects hidden-state indices (default: all); ``prompt`` overrides the model's default prompt.
    """
    import torch
    from tqdm.auto import tqdm

    texts = list(texts)
    hf = _hf_model(model)
    n_states = int(hf.config.num_hidden_layers) + 1
    wanted = list(range(n_states)) if layers is None else [int(i) for i in layers]
    bad = [i for i in wanted if not 0 <= i < n_states]
    if bad:
        raise ValueError(f"layer indices {bad} out of range: this model has hidden states 0..{n_states - 1}")
    if prompt is None:
        prompt = default_prompt(model)
    out: dict[str, list[np.ndarray]] = {layer_key(i): [] for i in wanted}
    if include_final:
        out[FINAL] = []
    if not texts:
        dim = int(hf.config.hidden_size)
        res = {k: np.zeros((0, dim), dtype=np.float32) for k in out}
        if include_final:
            res[FINAL] = np.zeros((0, int(model.get_embedding_dimension())), dtype=np.float32)
        return res
    # Length-sorted batches (less padding), results put back into input order at the end.
    order = np.argsort([-len(t) for t in texts], kind="stable")
    was_training = model.training
    old_flag = hf.config.output_hidden_states
    model.eval()
    hf.config.output_hidden_states = True
    device = next(model.parameters()).device
    bar = tqdm(total=len(texts), disable=not show_progress, desc="layer embeddings", unit=" sentences")
    try:
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                batch = [texts[i] for i in order[start:start + batch_size]]
                features = model.preprocess(batch, prompt=prompt)
                features = {k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in features.items()}
                result = model(features)
                hidden = result.get("all_layer_embeddings")
                if hidden is None:
                    raise RuntimeError("the model did not return hidden states (all_layer_embeddings)")
                mask = result["attention_mask"].unsqueeze(-1).to(hidden[0].dtype)
                counts = mask.sum(dim=1).clamp(min=1.0)
                for i in wanted:
                    pooled = (hidden[i] * mask).sum(dim=1) / counts
                    out[layer_key(i)].append(pooled.float().cpu().numpy())
                if include_final:
                    out[FINAL].append(result["sentence_embedding"].float().cpu().numpy())
                bar.update(len(batch))
    finally:
        bar.close()
        hf.config.output_hidden_states = old_flag
        model.train(was_training)
    inverse = np.argsort(order)
    return {k: np.concatenate(v, axis=0)[inverse].astype(np.float32, copy=False) for k, v in out.items()}
