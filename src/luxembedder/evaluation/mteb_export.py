"""Export results in MTEB's own results layout, loadable with ``mteb.ResultCache(OUT).load_results()``.

Layout (as ``mteb.ResultCache.save_to_cache`` writes it)::

    OUT/results/<model name, / -> __>/<revision>/<TaskName>.json   TaskResult: dataset_revision, task_name,
                                                                  mteb_version, scores, evaluation_time
    OUT/results/<model name>/<revision>/model_meta.json             name, revision, framework, ...

A record goes where its task's metadata says (:attr:`TaskMetadata.mteb`, through ``Task.mteb_scores``). Every
record that has no MTEB slot (transfer from another language, first-N FLORES subsets, macro means, Tatoeba
Challenge sets, subsets MTEB does not have, tasks without an MTEB twin) is named in one warning and listed in
the returned :class:`MtebExport` — never dropped silently. The model name's ``@fingerprint`` part (see
:func:`luxembedder.models.registry.model_name`) becomes the revision.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luxembedder._version import __version__
from luxembedder.evaluation.results import ResultRecord
from luxembedder.evaluation.tasks import MtebSlot, task_class_for
from luxembedder.utils.io import atomic_write_json

logger = logging.getLogger(__name__)

MTEB_RESULTS_VERSION = "2.0.0"
"""The ``mteb_version`` written: the TaskResult format of mteb 2.x (a valid version, so mteb applies no
pre-1.11 / pre-1.12.48 conversions)."""

NO_REVISION = "no_revision_available"

# Metrics MTEB's public result files carry per task type (a record lacking one is reported, not padded).
EXPECTED_METRICS = {
    "Classification": ["accuracy", "f1", "f1_weighted", "precision", "precision_weighted", "recall",
                       "recall_weighted", "main_score"],
    "BitextMining": ["precision", "recall", "f1", "accuracy", "main_score"],
}


@dataclass
class MtebExport:
    """What an export wrote and what it could not place (``skipped``: one reason per record)."""

    files: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)


def model_identity(model: str) -> tuple[str, str]:
    """``(name, revision)``: ``folder@fingerprint`` -> (folder, fingerprint); other names -> (name, no revision)."""
    name, _, rev = model.partition("@")
    return (name, rev) if rev else (model, NO_REVISION)


def _model_meta(name: str, revision: str, langs: list[str]) -> dict[str, Any]:
    """The fields of mteb's ``ModelMeta`` (unknown ones None), as ``ResultCache`` reads them."""
    return {
        "name": name, "revision": revision, "release_date": None, "languages": langs or None,
        "loader": None, "n_parameters": None, "memory_usage_mb": None, "max_tokens": None, "embed_dim": None,
        "license": None, "open_weights": None, "public_training_code": None, "public_training_data": None,
        "framework": ["Sentence Transformers"], "reference": None, "similarity_fn_name": "cosine",
        "use_instructions": False, "training_datasets": None, "adapted_from": None, "superseded_by": None,
        "modalities": ["text"], "is_cross_encoder": None, "citation": None, "contacts": None,
        "exported_by": f"luxembedder {__version__}",
    }


def export_mteb(records: list[ResultRecord], out_dir: str | Path) -> MtebExport:
    """Write MTEB-format result files (and ``model_meta.json``) for every record that has an MTEB slot."""
    out = Path(out_dir)
    result = MtebExport()
    docs: dict[tuple[str, str, str], dict[str, Any]] = {}
    by_model: dict[tuple[str, str], list[ResultRecord]] = {}
    for r in records:
        cls = task_class_for(r.task)
        placed = cls.mteb_scores(r) if cls is not None else f"{r.task}: not a luxembedder task"
        if isinstance(placed, str):
            result.skipped.append(f"{r.model}: {placed}")
            continue
        name, revision = model_identity(r.model)
        for slot, entry in placed:
            if slot.subsets is not None and entry.get("hf_subset") not in slot.subsets:
                result.skipped.append(f"{r.model}: {r.task} / {r.subset}: MTEB's {slot.task_name} has no subset "
                                      f"{entry.get('hf_subset')}")
                continue
            missing = [k for k in EXPECTED_METRICS.get(slot.task_type, []) if entry.get(k) is None]
            if missing:
                result.incomplete.append(f"{r.model}: {r.task} / {r.subset}: lacks {', '.join(missing)} "
                                         "(re-evaluate with this version to get them)")
            entry = {k: v for k, v in entry.items() if v is not None}
            doc = docs.setdefault((name, revision, slot.task_name), {
                "dataset_revision": "local-sha256:" + (r.data[0].sha256 if r.data else "unknown"),
                "task_name": slot.task_name, "mteb_version": MTEB_RESULTS_VERSION, "scores": {},
                "evaluation_time": 0.0, "kg_co2_emissions": None})
            doc["scores"].setdefault(slot.split, []).append(entry)
            doc["evaluation_time"] += r.seconds
            by_model.setdefault((name, revision), []).append(r)
    for (name, revision, task_name), doc in docs.items():
        folder = out / "results" / name.replace("/", "__").replace(" ", "_") / revision
        result.files.append(atomic_write_json(folder / f"{task_name}.json", doc))
    for (name, revision), recs in by_model.items():
        folder = out / "results" / name.replace("/", "__").replace(" ", "_") / revision
        langs = sorted({lang for r in recs for _, e in _placed(r) for lang in e.get("languages", [])})
        result.files.append(atomic_write_json(folder / "model_meta.json", _model_meta(name, revision, langs)))
    if result.skipped:
        logger.warning("%d record(s) have no MTEB slot and were not exported:\n  %s", len(result.skipped),
                       "\n  ".join(result.skipped))
    if result.incomplete:
        logger.warning("%d exported record(s) lack metrics MTEB result files carry:\n  %s", len(result.incomplete),
                       "\n  ".join(result.incomplete))
    logger.info("wrote %d MTEB-format files under %s (read them with mteb.ResultCache(%r).load_results())",
                len(result.files), out / "results", str(out))
    return result


def _placed(record: ResultRecord) -> list[tuple[MtebSlot, dict[str, Any]]]:
    cls = task_class_for(record.task)
    placed = cls.mteb_scores(record) if cls is not None else []
    return [] if isinstance(placed, str) else placed
