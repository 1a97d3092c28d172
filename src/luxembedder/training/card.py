"""Model cards: the ``README.md`` of a trained model folder, with Hugging Face metadata in YAML front matter.

The card is rendered from the run's ``luxembedder.json`` (written by the trainer) and, once the model has
been evaluated, from ``eval_results.json`` (written by :func:`add_results` from ``ResultRecord`` objects or
a ``results.json``). Front matter: ``base_model``, ``language``, ``license`` (from the base model and the
training data), ``datasets`` (with the sha256 of every training file under ``training_data``),
``pipeline_tag: sentence-similarity``, ``library_name``, ``tags`` and a ``model-index`` with the evaluation
results and their protocols. The body says how to load the model, what it was trained on (with licences
and the attribution CC BY data requires), the training configuration and the dev results.

No local path is ever written: files appear by name only (see :func:`strip_local_paths`, also used by
``luxembedder push`` for the folder's metadata files).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from luxembedder.errors import ConfigError
from luxembedder.evaluation.results import load_results, resolve_model_name
from luxembedder.models.registry import REGISTRY, model_name
from luxembedder.text.langcodes import to_iso639_1
from luxembedder.utils.io import atomic_write_json, atomic_write_text
from luxembedder.utils.licenses import PERMISSIVE_LICENSES, hf_license_id

logger = logging.getLogger(__name__)

CARD_RESULTS_FILE = "eval_results.json"
CARD_RESULTS_SCHEMA = "luxembedder.card-results/1"

KNOWN_BASE_LICENSES: dict[str, str] = {
    "intfloat/multilingual-e5-small": "mit",
    "intfloat/multilingual-e5-base": "mit",
    "intfloat/multilingual-e5-large": "mit",
    "sentence-transformers/LaBSE": "apache-2.0",
    "sentence-transformers/all-MiniLM-L6-v2": "apache-2.0",
    "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2": "apache-2.0",
    "sentence-transformers/paraphrase-multilingual-mpnet-base-v2": "apache-2.0",
}
"""Licences of the base models the registry knows (as stated on their Hugging Face model pages)."""



_PATH_KEYS = frozenset({"path", "output_dir", "cache_dir", "exclude_files", "leakage_files",
                        "extra_eval_files", "articles", "gold", "guide_model", "model", "base_model_ref",
                        "runs", "finetuned_model", "mining_dir"})

_HIDDEN_RUN_KEYS = ("best_checkpoint",)


# ------------------------------------------------------------------------------------------ helpers


def _looks_like_path(value: str) -> bool:
    return value.startswith(("/", "~", "./", "../")) or bool(re.match(r"^[A-Za-z]:[\\/]", value))


def strip_local_paths(obj: Any, key: str | None = None) -> Any:
    """``obj`` with local paths reduced to file names: absolute or ``./``-relative strings anywhere, and
    any string with a ``/`` under a path-valued key (``path``, ``output_dir``, ``exclude_files``...)."""
    if isinstance(obj, dict):
        return {k: strip_local_paths(v, str(k)) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [strip_local_paths(v, key) for v in obj]
    if isinstance(obj, Path):
        return obj.name
    if isinstance(obj, str) and obj:
        if _looks_like_path(obj) or (key in _PATH_KEYS and ("/" in obj or "\\" in obj) and not _is_hub_id(obj)):
            return Path(obj.replace("\\", "/").rstrip("/")).name or obj
    return obj


def _is_hub_id(value: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9][\w.\-]*/[\w.\-]+", value)) and not Path(value).exists()


def combined_license(base: str | None, data: Iterable[str | None]) -> tuple[str, str | None]:
    """The model's licence id and, for ``other``, a ``license_name``.

    The base model's licence, when every training-data licence only asks for attribution (attribution is
    then given in the card); ``other`` naming every licence when some data licence adds conditions
    (share-alike, non-commercial, unknown ids); ``unknown`` when the base licence is not known.
    """
    base_id = hf_license_id(base)
    data_ids = [hf_license_id(d) or "other" for d in data if d]
    if base_id is None:
        return "unknown", None
    if all(d in PERMISSIVE_LICENSES for d in data_ids):
        return base_id, None
    names = list(dict.fromkeys([base_id, *data_ids]))
    return "other", "-and-".join(names)


def base_model_info(ref: str | None, name: str | None = None) -> dict[str, Any]:
    """``{hub_id, license, description}`` of a base model reference (registry name, hub id or folder)."""
    info: dict[str, Any] = {"hub_id": None, "license": None, "description": None}
    if not ref:
        return info
    spec = REGISTRY.get(ref) or REGISTRY.get(name or "")
    if spec is not None:
        info["hub_id"] = spec.hub_id
        info["description"] = spec.description
    elif Path(ref).expanduser().is_dir():
        front = read_front_matter(Path(ref).expanduser() / "README.md")
        info["license"] = front.get("license") if front.get("license") not in ("other", "unknown") else None
        info["parent"] = front.get("base_model")
    elif _is_hub_id(ref):
        info["hub_id"] = ref
    if info["hub_id"] and not info["license"]:
        info["license"] = KNOWN_BASE_LICENSES.get(info["hub_id"])
    return info


def read_front_matter(readme: Path) -> dict[str, Any]:
    """The YAML front matter of a Markdown file (``{}`` when the file or the block is absent or broken)."""
    if not readme.is_file():
        return {}
    text = readme.read_text(encoding="utf-8")
    m = re.match(r"^---\n(.*?)\n---\n", text, flags=re.S)
    if not m:
        return {}
    try:
        data = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def source_license(record: dict[str, Any]) -> tuple[str | None, str | None]:
    """Licence and attribution of one training-data source: the record's own keys, else the dataset card
    beside the file (``README.md`` of a mined pairs folder)."""
    lic, attr = record.get("license"), record.get("attribution")
    if lic is None and record.get("path"):
        front = read_front_matter(Path(str(record["path"])).parent / "README.md")
        lic = front.get("license") if front.get("license") not in (None, "unknown") else None
        attr = attr or (front.get("mining") or {}).get("source", {}).get("attribution")
    return lic, attr


def _languages(meta: dict[str, Any]) -> list[str]:
    """Language codes of the training pairs (``lb-en``, ``ntrex:lb-de``...); placeholders such as LETZ's
    ``lb-xx`` or ``lb-wot`` are not languages and are left out."""
    out: list[str] = []
    names = [*meta.get("pair_counts", {}), *(s.get("pair", "") for s in meta.get("data", []))]
    for name in names:
        pair = str(name).rsplit(":", 1)[-1].split("/", 1)[0]
        for code in pair.split("-"):
            try:
                lang = to_iso639_1(code) if code and code != "xx" else None
            except ConfigError:
                lang = None
            if lang and lang not in out:
                out.append(lang)
    return out


def file_label(path: Any) -> str:
    """How a training source appears in the card: a file's name, or the record's own label (``LETZ-WoT/x``)
    when it is not a path on this machine."""
    p = str(path)
    return Path(p).name if _looks_like_path(p) or Path(p).expanduser().exists() else p


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


# -------------------------------------------------------------------------------------- evaluation


_DATASETS = {  # subset prefix or task -> (display name, hub dataset id)
    "sib200": ("SIB-200", "Davlan/sib200"),
    "tatoeba": ("Tatoeba Translation Challenge", "Helsinki-NLP/tatoeba_mt"),
    "tatoeba-v1": ("Tatoeba (LASER v1)", "mteb/tatoeba-bitext-mining"),
    "flores": ("FLORES-200", "facebook/flores"),
    "ntrex": ("NTREX-128", "mteb/NTREX"),
    "paralux": ("ParaLux", "fredxlpy/ParaLux"),
}


def task_card_info(task: str, subset: str) -> dict[str, str]:
    """Task type (mteb's names), task name, dataset name and dataset id of a result record."""
    kind = task.split(":", 1)[0]
    if task.startswith("sib200"):
        ttype, (dname, did) = "Classification", _DATASETS["sib200"]
    elif task.startswith("paralux"):
        ttype, (dname, did) = "PairClassification", _DATASETS["paralux"]
    elif task.startswith("bitext-"):
        ttype = "BitextMining"
        dname, did = _DATASETS.get(subset.split(":", 1)[0], (subset.split(":", 1)[0], subset.split(":", 1)[0]))
    else:  # user-file tasks: kind:FILE@SHA8[...]
        ttype = {"bitext": "BitextMining", "triplets": "PairClassification",
                 "classification": "Classification"}.get(kind, kind)
        files = [p.split("@", 1)[0] for p in task.split(":")[1:] if "@" in p]
        dname = did = ", ".join(files) or task
    return {"type": ttype, "name": task, "dataset_name": dname, "dataset_type": did}


def _record_dict(r: Any) -> dict[str, Any]:
    d = r.model_dump(mode="json") if hasattr(r, "model_dump") else dict(r)
    d.pop("items", None)
    d.pop("versions", None)
    d["data"] = [{"file": Path(str(f.get("path", ""))).name, "sha256": f.get("sha256")} for f in d.get("data", [])]
    d["metrics"] = {k: v for k, v in (d.get("metrics") or {}).items() if isinstance(v, int | float | str)}
    return d


def model_index(name: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``model-index`` block: one result per record, scores in percent, the protocol as the metric's
    ``config`` and its name, the 95% interval and the item count as ``args``."""
    results = []
    for r in records:
        info = task_card_info(r["task"], r.get("subset", "default"))
        metric: dict[str, Any] = {
            "type": r.get("main_metric", "accuracy"),
            "value": round(100 * float(r["main_score"]), 1),
            "name": f"{r.get('main_metric', 'accuracy')} (%) [{r['protocol']}]",
            "config": r["protocol"],
            "args": {"n": r.get("n"), **({"ci95": [round(100 * x, 1) for x in r["ci95"]]} if r.get("ci95") else {})},
        }
        results.append({
            "task": {"type": info["type"], "name": info["name"]},
            "dataset": {"name": info["dataset_name"], "type": info["dataset_type"], "config": r.get("subset")},
            "metrics": [metric],
        })
    return [{"name": name, "results": results}] if results else []


# ------------------------------------------------------------------------------------------ the card


def card_metadata(meta: dict[str, Any], results: dict[str, Any] | None = None, name: str | None = None,
                  base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The YAML front matter of the model card as a dict."""
    cfg = meta.get("config", {})
    name = name or Path(str(cfg.get("output_dir") or "model")).name
    base = base or base_model_info(meta.get("base_model_ref"), meta.get("base_model"))
    sources = meta.get("data", [])
    licenses = [source_license(s) for s in sources]
    lic, lic_name = combined_license(base["license"], [x[0] for x in licenses])
    fm: dict[str, Any] = {}
    if base["hub_id"]:
        fm["base_model"] = base["hub_id"]
        fm["base_model_relation"] = "finetune"
    fm["language"] = _languages(meta)
    fm["license"] = lic
    if lic_name:
        fm["license_name"] = lic_name
    fm["library_name"] = "sentence-transformers"
    fm["pipeline_tag"] = "sentence-similarity"
    fm["tags"] = ["sentence-transformers", "sentence-similarity", "feature-extraction", "luxembourgish",
                  "cross-lingual", "luxembedder", f"loss:{meta.get('loss', cfg.get('loss'))}"]
    fm["datasets"] = list(dict.fromkeys(s.get("dataset") or file_label(s["path"]) for s in sources))
    fm["training_data"] = [
        {"file": file_label(s["path"]), **({"source": s["source"]} if s.get("source") else {}),
         "pair": s.get("pair"), "sha256": s.get("sha256"),
         "rows": s.get("rows_kept"), **({"license": lc} if lc else {}), **({"attribution": at} if at else {})}
        for s, (lc, at) in zip(sources, licenses, strict=True)]
    if results and results.get("records"):
        own = [r for r in results["records"] if r["model"] == results.get("model")]
        fm["model-index"] = model_index(results.get("repo_id") or name, own)
    return fm


def model_card(meta: dict[str, Any], results: dict[str, Any] | None = None, repo_id: str | None = None) -> str:
    """A Markdown model card from the run's metadata (``luxembedder.json``) and, optionally, evaluation
    results (the content of ``eval_results.json``). ``repo_id`` is used in the loading example."""
    base = base_model_info(meta.get("base_model_ref"), meta.get("base_model"))
    meta = strip_local_paths({k: v for k, v in meta.items() if k != "data"}) | {"data": meta.get("data", [])}
    cfg = meta.get("config", {})
    name = Path(str(cfg.get("output_dir") or "model")).name
    res = dict(results or {}) | ({"repo_id": repo_id} if repo_id else {})
    fm = card_metadata(meta, res, name, base)
    load_ref = repo_id or name
    base_text = (f"[{base['hub_id']}](https://huggingface.co/{base['hub_id']})" if base["hub_id"]
                 else f"`{meta.get('base_model')}`")
    if meta.get("base_model") and base["hub_id"] and meta["base_model"] != base["hub_id"]:
        base_text += f" (luxembedder's `{meta['base_model']}`)"
    pairs = ", ".join(meta.get("pair_counts", {})) or "translation pairs"
    lines = [
        "---", yaml.safe_dump(fm, sort_keys=False, allow_unicode=True, width=100).rstrip(), "---", "",
        f"# {name}", "",
        f"A sentence embedder fine-tuned from {base_text} on {pairs} translation pairs with "
        f"`luxembedder train` ({meta.get('created', '')}): contrastive loss `{meta.get('loss', cfg.get('loss'))}`, "
        "so that a Luxembourgish sentence and its translation get nearby vectors.", "",
        "## How to load", "",
        "```python",
        "from sentence_transformers import SentenceTransformer",
        "",
        f'model = SentenceTransformer("{load_ref}")',
        'embeddings = model.encode(["Moien, wéi geet et?", "Hello, how are you?"], normalize_embeddings=True)',
        "```", "",
        f"or with luxembedder (`from luxembedder import load_encoder; load_encoder(\"{name}\")` for the "
        "downloaded folder). " + (f"The prompt `{meta['prompt']!r}` (kept from the base model) is applied to "
                                  "every text by both." if meta.get("prompt") else "No prompt is applied."),
        "",
    ]
    lines += _results_section(res, meta)
    lines += _data_section(meta, fm)
    lines += _training_section(meta, cfg)
    lines += ["## Library versions", "", "| library | version |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in meta.get("versions", {}).items()]
    lines += ["", "The resolved configuration is in `train_config.yaml`, the loss curve in `training_log.json`, "
              "the run's provenance in `luxembedder.json`.", ""]
    return "\n".join(lines)


def _results_section(res: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    records = res.get("records") or []
    own = [r for r in records if r["model"] == res.get("model")]
    if not own:
        return []
    base = {(r["task"], r["subset"], r["protocol"]): r for r in records if r["model"] == res.get("baseline")}
    has_base = any((r["task"], r["subset"], r["protocol"]) in base for r in own)
    head = "| task | subset | protocol | n | this model |" + (f" {res['baseline']} (Δ) |" if has_base else "")
    out = ["## Evaluation", "",
           "Scores in percent with 95% bootstrap intervals"
           + (f"; Δ is the difference to the base model {res['baseline']}" if has_base else "")
           + ". Each protocol is named beside its score (also in the `model-index` metadata).", "",
           head, "|---|---|---|---|---|" + ("---|" if has_base else "")]
    for r in own:
        ci = f" [{_pct(r['ci95'][0])}–{_pct(r['ci95'][1])}]" if r.get("ci95") else ""
        row = f"| {r['task']} | {r['subset']} | {r['protocol']} | {r['n']} | {_pct(r['main_score'])}{ci} |"
        b = base.get((r["task"], r["subset"], r["protocol"]))
        if has_base:
            row += (f" {_pct(b['main_score'])} ({100 * (r['main_score'] - b['main_score']):+.1f}) |" if b else " – |")
        out.append(row)
    files = {f["file"]: f["sha256"] for r in own for f in r.get("data", []) if f.get("file")}
    if files:
        out += ["", "Evaluation files (sha256): " + ", ".join(f"`{k}` (`{v[:16]}…`)" for k, v in files.items())]
    return [*out, ""]


def _data_section(meta: dict[str, Any], fm: dict[str, Any]) -> list[str]:
    out = ["## Training data", "",
           "| file | pair | sha256 | licence | rows read | kept | below min_score | duplicates | evaluation-set leakage |",
           "|---|---|---|---|---|---|---|---|---|"]
    attributions = []
    for s, td in zip(meta.get("data", []), fm["training_data"], strict=True):
        out.append(f"| `{td['file']}` | {s.get('pair')} | `{str(s.get('sha256'))[:16]}…` | "
                   f"{td.get('license', 'not recorded')} | {s.get('rows_read')} | {s.get('rows_kept')} | "
                   f"{s.get('dropped_low_score')} | {s.get('dropped_duplicate')} | {s.get('dropped_leakage')} |")
        if td.get("attribution") or td.get("license"):
            attributions.append((td["file"], td.get("license"), td.get("attribution")))
    out += ["", "| pair set | train pairs | dev pairs (held out, seeded) |", "|---|---|---|"]
    out += [f"| {n} | {c['train']} | {c['dev']} |" for n, c in meta.get("pair_counts", {}).items()]
    if meta.get("hard_negatives"):
        out += ["", "Rule-based hard negatives (minimal meaning-changing edits): "
                + json.dumps(meta["hard_negatives"], ensure_ascii=False)]
    out += ["", "## Licence and attribution", ""]
    lic = fm["license"]
    out.append(f"Model licence: `{fm.get('license_name') or lic}`"
               + (" (the base model's licence; every training-data licence only requires attribution)."
                  if lic not in ("other", "unknown") else
                  " (the base model's licence is not known)." if lic == "unknown" else
                  ": some training data carries conditions beyond attribution; the terms of every licence "
                  "listed here apply."))
    for file, lic_s, attr in attributions:
        lic_id = hf_license_id(lic_s) or ""
        note = ("" if not lic_id.startswith("cc-by") else
                " (CC BY: credit the source when you use or share this model"
                + ("; adaptations under the same licence)" if "-sa" in lic_id else ")"))
        out.append(f"- `{file}`: {lic_s or 'licence not recorded'}" + (f". Attribution: {attr}" if attr else "")
                   + note)
    unrecorded = [td["file"] for td in fm["training_data"] if not td.get("license")]
    if unrecorded:
        out.append(f"- no licence recorded for {', '.join(f'`{f}`' for f in unrecorded)}: check the terms of "
                   "the texts they were mined from before sharing this model.")
    return [*out, ""]


def _training_section(meta: dict[str, Any], cfg: dict[str, Any]) -> list[str]:
    keys = ("loss", "scale", "batch_size", "epochs", "max_steps", "lr", "warmup_ratio", "weight_decay", "seed",
            "multi_dataset_sampler", "no_duplicates", "freeze_embeddings", "freeze_layers", "length_grouping",
            "bf16", "gradient_checkpointing", "max_seq_length", "dev_fraction", "dev_size", "dev_seed")
    out = ["## Training", "", "| hyper-parameter | value |", "|---|---|"]
    out += [f"| {k} | {cfg[k]} |" for k in keys if k in cfg]
    tr = dict(meta.get("metrics", {}).get("train", {}))
    best = tr.pop("best_checkpoint", None)
    for k in _HIDDEN_RUN_KEYS:
        tr.pop(k, None)
    if best:
        m = re.search(r"checkpoint-(\d+)$", str(best).rstrip("/"))
        if m:
            tr["best_checkpoint_step"] = int(m.group(1))
    out += ["", "| run | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in tr.items()]
    out += ["", "## Dev results (bitext retrieval on held-out pairs, top-1, both directions)", ""]
    dev = meta.get("metrics", {}).get("dev") or {}
    out += (["| metric | value |", "|---|---|"] + [f"| {k} | {v:.4f} |" for k, v in dev.items()]) if dev \
        else ["(no dev split)"]
    return [*out, ""]


# --------------------------------------------------------------------------------------- folder API


def read_meta(model_dir: str | Path) -> dict[str, Any]:
    """The ``luxembedder.json`` of a trained model folder (ConfigError when it is not one)."""
    path = Path(model_dir) / "luxembedder.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        meta = None
    if not isinstance(meta, dict) or meta.get("kind") != "luxembedder-trained-model":
        raise ConfigError(f"{model_dir}: not a model folder written by `luxembedder train` (no luxembedder.json)")
    return meta


def read_card_results(model_dir: str | Path) -> dict[str, Any] | None:
    path = Path(model_dir) / CARD_RESULTS_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def write_model_card(model_dir: str | Path, meta: dict[str, Any] | None = None) -> Path:
    """(Re)write ``README.md`` of a trained model folder from its metadata and stored evaluation results."""
    model_dir = Path(model_dir)
    meta = meta if meta is not None else read_meta(model_dir)
    return atomic_write_text(model_dir / "README.md", model_card(meta, read_card_results(model_dir)))


def add_results(
    model_dir: str | Path,
    results: str | Path | Iterable[Any],
    model: str | None = None,
    baseline: str | None = None,
    settings: Any = None,
) -> Path:
    """Store the model's evaluation results in the folder (``eval_results.json``: scores, protocols, data
    file names and sha256, no paths, no per-item scores) and rewrite its card with a ``model-index``.

    ``results``: a ``results.json`` path or ``ResultRecord`` objects. ``model``: this model's name in the
    records (default: the folder's ``model_name``, else the only name whose part before ``@`` is the
    folder name). ``baseline``: the model to show differences to (default: the base model, when scored).
    """
    model_dir = Path(model_dir)
    meta = read_meta(model_dir)
    records = load_results(results) if isinstance(results, str | Path) else list(results)
    if model is None:
        names = {r.model for r in records}
        try:
            exact = model_name(str(model_dir), settings)
        except Exception:  # a folder that does not load as a model: fall back to the folder name
            exact = None
        model = exact if exact in names else resolve_model_name(records, model_dir.name, "results")
    own = [r for r in records if r.model == model]
    if not own:
        raise ConfigError(f"no results for model {model!r}")
    baseline = baseline or meta.get("base_model")
    keep = [_record_dict(r) for r in records if r.model in (model, baseline)]
    payload = {"schema": CARD_RESULTS_SCHEMA, "model": model, "baseline": baseline, "records": keep}
    atomic_write_json(model_dir / CARD_RESULTS_FILE, payload)
    logger.info("model card of %s: %d results of %s", model_dir.name, len(own), model)
    return write_model_card(model_dir, meta)
