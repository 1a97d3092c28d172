"""Publishing to the Hugging Face hub: a trained model folder or a folder of mined pairs (``luxembedder push``).

Online only: the hub is reached only when online access is enabled (``--online`` or
``LUXEMBEDDER_ONLINE=1``, and ``HF_HUB_OFFLINE`` unset); the token is huggingface_hub's own
(``HF_TOKEN`` or ``huggingface-cli login``). Everything goes up in one commit:

- a **model folder** (written by ``luxembedder train``) as a model repository: the weights and every other
  file, with the card re-rendered for the repository id (loading example) and, in ``luxembedder.json`` and
  ``train_config.yaml``, local paths reduced to file names;
- a **pairs folder** (``<run>/pairs`` or a mining run directory) as a dataset repository: the pair files and
  the dataset card (written first when the run's report is there).

Hidden files (``.*``), caches and checkpoints are never uploaded.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from luxembedder.errors import ConfigError, LuxEmbedderError
from luxembedder.mining.card import pair_files, write_dataset_card
from luxembedder.settings import Settings, get_settings
from luxembedder.training.card import add_results, model_card, read_card_results, strip_local_paths

logger = logging.getLogger(__name__)

RepoType = Literal["model", "dataset"]
_SKIP_DIRS = {"__pycache__", "cache", "checkpoints", "stages"}
_SANITISED_JSON = ("luxembedder.json", "eval_results.json")
_SANITISED_YAML = ("train_config.yaml",)


class HubError(LuxEmbedderError):
    """The hub cannot be used (offline) or refused the upload."""


@dataclass
class PushResult:
    """Where the folder went and what was uploaded."""

    repo_id: str
    repo_type: RepoType
    url: str
    files: list[str] = field(default_factory=list)


def detect_kind(path: str | Path) -> tuple[RepoType, Path]:
    """``("model", folder)`` for a sentence-transformers folder, ``("dataset", pairs_folder)`` for a pairs
    folder or a mining run directory; :class:`ConfigError` otherwise."""
    p = Path(path)
    if not p.is_dir():
        raise ConfigError(f"{p}: not a folder (push takes a model folder or a folder of mined pairs)")
    if (p / "modules.json").is_file() or (p / "config_sentence_transformers.json").is_file():
        return "model", p
    pairs = p / "pairs" if (p / "pairs").is_dir() else p
    if pair_files(pairs):
        return "dataset", pairs
    raise ConfigError(f"{p}: neither a sentence-transformers model folder (modules.json) nor a folder of "
                      "mined pairs (<pair>.jsonl / <pair>.parquet, or a mining run with pairs/)")


def _files(folder: Path) -> list[Path]:
    out = []
    for f in sorted(folder.rglob("*")):
        rel = f.relative_to(folder)
        if not f.is_file():
            continue
        if any(part.startswith(".") for part in rel.parts) or _SKIP_DIRS.intersection(rel.parts[:-1]):
            continue
        out.append(f)
    return out


def _model_payloads(folder: Path, repo_id: str) -> dict[str, bytes]:
    """Files whose uploaded content differs from the local one: the card (repository id in the loading
    example) and the metadata files without local paths."""
    out: dict[str, bytes] = {}
    meta_path = folder / "luxembedder.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else None
    if isinstance(meta, dict) and meta.get("kind") == "luxembedder-trained-model":
        out["README.md"] = model_card(meta, read_card_results(folder), repo_id=repo_id).encode("utf-8")
    for name in _SANITISED_JSON:
        if (folder / name).is_file():
            data = json.loads((folder / name).read_text(encoding="utf-8"))
            out[name] = (json.dumps(strip_local_paths(data), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    for name in _SANITISED_YAML:
        if (folder / name).is_file():
            data = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
            out[name] = yaml.safe_dump(strip_local_paths(data), sort_keys=False, allow_unicode=True).encode("utf-8")
    return out


def _dataset_payloads(folder: Path, repo_id: str) -> dict[str, bytes]:
    card = folder / "README.md"
    if not card.is_file() and (folder.parent / "report.json").is_file() and (folder.parent / "config.yaml").is_file():
        write_dataset_card(folder.parent)
    if not card.is_file():
        logger.warning("%s has no dataset card (README.md): pushing the pair files without one", folder)
        return {}
    return {"README.md": card.read_text(encoding="utf-8").replace('"REPO_ID"', json.dumps(repo_id)).encode("utf-8")}


def push(
    path: str | Path,
    repo_id: str,
    settings: Settings | None = None,
    private: bool = False,
    revision: str | None = None,
    commit_message: str | None = None,
    results: str | Path | None = None,
) -> PushResult:
    """Upload a model folder or a pairs folder to ``repo_id`` (created if missing) in one commit.

    ``results``: a ``results.json`` whose records of this model go into the card's ``model-index`` first
    (see :func:`luxembedder.training.card.add_results`). Raises :class:`HubError` offline or when the hub
    refuses the upload, :class:`ConfigError` for a folder that is neither kind.
    """
    settings = settings or get_settings()
    if not settings.online:
        raise HubError("push needs the Hugging Face hub, and online access is off: run on a machine with a "
                       "network with --online (or LUXEMBEDDER_ONLINE=1, and HF_HUB_OFFLINE unset)")
    if "/" not in repo_id or repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ConfigError(f"--repo-id {repo_id!r}: expected OWNER/NAME")
    kind, folder = detect_kind(path)
    if results is not None:
        if kind != "model":
            raise ConfigError("--results applies to a model folder, not to a pairs folder")

        add_results(folder, results, settings=settings)
    payloads = _model_payloads(folder, repo_id) if kind == "model" else _dataset_payloads(folder, repo_id)
    files = _files(folder)
    if kind == "dataset":
        files = [f for f in files if f.parent == folder and (f.suffix in (".jsonl", ".parquet") or f.name == "README.md")]

    import huggingface_hub

    sources: dict[str, str | bytes] = {f.relative_to(folder).as_posix(): str(f) for f in files}
    sources |= payloads  # rendered or sanitised content replaces (or adds, e.g. a card) the local file
    ops = [huggingface_hub.CommitOperationAdd(path_in_repo=name, path_or_fileobj=src)
           for name, src in sorted(sources.items())]
    names = [op.path_in_repo for op in ops]
    logger.info("pushing %d files of %s to %s (%s)", len(ops), folder.name, repo_id, kind)
    try:
        api = huggingface_hub.HfApi()
        api.create_repo(repo_id, repo_type=kind, private=private, exist_ok=True)
        info = api.create_commit(repo_id, operations=ops, repo_type=kind, revision=revision,
                                 commit_message=commit_message or f"Upload {folder.name} with luxembedder push")
    except Exception as exc:  # the hub's HTTP, network and auth errors: one line for the user
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HubError(f"push to {repo_id} failed: {first}") from exc
    url = getattr(info, "commit_url", None) or f"https://huggingface.co/{'datasets/' if kind == 'dataset' else ''}{repo_id}"
    return PushResult(repo_id, kind, str(url), names)

