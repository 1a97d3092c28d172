"""Inference backends for sentence-transformers models: ``torch`` (default), ``torch-bf16``, ``onnx``,
``onnx-int8``.

``torch-bf16`` is the torch network with bf16 weights and activations; it runs only where the hardware has
native bf16 (a CPU with AVX512-BF16 / AMX, or a CUDA device): elsewhere :func:`effective_backend` falls
back to ``torch`` with a warning, and every name (cache keys, results) carries the backend that really ran.

The ONNX backends keep the ``SentenceTransformer`` object (tokenizer, prompts, length-sorted batching,
pooling, normalisation all stay sentence-transformers' own) and replace only its transformer module's
network by an ONNX Runtime session, so an ONNX encoder is a drop-in :class:`~luxembedder.models.encoder.Encoder`.

Export: the transformer network is exported once per model with ``torch.onnx.export`` into
``<models home>/onnx/<content hash>/fp32/model.onnx``, with ONNX Runtime's transformer fusions; ``onnx-int8``
is a dynamically quantised export (``onnxruntime.quantization.quantize_dynamic``, int8 weights, per channel,
of the unfused graph) in ``…/int8/model.onnx``. Each
folder is written atomically (temp folder, verified, renamed) and keyed by the SHA-256 of the model's
weight and config files, so a fine-tuned model in the same folder gets a new export and two processes
never see a half-written one.

Why not sentence-transformers' own ``backend="onnx"``: it goes through ``optimum``, whose only ONNX Runtime
release (optimum-onnx 0.1.0) does not import with transformers 5 (``is_offline_mode``,
``get_parameter_dtype`` were removed). This module needs only ``onnx`` and ``onnxruntime`` (the ``onnx``
extra) and produces the same kind of files (``model.onnx``; int8: dynamic quantisation with int8 weights).
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import Any, Literal

from luxembedder.errors import ConfigError, ModelNotAvailableError
from luxembedder.settings import Settings, get_settings
from luxembedder.utils.io import atomic_directory, atomic_write_json, sha256_files
from luxembedder.utils.provenance import cpu_supports_bf16, now_iso

logger = logging.getLogger(__name__)

Backend = Literal["torch", "torch-bf16", "onnx", "onnx-int8"]
BACKENDS: tuple[str, ...] = ("torch", "torch-bf16", "onnx", "onnx-int8")
_SUFFIX = {"torch": "", "torch-bf16": "+bf16", "onnx": "+onnx", "onnx-int8": "+onnx-int8"}
EXPORT_VERSION = 2  # bump when the export recipe changes (part of the key)
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def check_backend(backend: str) -> str:
    """The backend name, or a :class:`ConfigError` listing the valid ones."""
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend '{backend}' (choose one of: {', '.join(BACKENDS)})")
    return backend


def backend_suffix(backend: str) -> str:
    """Suffix appended to an encoder's name (cache keys, results): '' for torch, '+bf16', '+onnx', '+onnx-int8'.

    Pass the backend that runs (:func:`effective_backend`), not the one asked for.
    """
    return _SUFFIX[check_backend(backend)]


@functools.cache
def _warn_no_native_bf16() -> None:
    logger.warning("bf16 needs a CPU with native bf16 (AVX512-BF16 or AMX) and this one has none: using torch "
                   "fp32 (the fast CPU encoder there is --backend onnx-int8)")


def effective_backend(backend: str, bf16: bool = False, device: str | None = None) -> str:
    """The backend that will run for a request: ``bf16=True`` (the ``--bf16`` flag) means ``torch-bf16``;
    ``torch-bf16`` on a CPU without native bf16 becomes ``torch`` (warned once).

    >>> effective_backend("onnx-int8")
    'onnx-int8'
    >>> effective_backend("torch", bf16=True, device="cuda")
    'torch-bf16'
    """
    check_backend(backend)
    if bf16 and backend == "torch":
        backend = "torch-bf16"
    elif bf16 and backend != "torch-bf16":
        logger.warning("bf16 is a torch option; ignored with backend %s", backend)
    if backend == "torch-bf16" and device in (None, "cpu") and not cpu_supports_bf16():
        _warn_no_native_bf16()
        return "torch"
    return backend


def require_onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise ModelNotAvailableError(
            "the ONNX backends need onnx and onnxruntime: pip install 'luxembedder[onnx]'"
        ) from None
    return onnxruntime


def model_content_hash(model_dir: str | Path) -> str:
    """SHA-256 over the names and contents of a model folder's weight, config and tokenizer files."""
    root = Path(model_dir)
    files = sorted(
        p for p in root.rglob("*")
        if p.is_file() and (p.suffix in (".safetensors", ".bin", ".json", ".model", ".txt"))
        and "onnx" not in p.relative_to(root).parts
    )
    if not any(p.suffix in (".safetensors", ".bin") for p in files):
        raise ModelNotAvailableError(f"{root}: no weight files (*.safetensors / *.bin) to export")
    return sha256_files(files, root=root, salt=f"luxembedder-onnx-v{EXPORT_VERSION}")


def export_dir(model_dir: str | Path, backend: str, settings: Settings | None = None) -> Path:
    """Where the export of ``model_dir`` for ``backend`` lives (whether or not it exists yet)."""
    settings = settings or get_settings()
    kind = {"onnx": "fp32", "onnx-int8": "int8"}.get(check_backend(backend))
    if kind is None:
        raise ConfigError(f"the {backend} backend has no export")
    return settings.models_home / "onnx" / model_content_hash(model_dir)[:24] / kind


RECIPES = {"onnx": "torch.onnx.export opset 17, eager attention, ORT transformer fusions",
           "onnx-int8": "dynamic int8 quantisation (int8 weights, per channel) of the unfused export"}
"""What each export is; an export made by another recipe is made again."""


def _verify(folder: Path, backend: str) -> bool:
    meta = folder / "export.json"
    if not (folder / "model.onnx").is_file() or not meta.is_file():
        return False
    try:
        return json.loads(meta.read_text(encoding="utf-8")).get("recipe") == RECIPES[backend]
    except json.JSONDecodeError:
        return False


def _export_fp32(model: Any, tmp: Path, fuse: bool = True) -> list[str]:
    """``torch.onnx.export`` of the transformer network of a loaded SentenceTransformer into ``tmp``."""
    import warnings

    import torch

    hf = model[0].model if hasattr(model[0], "model") else model[0].auto_model
    try:  # an eager attention graph traces with dynamic shapes; SDPA's mask handling may not
        hf.set_attn_implementation("eager")
    except (AttributeError, ValueError):  # older transformers: an attribute of the config
        hf.config._attn_implementation = "eager"
    import inspect

    params = set(inspect.signature(hf.forward).parameters)
    names = [n for n in _INPUTS if n in params]

    class _Net(torch.nn.Module):
        def __init__(self, net: Any) -> None:
            super().__init__()
            self.net = net

        def forward(self, *args: Any) -> Any:
            return self.net(**dict(zip(names, args, strict=True)), return_dict=True).last_hidden_state

    dummy = tuple(torch.ones(2, 8, dtype=torch.long) if n != "token_type_ids" else torch.zeros(2, 8, dtype=torch.long)
                  for n in names)
    axes = {n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Net(hf.eval().float()), dummy, str(tmp / "model.onnx"), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17,
                          dynamo=False)
    if fuse:
        _fuse(tmp / "model.onnx", hf.config)
    return names


def _fuse(path: Path, config: Any) -> bool:
    """ONNX Runtime's transformer fusions (attention, layer norm, GELU; what optimum's O2 applies) in
    place, for BERT-family encoders; the plain export is kept when the fusion does not apply."""
    if getattr(config, "model_type", "") not in ("bert", "xlm-roberta", "roberta", "distilbert", "mpnet"):
        return False
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        fused = optimize_model(str(path), model_type="bert", num_heads=int(config.num_attention_heads),
                               hidden_size=int(config.hidden_size))
        fused.save_model_to_file(str(path))
    except Exception as exc:
        logger.warning("ONNX transformer fusion skipped (%s: %s)", type(exc).__name__, exc)
        return False
    return True


def ensure_export(model_dir: str | Path, backend: str, settings: Settings | None = None) -> Path:
    """The folder holding ``model.onnx`` for ``backend``, exporting it first if needed (atomic, once)."""
    require_onnxruntime()
    settings = settings or get_settings()
    target = export_dir(model_dir, backend, settings)
    if _verify(target, backend):
        return target
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True, trust_remote_code=False)
    meta = {"backend": backend, "recipe": RECIPES[backend], "source": str(Path(model_dir).resolve()),
            "content_sha256": model_content_hash(model_dir), "opset": 17, "created": now_iso(),
            "export_version": EXPORT_VERSION}
    logger.info("exporting %s to ONNX (%s) into %s (once per model)", model_dir, backend, target)
    with atomic_directory(target) as tmp:
        if backend == "onnx":
            meta["inputs"] = _export_fp32(model, tmp)
        else:
            # int8 from the plain graph: ONNX Runtime's quantised fused attention (QAttention) was ~3x slower
            # than the quantised plain graph on this CPU (benchmarks/encode_backends.py)
            import onnx
            from onnxruntime.quantization import QuantType, quantize_dynamic

            plain = tmp / "plain"
            plain.mkdir()
            meta["inputs"] = _export_fp32(model, plain, fuse=False)
            quantize_dynamic(str(plain / "model.onnx"), str(tmp / "model.onnx"), weight_type=QuantType.QInt8,
                             per_channel=True, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
            import shutil

            shutil.rmtree(plain)
        atomic_write_json(tmp / "export.json", meta)
    return target


def load_onnx_sentence_transformer(model_dir: str | Path, backend: str, settings: Settings | None = None,
                                   threads: int | None = None) -> Any:
    """A ``SentenceTransformer`` from a local folder whose network runs in ONNX Runtime (see module doc)."""
    from sentence_transformers import SentenceTransformer

    from luxembedder.models.onnx_network import OrtNetwork  # a torch.nn.Module: importing it imports torch

    if not check_backend(backend).startswith("onnx"):
        raise ConfigError("load_onnx_sentence_transformer needs backend onnx or onnx-int8")
    folder = ensure_export(model_dir, backend, settings)
    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True, trust_remote_code=False)
    first = model[0]
    attr = "model" if hasattr(first, "model") else "auto_model"
    net = getattr(first, attr)
    setattr(first, attr, OrtNetwork(folder / "model.onnx", net.config, threads=threads))
    del net
    return model.eval()
