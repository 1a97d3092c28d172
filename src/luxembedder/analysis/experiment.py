"""The paper's controlled experiment: does a low-resource language (lb) in the training pairs help *other*
low-resource languages more than high-resource pairs alone?

Design (:class:`ExperimentConfig`, ``configs/experiment.yaml``):

- **Data.** Per seed, ``n_pairs`` NTREX-128 line ids are drawn document by document (whole documents in a
  seeded random order, the last one cut), and the *same ids* make every condition's training set:
  ``lb-en`` (ltz, eng), ``lb-fr`` (ltz, fra), ``en-fr`` (eng, fra). So the conditions differ only in the
  language pair, not in content or size. ``lb-en+lb-fr`` (``combined: split``, the default) uses the same ids
  too, half of them (seeded) as lb-en and the other half as lb-fr: the same number of pairs and optimizer
  steps as the other conditions, every pair contains lb as in lb-en/lb-fr, and each source sentence is seen
  once. ``combined: union`` uses both pairs of every id instead (twice the pairs and steps, so it confounds
  "more data" with "two pivots"; offered for users, not the default).
- **Training.** One model per condition and seed, from the same base with the same hyper-parameters
  (``train``: any :class:`~luxembedder.training.config.TrainConfig` key), via
  :func:`luxembedder.training.train`; the seed sets both the data draw and the trainer seed.
- **Leakage rule (enforced).** Training texts are compared (NFKC, case-folded, whitespace-normalised) with
  every FLORES-200 devtest sentence and every SIB-200 text (all splits) of the training languages; pairs
  with a match are dropped and counted (``leakage: fail`` raises instead). NTREX is never an evaluation set
  here: the evaluation sets are FLORES-200 devtest and Tatoeba v1 only (checked on load).
- **Evaluation**, per model (and the base model): linear CKA of each language's final sentence embeddings
  with English and with French on FLORES devtest; FLORES bitext top-1 cosine retrieval xx↔eng (mean of
  both directions) for the low-resource set; Tatoeba v1 top-1 retrieval xx↔eng for gsw, fry, nds, fao, hsb,
  dsb, swg, ast. Per-sentence correctness and the FLORES embeddings are cached per model.
- **Statistics.** Per language and metric: the gain over the base model for every condition, mean and
  sample standard deviation across seeds; and a paired test of each "with lb" condition against the
  control (``en-fr``): a two-level bootstrap over seeds and sentences. Each resample draws seeds with
  replacement and sentences with replacement (the same sentence draw for every drawn seed, since the
  evaluation sentences are shared), and recomputes the mean difference (condition − control; seeds are
  paired because they share the training ids). For CKA, which is not a per-sentence mean, sentences are
  resampled in contiguous blocks (``cka_blocks``) and CKA is recomputed from per-block cross products, so
  the bootstrap costs O(blocks·d²) per resample. The two-sided p-value is twice the share of resamples on
  the other side of zero; the interval is the percentile interval. With 3 seeds the seed level of the
  bootstrap is coarse: read the per-seed values in ``experiment.json`` too.
- **Resumable.** Each (condition, seed) lives in ``<out>/runs/<condition>/seed<k>/`` with its training
  ids, pair files, model (deleted after evaluation unless ``keep_models``) and ``eval.json`` +
  ``eval.npz``; a re-run skips every finished model.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, field_validator, model_validator

from luxembedder.analysis.alignment import check_flores_languages, default_cka_languages, load_flores
from luxembedder.analysis.cka import linear_cka
from luxembedder.config import BaseConfig
from luxembedder.datasets.benchmarks import (
    data_provenance,
    flores_path,
    read_flores,
    read_sib200,
    sib200_path,
    tatoeba_v1_paths,
)
from luxembedder.datasets.ntrex import read_ntrex
from luxembedder.errors import ConfigError, DataError
from luxembedder.evaluation.metrics import retrieval_correct
from luxembedder.evaluation.runner import evaluate as run_tasks
from luxembedder.evaluation.stats import (
    percentile_interval,
    resampling_p,
    two_level_bootstrap,
)
from luxembedder.evaluation.tasks import BitextLrl, BitextLrlConfig, FloresBitext, FloresBitextConfig, Task
from luxembedder.evaluation.tasks import EvalSettings as EvalTaskSettings
from luxembedder.models.cache import CachedEncoder
from luxembedder.models.encoder import encode_texts
from luxembedder.models.registry import load_encoder, model_name
from luxembedder.settings import Settings, get_settings
from luxembedder.text.langcodes import to_iso639_3
from luxembedder.text.normalize import match_key
from luxembedder.training.card import read_meta
from luxembedder.training.config import TrainConfig
from luxembedder.training.trainer import train
from luxembedder.utils.io import (
    atomic_write_json,
    atomic_write_npz,
    atomic_write_text,
    sha256_text,
    write_jsonl,
)
from luxembedder.utils.plotting import pyplot, save_png
from luxembedder.utils.provenance import now_iso, versions

logger = logging.getLogger(__name__)

bootstrap_seeds_items = two_level_bootstrap  # the earlier name (benchmarks/quality_ablation.py); lives in evaluation.stats

Condition = Literal["lb-en", "lb-fr", "en-fr", "lb-en+lb-fr"]


def _default_flores_languages() -> list[str]:
    return [lang for lang in default_cka_languages() if lang != "eng_Latn"]


def _default_train() -> dict[str, Any]:
    """CPU-friendly defaults for me5-small (frozen token embeddings, short sequences, one epoch)."""
    return {"loss": "mnrl-symmetric", "batch_size": 16, "epochs": 1.0, "lr": 5e-5, "warmup_ratio": 0.1,
            "freeze_embeddings": True, "max_seq_length": 96, "dev_fraction": 0.0, "logging_steps": 10}


def ntrex_lang_code(code: str) -> str:
    """``lb`` -> ``ltz`` (:func:`luxembedder.text.langcodes.to_iso639_3`)."""
    return to_iso639_3(code)


class EvalSettings(BaseConfig):
    """What each model is evaluated on (never NTREX: it is the training source here)."""

    flores_languages: list[str] = Field(default_factory=_default_flores_languages,
                                        description="FLORES codes scored against English (bitext) and in CKA.")
    cka_references: list[str] = Field(default_factory=lambda: ["eng_Latn", "fra_Latn"])
    tatoeba_languages: list[str] = Field(
        default_factory=lambda: ["gsw", "fry", "nds", "fao", "hsb", "dsb", "swg", "ast"])
    flores_n: int | None = Field(None, ge=8, description="First N devtest sentences (default: all 1012).")
    tatoeba_max: int | None = Field(None, ge=4, description="First N pairs per Tatoeba set (default: all).")
    batch_size: int = Field(64, ge=1)
    max_seq_length: int | None = Field(128, ge=8, description="Truncation for every evaluated model alike "
                                       "(fine-tuned folders would otherwise keep their training length).")

    @field_validator("flores_languages", "tatoeba_languages", "cka_references")
    @classmethod
    def _no_dupes(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("languages listed twice")
        return v


class StatsSettings(BaseConfig):
    bootstrap: int = Field(2000, ge=100, description="Resamples of the retrieval bootstrap.")
    cka_bootstrap: int = Field(400, ge=50, description="Resamples of the CKA block bootstrap.")
    cka_blocks: int = Field(32, ge=4, description="Contiguous sentence blocks for the CKA bootstrap.")
    alpha: float = Field(0.05, gt=0, lt=0.5)
    seed: int = 0
    summary_exclude: list[str] = Field(
        default_factory=lambda: ["ltz", "eng", "fra", "deu", "nld"],
        description="Language prefixes left out of the low-resource summary (training languages and "
        "high-resource controls); they still get their own rows.")


class ExperimentConfig(BaseConfig):
    """The controlled lb experiment; saved resolved as ``experiment_config.yaml`` in the output folder."""

    base_model: str = "me5-small"
    out_dir: Path = Path("runs/experiment")
    conditions: list[Condition] = Field(default_factory=lambda: ["lb-en", "lb-fr", "en-fr", "lb-en+lb-fr"])
    control: Condition = Field("en-fr", description="The high-resource-only condition tested against.")
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], min_length=1)
    n_pairs: int = Field(1000, ge=4, description="NTREX sentence ids per training set (the budget).")
    combined: Literal["split", "union"] = "split"
    leakage: Literal["drop", "fail"] = "drop"
    keep_models: bool = Field(False, description="Keep each trained model folder (about 0.5 GB for me5-small).")
    train: dict[str, Any] = Field(default_factory=_default_train,
                                  description="TrainConfig keys shared by every model (model/pairs/output_dir "
                                  "and seed are set by the experiment).")
    eval: EvalSettings = Field(default_factory=EvalSettings)
    stats: StatsSettings = Field(default_factory=StatsSettings)

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: list[int]) -> list[int]:
        if len(set(v)) != len(v):
            raise ValueError("seeds listed twice")
        return v

    @model_validator(mode="after")
    def _check(self) -> ExperimentConfig:
        if len(set(self.conditions)) != len(self.conditions):
            raise ValueError("conditions listed twice")
        if self.control not in self.conditions:
            raise ValueError(f"control '{self.control}' must be one of the conditions")
        reserved = {"model", "pairs", "output_dir", "seed", "resume"} & set(self.train)
        if reserved:
            raise ValueError(f"train: {', '.join(sorted(reserved))} are set by the experiment, not the config")
        self.train_config(Path("x"), [], 0)  # validates the keys now, naming any bad one
        return self

    def train_config(self, out: Path, pairs: list[dict[str, Any]], seed: int):
        data = {**self.train, "model": self.base_model, "pairs": pairs, "output_dir": str(out), "seed": seed}
        return TrainConfig.from_dict(data, source="experiment config [train]")

    def quick(self) -> ExperimentConfig:
        """A smoke-test budget: 2 seeds, 16 pairs, 32 FLORES sentences, 16 Tatoeba pairs, few resamples."""
        return self.with_overrides(
            seeds=self.seeds[:2] if len(self.seeds) >= 2 else self.seeds, n_pairs=16,
            train={**self.train, "batch_size": 4, "max_steps": 2},
            eval=self.eval.model_copy(update={"flores_n": 32, "tatoeba_max": 16}).model_dump(),
            stats={**self.stats.model_dump(), "bootstrap": 200, "cka_bootstrap": 50, "cka_blocks": 4},
        )


# ------------------------------------------------------------------------------------- result schema


class Stat(BaseModel):
    """Mean and spread of a gain across seeds (``values`` in seed order)."""

    mean: float
    sd: float
    min: float
    max: float
    values: list[float]


class PairedTest(BaseModel):
    condition: str
    control: str
    diff: float
    low: float
    high: float
    p_value: float
    seeds_better: int
    method: str


class MetricRow(BaseModel):
    """One language × metric: base value, gain per condition, tests against the control."""

    language: str
    metric: str
    base: float
    gains: dict[str, Stat]
    tests: list[PairedTest]
    verdict: str


class ModelRecord(BaseModel):
    condition: str
    seed: int | None
    model: str
    train_pairs: dict[str, int]
    """Rows the trainer trained on per pair set (after its de-duplication and filters, less any dev split)."""
    pairs_written: dict[str, int] = {}
    """Rows written per pair set (the selected NTREX ids, less leakage drops)."""
    leakage_dropped: int
    train_seconds: float | None
    eval_seconds: float
    metrics: dict[str, float]


class ExperimentResult(BaseModel):
    """``experiment.json``: everything needed to re-read the verdict without re-running."""

    model_config = {"extra": "forbid"}

    task: str = "lb-controlled-experiment"
    base_model: str
    conditions: list[str]
    control: str
    seeds: list[int]
    n_pairs: int
    combined: str
    protocol: dict[str, Any]
    models: list[ModelRecord]
    rows: list[MetricRow]
    summary: dict[str, Any]
    data: list[dict[str, Any]]
    config: dict[str, Any]
    versions: dict[str, str]
    created: str
    wall_seconds: float
    out_dir: str = ""

    def verdict_rows(self) -> list[dict[str, Any]]:
        out = []
        for r in self.rows:
            row: dict[str, Any] = {"language": r.language, "metric": r.metric, "base": r.base}
            for c, s in r.gains.items():
                row[f"gain {c}"] = f"{s.mean:+.4f} ± {s.sd:.4f}"
            row["verdict"] = r.verdict
            out.append(row)
        return out


# ------------------------------------------------------------------------------------------ data


def _norm(text: str) -> str:
    return match_key(text)


def leakage_texts(data_dir: Path, flores_langs: list[str]) -> tuple[set[str], list[Path]]:
    """Normalised FLORES devtest and SIB-200 texts of ``flores_langs`` (the texts training must not see)."""

    texts: set[str] = set()
    files: list[Path] = []
    for lang in flores_langs:
        if flores_path(data_dir, lang).is_file():
            texts.update(_norm(t) for t in read_flores(data_dir, lang))
            files.append(flores_path(data_dir, lang))
        for split in ("train", "dev", "test"):
            if sib200_path(data_dir, lang, split).is_file():
                texts.update(_norm(r.text) for r in read_sib200(data_dir, lang, split))
                files.append(sib200_path(data_dir, lang, split))
    if not files:
        raise DataError("no FLORES-200 or SIB-200 files found for the leakage check", data_dir)
    return texts, files


def select_ids(doc_ids: list[str], n: int, seed: int) -> list[int]:
    """``n`` line ids taken whole document by document in a seeded random document order (last one cut)."""
    docs: dict[str, list[int]] = {}
    for i, d in enumerate(doc_ids):
        docs.setdefault(d, []).append(i)
    names = list(docs)
    order = np.random.default_rng(seed).permutation(len(names))
    ids = np.concatenate([docs[names[k]] for k in order])[:n]
    if len(ids) < n:
        raise ConfigError(f"n_pairs={n} is more than the {len(doc_ids)} NTREX sentences")
    return sorted(int(i) for i in ids)


def condition_pairs(condition: str, ids: list[int], sentences: dict[str, list[str]], seed: int,
                    combined: str) -> dict[str, list[tuple[int, str, str]]]:
    """``{pair_name: [(id, text_1, text_2), ...]}`` for one condition (``text_1`` = first language)."""

    def make(pair: str, sel: list[int]) -> list[tuple[int, str, str]]:
        a, b = pair.split("-")
        return [(i, sentences[a][i], sentences[b][i]) for i in sel]

    if condition != "lb-en+lb-fr":
        return {condition: make(condition, ids)}
    if combined == "union":
        return {"lb-en": make("lb-en", ids), "lb-fr": make("lb-fr", ids)}
    perm = np.random.default_rng(seed + 7919).permutation(len(ids))
    half = len(ids) // 2
    first = sorted(ids[k] for k in perm[:half])
    second = sorted(ids[k] for k in perm[half:])
    return {"lb-en": make("lb-en", first), "lb-fr": make("lb-fr", second)}


def drop_leaked(pairs: dict[str, list[tuple[int, str, str]]], banned: set[str], mode: str,
                where: str) -> tuple[dict[str, list[tuple[int, str, str]]], int]:
    """Remove pairs with a text in ``banned``; count them (``mode='fail'`` raises on any)."""
    out, dropped = {}, 0
    for name, rows in pairs.items():
        keep = [r for r in rows if _norm(r[1]) not in banned and _norm(r[2]) not in banned]
        dropped += len(rows) - len(keep)
        if len(rows) != len(keep):
            leaked = [r[0] for r in rows if r not in keep]
            msg = (f"{where} [{name}]: {len(rows) - len(keep)} training pairs share a text with FLORES-200 "
                   f"devtest / SIB-200 (NTREX line ids {leaked[:10]})")
            if mode == "fail":
                raise DataError(msg + "; set leakage: drop to drop them")
            logger.warning("%s: dropped", msg)
        out[name] = keep
    return out, dropped


# ------------------------------------------------------------------------------------ evaluation


class EvalData:
    """The evaluation texts and tasks, loaded and checked once. FLORES and Tatoeba are scored by the same tasks
    and runner as ``luxembedder eval`` (``flores-bitext``, ``bitext-lrl``); CKA reads the FLORES embeddings
    back from the runner's embedding cache."""

    def __init__(self, data_dir: Path, cfg: EvalSettings, settings: Settings | None = None) -> None:
        langs = list(dict.fromkeys([*cfg.flores_languages, *cfg.cka_references, "eng_Latn"]))
        self.flores_paths = check_flores_languages(data_dir, langs)
        self.flores = load_flores(data_dir, langs, cfg.flores_n)
        self.flores_languages = [lang for lang in cfg.flores_languages if lang != "eng_Latn"]
        self.cka_references = list(cfg.cka_references)
        settings = settings or get_settings()
        suite = EvalTaskSettings(seed=0, strict_data=False, keep_items=True)
        self.flores_task = FloresBitext(settings, suite, FloresBitextConfig(
            languages=self.flores_languages, pivot="eng_Latn", max_sentences=cfg.flores_n))
        self.tatoeba_task = BitextLrl(settings, suite, BitextLrlConfig(
            languages=list(cfg.tatoeba_languages), controls=[], max_pairs=cfg.tatoeba_max))
        self.tasks: list[Task] = [self.flores_task] + ([self.tatoeba_task] if cfg.tatoeba_languages else [])
        for task in self.tasks:
            task.ensure_loaded()
        self.tatoeba: dict[str, tuple[list[str], list[str]]] = {
            lang: (s.src, s.tgt) for lang in cfg.tatoeba_languages
            for s in [self.tatoeba_task.sets[self.tatoeba_task.subset_of(lang)]]} if cfg.tatoeba_languages else {}
        self.tatoeba_paths = [p for lang in cfg.tatoeba_languages for p in tatoeba_v1_paths(data_dir, lang)]
        self.batch_size = cfg.batch_size
        self.max_seq_length = cfg.max_seq_length
        for p in [*self.flores_paths, *self.tatoeba_paths]:
            if "ntrex" in str(p).lower():
                raise ConfigError(f"NTREX must not be an evaluation set in this experiment: {p}")

    def paths(self) -> list[Path]:
        return [*self.flores_paths, *self.tatoeba_paths]


def evaluate_model(ref: str | Path, data: EvalData, settings: Settings, out_dir: Path | None = None,
                   name: str | None = None) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Metrics (flat ``name -> value``) and per-item arrays (FLORES embeddings, per-sentence correctness).

    Retrieval runs through :func:`luxembedder.evaluation.runner.evaluate` (records, embedding cache and
    ``results.json`` in ``out_dir``); CKA uses the FLORES embeddings from that cache.
    """
    enc = load_encoder(ref, settings)
    if data.max_seq_length and hasattr(enc, "model"):
        enc.model.max_seq_length = data.max_seq_length
    name = name or enc.name
    enc.name = name
    out_dir = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="luxembedder-exp-"))
    records = run_tasks([enc], data.tasks, out_dir, settings, batch_size=data.batch_size, names=[name],
                        force=True)
    by_subset = {(r.task, r.subset): r for r in records if r.model == name}
    arrays: dict[str, np.ndarray] = {}
    metrics: dict[str, float] = {}
    cached = CachedEncoder(enc, out_dir / "cache")
    emb = {lang: encode_texts(cached, texts, batch_size=data.batch_size) for lang, texts in data.flores.items()}
    for lang, e in emb.items():
        arrays[f"emb/{lang}"] = e
    for lang in data.flores_languages:
        for ref_lang in data.cka_references:
            if lang != ref_lang:
                metrics[f"cka_{ref_lang.split('_')[0]}/{lang}"] = linear_cka(emb[lang], emb[ref_lang])
        rec = by_subset[(data.flores_task.name, data.flores_task.subset_of(lang))]
        arrays[f"flores/{lang}"] = np.asarray(rec.items, dtype=np.float64)
        metrics[f"flores/{lang}"] = float(rec.main_score)
    for lang in data.tatoeba:
        rec = by_subset[(data.tatoeba_task.name, data.tatoeba_task.subset_of(lang))]
        arrays[f"tatoeba/{lang}"] = np.asarray(rec.items, dtype=np.float64)
        metrics[f"tatoeba/{lang}"] = float(rec.main_score)
    return metrics, arrays


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    atomic_write_npz(path, {k.replace("/", "__"): v for k, v in arrays.items()})


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k.replace("__", "/"): z[k] for k in z.files}


# ------------------------------------------------------------------------------------ statistics


def seed_stat(values: list[float]) -> Stat:
    v = np.asarray(values, dtype=np.float64)
    return Stat(mean=float(v.mean()), sd=float(v.std(ddof=1)) if v.size > 1 else 0.0,
                min=float(v.min()), max=float(v.max()), values=[float(x) for x in v])


def _block_stats(x: np.ndarray, y: np.ndarray, blocks: int) -> dict[str, np.ndarray]:
    """Per-block sums needed to recompute centred cross products under block resampling."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    edges = np.linspace(0, len(x), blocks + 1).astype(int)
    xs, ys = np.split(x, edges[1:-1]), np.split(y, edges[1:-1])
    return {
        "xy": np.stack([a.T @ b for a, b in zip(xs, ys, strict=True)]).reshape(blocks, -1),
        "xx": np.stack([a.T @ a for a in xs]).reshape(blocks, -1),
        "yy": np.stack([b.T @ b for b in ys]).reshape(blocks, -1),
        "sx": np.stack([a.sum(0) for a in xs]), "sy": np.stack([b.sum(0) for b in ys]),
        "n": np.diff(edges).astype(np.float64),
    }


def _weighted_centred(w: np.ndarray, block_sums: np.ndarray, tot: np.ndarray, a: np.ndarray, b: np.ndarray,
                      da: int, db: int) -> np.ndarray:
    """Σ_i w_i (a_i − ā)(b_i − b̄)ᵀ per resample, from per-block raw cross products and weighted means."""
    raw = (w @ block_sums).reshape(len(w), da, db)
    return raw - tot[:, None, None] * a[:, :, None] * b[:, None, :]


def _gram_bootstrap_cka(x: np.ndarray, y: np.ndarray, weights: np.ndarray, blocks: int) -> np.ndarray:
    """Sample-space version of :func:`block_bootstrap_cka`: O(n²) per resample instead of O(blocks·d²).

    With per-sentence weights ω (the multiplicity of its block), ‖Σᵢ ωᵢ x̃ᵢ ỹᵢᵀ‖²_F = ωᵀ (K̃ ∘ L̃) ω, where K̃ is
    the Gram matrix centred with the weighted mean: K̃ = K − k1ᵀ − 1kᵀ + c, k = Kω / Σω, c = ωᵀKω / (Σω)².
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = len(x)
    edges = np.linspace(0, n, blocks + 1).astype(int)
    omega_all = np.repeat(np.asarray(weights, dtype=np.float64), np.diff(edges), axis=1)  # resamples × n
    gram_x, gram_y = x @ x.T, y @ y.T
    out = np.empty(len(omega_all))
    chunk = max(1, int(8e6 // (n * n)))
    for start in range(0, len(omega_all), chunk):
        om = omega_all[start:start + chunk]
        total = om.sum(axis=1)

        def centred(gram: np.ndarray, om: np.ndarray = om, total: np.ndarray = total) -> np.ndarray:
            k = om @ gram / total[:, None]
            c = (k * om).sum(axis=1) / total
            return gram[None] - k[:, :, None] - k[:, None, :] + c[:, None, None]

        kc, lc = centred(gram_x), centred(gram_y)
        num = np.einsum("ri,rij,rj->r", om, kc * lc, om)
        den = np.sqrt(np.einsum("ri,rij,rj->r", om, kc * kc, om) * np.einsum("ri,rij,rj->r", om, lc * lc, om))
        out[start:start + chunk] = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return out


def block_bootstrap_cka(x: np.ndarray, y: np.ndarray, weights: np.ndarray, blocks: int,
                        method: Literal["auto", "features", "gram"] = "auto") -> np.ndarray:
    """Linear CKA(x, y) for each row of block multiplicities ``weights`` (resamples × blocks).

    ``features`` works on per-block cross-products (O(blocks·d²) per resample), ``gram`` on the weighted-centred
    Gram matrices (O(n²)); ``auto`` takes the cheaper one. Both equal CKA of the resampled rows.
    """
    n, dx, dy = len(x), x.shape[1], y.shape[1]
    if method == "gram" or (method == "auto" and 4 * n * n < blocks * (dx * dy + dx * dx + dy * dy)):
        return _gram_bootstrap_cka(x, y, weights, blocks)
    st = _block_stats(x, y, blocks)
    out = np.empty(len(weights))
    for start in range(0, len(weights), 64):
        w = weights[start:start + 64].astype(np.float64)
        tot = w @ st["n"]
        mx, my = (w @ st["sx"]) / tot[:, None], (w @ st["sy"]) / tot[:, None]

        xy = _weighted_centred(w, st["xy"], tot, mx, my, dx, dy)
        xx = _weighted_centred(w, st["xx"], tot, mx, mx, dx, dx)
        yy = _weighted_centred(w, st["yy"], tot, my, my, dy, dy)
        num = (xy**2).sum(axis=(1, 2))
        den = np.sqrt((xx**2).sum(axis=(1, 2)) * (yy**2).sum(axis=(1, 2)))
        out[start:start + 64] = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return out


def _verdict(tests: list[PairedTest], alpha: float) -> str:
    sig_pos = [t.condition for t in tests if t.p_value < alpha and t.diff > 0]
    sig_neg = [t.condition for t in tests if t.p_value < alpha and t.diff < 0]
    if sig_pos and not sig_neg:
        return "with lb better: " + ", ".join(sig_pos)
    if sig_neg and not sig_pos:
        return "en-fr better than: " + ", ".join(sig_neg)
    if sig_pos and sig_neg:
        return "mixed: better " + ", ".join(sig_pos) + "; worse " + ", ".join(sig_neg)
    return "no significant difference"


def analyse(cfg: ExperimentConfig, base_metrics: dict[str, float], runs: dict[tuple[str, int], dict[str, Any]],
            ) -> tuple[list[MetricRow], dict[str, Any]]:
    """Gains, spreads and paired tests from the per-model metrics and arrays."""
    st = cfg.stats
    with_lb = [c for c in cfg.conditions if c != cfg.control]
    rows: list[MetricRow] = []
    metric_names = sorted(base_metrics)
    for name in metric_names:
        kind, lang = name.split("/", 1)
        gains = {c: seed_stat([runs[(c, s)]["metrics"][name] - base_metrics[name] for s in cfg.seeds])
                 for c in cfg.conditions}
        tests = []
        boot_cache: dict[tuple[str, int], np.ndarray] = {}
        for c in with_lb:
            better = sum(runs[(c, s)]["metrics"][name] > runs[(cfg.control, s)]["metrics"][name] for s in cfg.seeds)
            if kind.startswith("cka_"):
                ref = next(r for r in cfg.eval.cka_references if r.split("_")[0] == kind[4:])
                rng = np.random.default_rng(st.seed)
                n_items = len(runs[(c, cfg.seeds[0])]["arrays"][f"emb/{lang}"])
                blocks = min(st.cka_blocks, n_items)
                w = rng.multinomial(blocks, np.full(blocks, 1.0 / blocks), size=st.cka_bootstrap)
                seed_idx = rng.integers(0, len(cfg.seeds), size=(st.cka_bootstrap, len(cfg.seeds)))
                for key in [(c, s) for s in cfg.seeds] + [(cfg.control, s) for s in cfg.seeds]:
                    if key not in boot_cache:  # the control's resamples are shared by every condition
                        arr = runs[key]["arrays"]
                        boot_cache[key] = block_bootstrap_cka(arr[f"emb/{lang}"], arr[f"emb/{ref}"], w, blocks)
                per_seed = np.stack([boot_cache[(c, s)] - boot_cache[(cfg.control, s)] for s in cfg.seeds],
                                    axis=1)  # resamples × seeds
                boot = np.take_along_axis(per_seed, seed_idx, axis=1).mean(axis=1)
                low, high, p = (*percentile_interval(boot, st.alpha), resampling_p(boot))
                method = f"two-level bootstrap: seeds × {blocks} sentence blocks, {st.cka_bootstrap} resamples"
            else:
                diff = np.stack([runs[(c, s)]["arrays"][name] - runs[(cfg.control, s)]["arrays"][name]
                                 for s in cfg.seeds])
                low, high, p = two_level_bootstrap(diff, st.bootstrap, st.seed, st.alpha)
                method = f"two-level bootstrap: seeds × sentences, {st.bootstrap} resamples"
            d = gains[c].mean - gains[cfg.control].mean
            tests.append(PairedTest(condition=c, control=cfg.control, diff=d, low=low, high=high, p_value=p,
                                    seeds_better=int(better), method=method))
        rows.append(MetricRow(language=lang, metric=kind, base=base_metrics[name], gains=gains, tests=tests,
                              verdict=_verdict(tests, st.alpha)))
    summary: dict[str, Any] = {}
    for kind in sorted({r.metric for r in rows}):
        sel = [r for r in rows if r.metric == kind and r.language.split("_")[0] not in st.summary_exclude]
        if not sel:
            continue
        summary[kind] = {
            "languages": len(sel),
            "mean_gain": {c: float(np.mean([r.gains[c].mean for r in sel])) for c in cfg.conditions},
            "significant_with_lb_better": {c: sum(any(t.condition == c and t.p_value < st.alpha and t.diff > 0
                                                      for t in r.tests) for r in sel) for c in with_lb},
            "significant_control_better": {c: sum(any(t.condition == c and t.p_value < st.alpha and t.diff < 0
                                                      for t in r.tests) for r in sel) for c in with_lb},
            "with_lb_higher_mean": {c: sum(r.gains[c].mean > r.gains[cfg.control].mean for r in sel)
                                    for c in with_lb},
        }
        if not kind.startswith("cka_"):
            # pooled over the low-resource languages: every sentence of every language is one item
            pooled = {}
            for c in with_lb:
                diff = np.concatenate([
                    np.stack([runs[(c, s)]["arrays"][f"{kind}/{r.language}"]
                              - runs[(cfg.control, s)]["arrays"][f"{kind}/{r.language}"] for s in cfg.seeds])
                    for r in sel], axis=1)
                low, high, p = two_level_bootstrap(diff, st.bootstrap, st.seed, st.alpha)
                pooled[c] = {"diff": float(diff.mean()), "low": low, "high": high, "p_value": p,
                             "items": int(diff.shape[1])}
            summary[kind]["pooled_test_vs_control"] = pooled
    return rows, summary


# ------------------------------------------------------------------------------------------ runner


def _model_done(run_dir: Path) -> bool:
    return (run_dir / "eval.json").is_file() and (run_dir / "eval.npz").is_file()


def _evaluate_into(run_dir: Path, ref: str | Path, data: EvalData, settings: Settings,
                   extra: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    metrics, arrays = evaluate_model(ref, data, settings, out_dir=run_dir / "eval", name=extra["model"])
    record = {**extra, "metrics": metrics, "eval_seconds": round(time.perf_counter() - t0, 1),
              "flores_protocol": FLORES_PROTOCOL}
    _save_npz(run_dir / "eval.npz", arrays)
    atomic_write_json(run_dir / "eval.json", record)  # written last: its presence marks the run done
    return record


FLORES_PROTOCOL = "text-match"
"""FLORES retrieval protocol of ``eval.json`` files: a retrieval is correct when the retrieved text equals the
gold text (as ``luxembedder eval``). Runs written before it (no ``flores_protocol``) scored by row index."""


def trained_rows(model_dir: Path) -> dict[str, int] | None:
    """Rows the trainer trained on per pair set (its ``pair_counts``: after its de-duplication and filters,
    less any dev split), from the model's ``luxembedder.json``; None when the model or that record is gone."""
    try:
        counts = read_meta(model_dir).get("pair_counts") or {}
        rows = {str(pair): int(c["train"]) for pair, c in counts.items()}
    except (ConfigError, KeyError, TypeError, ValueError, AttributeError):
        return None
    return rows or None


def _load_run(run_dir: Path, data: EvalData | None = None) -> dict[str, Any]:
    """A finished unit; FLORES scores of a run stored with the earlier row-index protocol are recomputed by text
    match from its stored FLORES embeddings (no model is loaded), so ``--report-only`` reports one protocol.
    ``train_pairs`` is what the trainer kept (its record, when the model was kept), not the rows written."""
    record = json.loads((run_dir / "eval.json").read_text(encoding="utf-8"))
    kept = trained_rows(run_dir / "model")
    if kept is not None and record.get("condition") != "base":
        record.setdefault("pairs_written", record.get("train_pairs"))
        record["train_pairs"] = kept
    record["arrays"] = _load_npz(run_dir / "eval.npz")
    if data is not None and record.get("flores_protocol") != FLORES_PROTOCOL:
        upgrade_flores_protocol(record, data)
        logger.info("%s: FLORES retrieval re-scored by text match from the stored embeddings", run_dir)
    return record


def upgrade_flores_protocol(record: dict[str, Any], data: EvalData) -> None:
    """Re-score ``flores/<lang>`` by text match from ``emb/<lang>`` and ``emb/eng_Latn`` (in place)."""
    arrays, metrics = record["arrays"], record["metrics"]
    pivot = data.flores["eng_Latn"]
    for lang in data.flores_languages:
        if f"emb/{lang}" not in arrays or "emb/eng_Latn" not in arrays:
            raise DataError(f"stored run lacks the FLORES embeddings of {lang}: re-evaluate it", field="eval.npz")
        fwd, bwd = retrieval_correct(arrays[f"emb/{lang}"], arrays["emb/eng_Latn"], data.flores[lang], pivot)
        arrays[f"flores/{lang}"] = (fwd.astype(np.float64) + bwd) / 2
        metrics[f"flores/{lang}"] = float(arrays[f"flores/{lang}"].mean())
    record["flores_protocol"] = FLORES_PROTOCOL


def run_experiment(cfg: ExperimentConfig, out_dir: str | Path | None = None,
                   settings: Settings | None = None, train_missing: bool = True,
                   reverse: bool = False) -> ExperimentResult:
    """Run (or resume) the experiment and write ``experiment.json``, ``experiment.md`` and plots.

    ``train_missing=False`` trains nothing: it reports on the seeds whose conditions are all finished
    (an interim report while a long run is still going). Several workers may share one output folder:
    each (condition, seed) is claimed with a ``.claim`` file holding the worker's pid (a dead worker's claim
    is taken over); ``reverse=True`` walks the units from the last, so two workers meet in the middle.
    """
    settings = settings or get_settings()
    data_dir = settings.require_data_dir()
    out = Path(out_dir or cfg.out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    cfg.save(out / "experiment_config.yaml")
    t_start = time.perf_counter()

    ntrex = read_ntrex(data_dir, langs=("lb", "en", "fr"))
    train_langs = ["ltz_Latn", "eng_Latn", "fra_Latn"]
    banned, banned_files = leakage_texts(data_dir, train_langs)
    eval_data = EvalData(data_dir, cfg.eval, settings)
    base_name = model_name(cfg.base_model, settings)

    base_dir = out / "runs" / "base"
    units: list[tuple[str, int | None]] = [("base", None)] + [(c, s) for s in cfg.seeds for c in cfg.conditions]
    if reverse:
        units = [*units[:0:-1], units[0]]
    runs: dict[tuple[str, int], dict[str, Any]] = {}
    base: dict[str, Any] | None = None
    for k, (cond, seed) in enumerate(units):
        run_dir = base_dir if seed is None else out / "runs" / cond / f"seed{seed}"
        label = f"[{k + 1}/{len(units)}] {cond}" + ("" if seed is None else f" seed {seed}")
        if not _model_done(run_dir):
            if not train_missing:
                continue
            claim = _claim(run_dir)
            if claim is None:
                logger.info("%s: being run by another worker, skipped", label)
                continue
            try:
                if not _model_done(run_dir):  # another worker may have finished it meanwhile
                    if seed is None:
                        logger.info("%s: evaluating the base model %s", label, base_name)
                        _evaluate_into(run_dir, cfg.base_model, eval_data, settings,
                                       {"condition": "base", "seed": None, "model": base_name, "train_pairs": {},
                                        "leakage_dropped": 0, "train_seconds": None})
                    else:
                        _train_and_evaluate(cfg, cond, seed, run_dir, ntrex, banned, eval_data, settings,
                                            base_name, label)
            finally:
                claim.unlink(missing_ok=True)
        else:
            logger.info("%s: done, skipped", label)
        if not _model_done(run_dir):
            continue
        if seed is None:
            base = _load_run(run_dir, eval_data)
        else:
            runs[(cond, seed)] = _load_run(run_dir, eval_data)

    if base is None:
        raise ConfigError(f"{out}: the base model is not evaluated yet (another worker may be on it); "
                          "re-run, or use --report-only once the workers are done")
    done_seeds = [s for s in cfg.seeds if all((c, s) in runs for c in cfg.conditions)]
    if not done_seeds:
        raise ConfigError(f"{out}: no seed has every condition finished yet; nothing to report")
    if done_seeds != list(cfg.seeds):
        logger.warning("reporting on finished seeds %s only (of %s)", done_seeds, cfg.seeds)
        cfg = cfg.model_copy(update={"seeds": done_seeds})
        runs = {k_: v for k_, v in runs.items() if k_[1] in done_seeds}
    rows, summary = analyse(cfg, base["metrics"], runs)
    models = [ModelRecord(condition="base", seed=None, model=base_name, train_pairs={}, leakage_dropped=0,
                          train_seconds=None, eval_seconds=base["eval_seconds"], metrics=base["metrics"])]
    models += [ModelRecord(condition=c, seed=s, model=r["model"], train_pairs=r["train_pairs"],
                           pairs_written=r.get("pairs_written") or {}, leakage_dropped=r["leakage_dropped"],
                           train_seconds=r["train_seconds"],
                           eval_seconds=r["eval_seconds"], metrics=r["metrics"]) for (c, s), r in runs.items()]
    ntrex_files = [p for k_, p in ntrex.files.items()]
    result = ExperimentResult(
        base_model=base_name, conditions=list(cfg.conditions), control=cfg.control, seeds=list(cfg.seeds),
        n_pairs=cfg.n_pairs, combined=cfg.combined,
        protocol={
            "training_data": "NTREX-128 (human translations), the same line ids in every condition per seed",
            "leakage": "training pairs sharing a normalised text with FLORES-200 devtest or SIB-200 "
                       f"({', '.join(train_langs)}) are {'dropped' if cfg.leakage == 'drop' else 'an error'}; "
                       "NTREX is not evaluated",
            "cka": "linear CKA (biased HSIC, feature space) of final sentence embeddings, FLORES devtest",
            "flores": "top-1 cosine retrieval xx<->eng_Latn, mean of both directions, FLORES devtest",
            "tatoeba": "top-1 cosine retrieval xx<->eng, mean of both directions, Tatoeba v1 (LASER)",
            "gain": "metric(model) - metric(base model); mean and sample sd across seeds",
            "test": "paired two-level bootstrap (seeds, then sentences / sentence blocks for CKA) of "
                    "condition - control; two-sided p = min(1, 2(k+1)/(B+1)), k of B resamples on the other "
                    "side of 0 (luxembedder.evaluation.stats)",
            "flores_sentences": len(eval_data.flores["eng_Latn"]),
            "tatoeba_pairs": {k_: len(v[0]) for k_, v in eval_data.tatoeba.items()},
        },
        models=models, rows=rows, summary=summary,
        data=data_provenance([*ntrex_files, *eval_data.paths(), *banned_files], data_dir, strict=False),
        config=cfg.model_dump(mode="json"), versions=versions(), created=now_iso(),
        wall_seconds=round(time.perf_counter() - t_start, 1), out_dir=str(out),
    )
    ExperimentResult.model_validate(result.model_dump())
    atomic_write_json(out / "experiment.json", result.model_dump(mode="json"))
    atomic_write_text(out / "experiment.md", render_markdown(result))
    plot_gains(result, out)
    return result


def _claim(run_dir: Path) -> Path | None:
    """Claim ``run_dir`` for this process (None when a live process holds it)."""
    import os

    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / ".claim"
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                pid = int(path.read_text().strip() or "0")
            except (OSError, ValueError):
                pid = 0
            alive = pid > 0 and pid != os.getpid()
            if alive:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    alive = False
                except PermissionError:
                    pass
            if alive:
                return None
            path.unlink(missing_ok=True)  # a dead worker's claim
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        return path
    return None


def _train_and_evaluate(cfg: ExperimentConfig, cond: str, seed: int, run_dir: Path, ntrex: Any, banned: set[str],
                        eval_data: EvalData, settings: Settings, base_name: str, label: str) -> None:
    ids = select_ids(ntrex.doc_ids, cfg.n_pairs, seed)
    logger.info("%s: training on %d NTREX ids", label, len(ids))
    pairs = condition_pairs(cond, ids, ntrex.sentences, seed, cfg.combined)
    pairs, dropped = drop_leaked(pairs, banned, cfg.leakage, f"{cond} seed {seed}")
    sources = []
    for pair, rows in pairs.items():
        path = run_dir / "pairs" / f"{pair}.jsonl"
        write_jsonl(path, [{"text_1": a, "text_2": b, "ntrex_line": i} for i, a, b in rows])
        sources.append({"path": str(path), "pair": pair})
    model_dir = run_dir / "model"
    tcfg = cfg.train_config(model_dir, sources, seed)
    t0 = time.perf_counter()
    if not (model_dir / "modules.json").is_file():
        train(tcfg, settings)
    train_seconds = round(time.perf_counter() - t0, 1)
    written = {p: len(r) for p, r in pairs.items()}
    _evaluate_into(run_dir, model_dir, eval_data, settings, {
        "condition": cond, "seed": seed, "model": f"{base_name}+{cond}@seed{seed}",
        "train_pairs": trained_rows(model_dir) or written, "pairs_written": written, "leakage_dropped": dropped,
        "train_seconds": train_seconds, "ntrex_ids_sha": _ids_digest(ids)})
    if not cfg.keep_models:
        shutil.rmtree(model_dir, ignore_errors=True)


def _ids_digest(ids: list[int]) -> str:
    return sha256_text(",".join(map(str, ids)))[:16]


# ------------------------------------------------------------------------------------------ reports


def render_markdown(result: ExperimentResult) -> str:
    conds = result.conditions
    lines = [
        f"# Controlled experiment: lb in the training pairs ({result.base_model})",
        "",
        f"Conditions {', '.join(conds)}; control `{result.control}`; seeds {result.seeds}; "
        f"{result.n_pairs} NTREX ids per training set (combined: {result.combined}). Gains are over the base "
        "model (mean ± sd across seeds). Tests: condition − control, " + result.protocol["test"] + ".",
        "",
    ]
    trimmed = [m for m in result.models if m.pairs_written and m.train_pairs != m.pairs_written]
    if trimmed:
        lines += ["Units trained on fewer rows than written (the trainer's de-duplication by the text-matching key, "
                  "its filters or a dev split; see each model's luxembedder.json): " + "; ".join(
            f"{m.condition} seed {m.seed}: {sum(m.train_pairs.values())} of {sum(m.pairs_written.values())} kept"
            for m in trimmed) + ".", ""]
    for kind in sorted({r.metric for r in result.rows}):
        lines += [f"## {kind}", ""]
        head = ["language", "base"] + [f"gain {c}" for c in conds] + \
               [f"{t.condition} − {result.control} [95% CI], p" for t in result.rows[0].tests] + ["verdict"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in (r for r in result.rows if r.metric == kind):
            cells = [r.language, f"{r.base:.4f}"] + [f"{r.gains[c].mean:+.4f} ± {r.gains[c].sd:.4f}" for c in conds]
            cells += [f"{t.diff:+.4f} [{t.low:+.4f}, {t.high:+.4f}], p={t.p_value:.3f}" for t in r.tests]
            cells.append(r.verdict)
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    excl = ", ".join(result.config.get("stats", {}).get("summary_exclude", []))
    lines += [f"## Summary (low-resource languages: all rows except {excl})", "", "```",
              json.dumps(result.summary, indent=2), "```", ""]
    return "\n".join(lines)


def plot_gains(result: ExperimentResult, out: Path) -> list[Path]:
    """One bar chart per metric: gain over base per language and condition (error bars: sd over seeds)."""

    plt = pyplot()
    paths = []
    for kind in sorted({r.metric for r in result.rows}):
        rows = [r for r in result.rows if r.metric == kind]
        x = np.arange(len(rows))
        width = 0.8 / len(result.conditions)
        fig, ax = plt.subplots(figsize=(0.5 * len(rows) + 3, 4))
        for j, c in enumerate(result.conditions):
            ax.bar(x + (j - (len(result.conditions) - 1) / 2) * width, [r.gains[c].mean for r in rows], width,
                   yerr=[r.gains[c].sd for r in rows], label=c, capsize=2)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(x, [r.language.split("_")[0] for r in rows], rotation=90, fontsize=8)
        ax.set_ylabel(f"gain over base ({kind})")
        ax.legend(fontsize=7)
        fig.tight_layout()
        paths.append(save_png(fig, out / f"gains_{kind.replace('/', '_')}.png", dpi=120))
    return paths
