"""The ONNX Runtime stand-in for a transformer network inside sentence-transformers (see
:mod:`luxembedder.models.backends`).

A ``torch.nn.Module`` subclass, so this module imports torch: :mod:`~luxembedder.models.backends` (light, imported
by the CLI) loads it only when an ONNX encoder is built.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from luxembedder.models.backends import require_onnxruntime


class OrtNetwork(torch.nn.Module):
    """Stands in for a transformer network inside sentence-transformers: same inputs, ONNX Runtime inside.

    Returns ``{"last_hidden_state": tensor}``, which is what sentence-transformers' ``Transformer`` module
    reads; ``config`` is the original network's config (sentence-transformers reads sizes from it).
    """

    def __init__(self, onnx_path: Path, config: Any, threads: int | None = None) -> None:
        super().__init__()
        ort = require_onnxruntime()
        opts = ort.SessionOptions()
        n = threads or int(os.environ.get("OMP_NUM_THREADS") or 0) or None
        if n:
            opts.intra_op_num_threads = n
            opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(onnx_path), sess_options=opts, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.config = config
        self.onnx_path = str(onnx_path)
        # sentence-transformers infers the model's device from its parameters: one CPU scalar
        self.register_buffer("_device_anchor", torch.zeros(1), persistent=False)

    def forward(self, input_ids: Any = None, attention_mask: Any = None, token_type_ids: Any = None,
                **_: Any) -> dict[str, Any]:
        given = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        if given["token_type_ids"] is None and "token_type_ids" in self.input_names:
            given["token_type_ids"] = torch.zeros_like(input_ids)
        feeds = {n: np.ascontiguousarray(given[n].cpu().numpy(), dtype=np.int64) for n in self.input_names}
        (hidden,) = self.session.run(["last_hidden_state"], feeds)
        return {"last_hidden_state": torch.from_numpy(hidden)}
