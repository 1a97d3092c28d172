"""Benchmark tasks with validated metadata, in the spirit of mteb's task classes.

A task loads its data (validated, with sha256 provenance), declares every text it needs
(:meth:`Task.texts`, so a runner can encode each text once per model across tasks), and turns an encoder
into :class:`~luxembedder.evaluation.results.ResultRecord` objects, one per subset and protocol.

Built-in tasks: ``sib200-zeroshot``, ``sib200-transfer``, ``bitext-ltz``, ``paralux``, ``bitext-lrl``.
User tasks from files: ``bitext:PATH:SRC_COL:TGT_COL``, ``triplets:PATH``, ``classification:TRAIN:TEST``.
Get one with :func:`get_task`.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator

from luxembedder.config import BaseConfig
from luxembedder.datasets import benchmarks as B
from luxembedder.errors import ConfigError, DataError, MissingDataError
from luxembedder.evaluation import metrics as M
from luxembedder.evaluation.results import ResultRecord
from luxembedder.evaluation.stats import bootstrap_ci
from luxembedder.models.encoder import Encoder, encode_texts
from luxembedder.settings import Settings, get_settings
from luxembedder.utils.provenance import now_iso, versions

logger = logging.getLogger(__name__)

LANG_PATTERN = r"^[a-z]{3}_[A-Z][a-z]{3}$"


class TaskMetadata(BaseConfig):
    """What a task measures and on which data (mteb-style; unknown keys are errors)."""

    name: str = Field(min_length=1)
    protocol: str = Field(min_length=1, description="the main protocol, as printed beside every score")
    description: str
    languages: list[str] = Field(min_length=1, description="xxx_Scrpt codes")
    data_files: list[str] = Field(default_factory=list, description="files read (relative to the data dir)")
    data_source: str = ""
    main_metric: str = "accuracy"
    reference: str | None = None

    @field_validator("languages")
    @classmethod
    def _langs(cls, v: list[str]) -> list[str]:
        import re

        bad = [x for x in v if not re.match(LANG_PATTERN, x)]
        if bad:
            raise ValueError(f"languages must look like ltz_Latn, got {bad}")
        return v


class EvalSettings(BaseConfig):
    """Settings shared by every task."""

    seed: int = 42
    bootstrap_samples: int = Field(1000, ge=100, description="resamples for the 95% bootstrap intervals")
    strict_data: bool = Field(True, description="a sha256 differing from MANIFEST.tsv is an error (else a warning)")
    keep_items: bool = Field(True, description="store per-item scores in records (for paired tests)")


# ------------------------------------------------------------------------------------------ base


class Task(ABC):
    """Base class: subclasses set ``metadata``, implement ``load``, ``texts`` and ``_evaluate``."""

    metadata: TaskMetadata
    spec: str
    _file_name: str | None = None  # user-file tasks: set by load(), see ``name``

    def __init__(self, settings: Settings | None = None, eval_settings: EvalSettings | None = None) -> None:
        self.settings = settings or get_settings()
        self.eval = eval_settings or EvalSettings()
        self._loaded = False
        self._files: dict[str, list[Path]] = {}

    @property
    def name(self) -> str:
        """The name results are stored under: the spec, or for user-file tasks (after loading) a short
        name from the file names and their content hashes, so results do not depend on where the files lie
        and an edited file is never mistaken for the one already scored."""
        return self._file_name or self.spec

    def _set_file_name(self, kind: str, *parts: str | Path) -> None:
        """Name a user-file task ``KIND:FILE@SHA8[:FILE@SHA8...][:COL...]`` (paths become file names; the
        memoised hash is the one the records' provenance uses)."""
        shown = [f"{p.name}@{B.file_sha256(p)[:8]}" if isinstance(p, Path) else p for p in parts]
        self._file_name = ":".join([kind, *shown])

    def data_dir(self) -> Path:
        return self.settings.require_data_dir()

    def ensure_loaded(self) -> None:
        if not self._loaded:
            self.load()
            self._loaded = True

    @abstractmethod
    def load(self) -> None:
        """Read and validate the data (raises MissingDataError / DataError)."""

    @abstractmethod
    def _texts(self) -> list[str]: ...

    def texts(self) -> list[str]:
        """Every text the task will encode (after loading)."""
        self.ensure_loaded()
        return self._texts()

    def evaluate(self, encoder: Encoder, batch_size: int = 32) -> list[ResultRecord]:
        """Score ``encoder``: one record per subset and protocol."""
        self.ensure_loaded()
        return self._evaluate(encoder, batch_size)

    @abstractmethod
    def _evaluate(self, encoder: Encoder, batch_size: int) -> list[ResultRecord]: ...

    def data_files(self) -> list[dict[str, Any]]:
        """``{path, sha256[, pinned]}`` of every file the task read (checked against MANIFEST.tsv pins)."""
        self.ensure_loaded()
        paths = list(dict.fromkeys(p for files in self._files.values() for p in files))
        return B.data_provenance(paths, self.settings.data_dir, strict=self.eval.strict_data)

    # helpers ---------------------------------------------------------------------------------
    def _embed(self, encoder: Encoder, texts: Sequence[str], batch_size: int) -> np.ndarray:
        return encode_texts(encoder, list(texts), batch_size=batch_size)

    def _provenance(self, subset: str) -> list[dict[str, Any]]:
        data_dir = self.settings.data_dir
        return B.data_provenance(self._files.get(subset, []), data_dir, strict=self.eval.strict_data)

    def _record(self, encoder: Encoder, subset: str, protocol: str, items: np.ndarray, metrics: dict[str, Any],
                started: float, main_metric: str = "accuracy", main_score: float | None = None,
                files_key: str | None = None, ci: bool = True) -> ResultRecord:
        items = np.asarray(items, dtype=np.float64)
        score = float(items.mean()) if main_score is None else float(main_score)
        ci95 = bootstrap_ci(items, n=self.eval.bootstrap_samples, seed=self.eval.seed) if ci and items.size else None
        return ResultRecord(
            model=encoder.name, task=self.name, subset=subset, protocol=protocol, main_metric=main_metric,
            main_score=min(1.0, max(0.0, score)), ci95=ci95, metrics=metrics, n=int(items.size),
            data=self._provenance(files_key or subset), seed=self.eval.seed, versions=versions(),
            seconds=round(time.perf_counter() - started, 4), created=now_iso(),
            items=[round(float(x), 4) for x in items] if self.eval.keep_items else None,
        )


def _bitext_record(task: Task, encoder: Encoder, subset: str, src: list[str], tgt: list[str],
                   src_lang: str, tgt_lang: str, batch_size: int, margin_k: int, any_translation: bool,
                   ) -> ResultRecord:
    started = time.perf_counter()
    es = task._embed(encoder, src, batch_size)
    et = task._embed(encoder, tgt, batch_size)
    fwd, bwd = M.retrieval_correct(es, et, src, tgt, any_translation=any_translation)
    mf, mb = M.margin_retrieval_correct(es, et, src, tgt, k=margin_k, any_translation=any_translation)
    mteb = M.mteb_bitext_f1(es, et)
    d1, d2 = f"{src_lang}2{tgt_lang}", f"{tgt_lang}2{src_lang}"
    metrics = {
        f"top1_cosine_text_match_{d1}": float(fwd.mean()),
        f"top1_cosine_text_match_{d2}": float(bwd.mean()),
        "top1_cosine_text_match_mean": float((fwd.mean() + bwd.mean()) / 2),
        f"margin_ratio_k{margin_k}_text_match_{d1}": float(mf.mean()),
        f"margin_ratio_k{margin_k}_text_match_{d2}": float(mb.mean()),
        f"margin_ratio_k{margin_k}_text_match_mean": float((mf.mean() + mb.mean()) / 2),
        f"mteb_bitext_weighted_f1_{d1}": mteb["f1"],
        f"mteb_bitext_weighted_precision_{d1}": mteb["precision"],
        f"mteb_bitext_weighted_recall_{d1}": mteb["recall"],
        f"mteb_bitext_accuracy_by_row_{d1}": mteb["accuracy"],
        "unique_src": len(set(src)),
        "unique_tgt": len(set(tgt)),
    }
    match = "any-translation" if any_translation else "text-match"
    return task._record(encoder, subset, f"top1-cosine-{match}/mean-both-directions", (fwd + bwd.astype(float)) / 2,
                        metrics, started)


# ------------------------------------------------------------------------------------------ SIB-200


SIB_CATEGORIES = ("science/technology", "travel", "politics", "health", "entertainment", "geography", "sports")


class SibZeroShotConfig(BaseConfig):
    """Zero-shot topic classification by similarity to label sentences (templates from paper-notes.md)."""

    lang: str = "ltz_Latn"
    split: Literal["train", "dev", "test"] = "test"
    templates: list[str] = Field(default_factory=lambda: [
        "An dësem Beispill geet et em {L}.", "D'Thema vun dësem Text ass {L}.",
        "Dëst Dokument beschäftegt sech mat {L}.", "{L}", "Hei gëtt iwwer {L} geschwat.",
    ], min_length=1)
    labels: dict[str, str] = Field(default_factory=lambda: dict(zip(SIB_CATEGORIES, (
        "Technologie", "Reesen", "Politik", "Gesondheet", "Ennerhalung", "Geographie", "Sport"), strict=True)))
    english_templates: list[str] = Field(default_factory=lambda: [
        "In this example it is about {L}.", "The topic of this text is {L}.", "This document deals with {L}.",
        "{L}", "This text talks about {L}.",
    ])
    english_labels: dict[str, str] = Field(default_factory=lambda: dict(zip(SIB_CATEGORIES, (
        "technology", "travel", "politics", "health", "entertainment", "geography", "sports"), strict=True)))

    @field_validator("templates", "english_templates")
    @classmethod
    def _has_slot(cls, v: list[str]) -> list[str]:
        bad = [t for t in v if "{L}" not in t]
        if bad:
            raise ValueError(f"every template needs the label slot {{L}}: {bad}")
        return v


class Sib200ZeroShot(Task):
    """SIB-200 zero-shot: embed text and one label sentence per topic; predict the most similar."""

    spec = "sib200-zeroshot"
    metadata = TaskMetadata(
        name="sib200-zeroshot", protocol="zeroshot-label-templates/mean-accuracy-over-templates",
        description="SIB-200 ltz_Latn test (204): cosine to one label sentence per topic, accuracy per "
        "template, mean over the five Luxembourgish templates; English templates as a second protocol.",
        languages=["ltz_Latn"], data_files=["sib200/annotated/ltz_Latn/test.tsv"],
        data_source=B.SOURCES["sib200"], reference="paper-notes.md (SIB-200 zero-shot)",
    )

    def __init__(self, settings: Settings | None = None, eval_settings: EvalSettings | None = None,
                 config: SibZeroShotConfig | None = None) -> None:
        super().__init__(settings, eval_settings)
        self.config = config or SibZeroShotConfig()

    def load(self) -> None:
        c = self.config
        path = B.sib200_path(self.data_dir(), c.lang, c.split)
        self.rows = B.read_sib200(self.data_dir(), c.lang, c.split, task=self.spec)
        self._files = {"lb": [path], "en": [path]}
        for labels in (c.labels, c.english_labels):
            missing = sorted({r.category for r in self.rows} - set(labels))
            if missing:
                raise ConfigError(f"task {self.spec}: no label word for categories {missing}")

    def _protocols(self) -> list[tuple[str, list[str], dict[str, str]]]:
        out = [("lb", self.config.templates, self.config.labels)]
        if self.config.english_templates:
            out.append(("en", self.config.english_templates, self.config.english_labels))
        return out

    def _label_sentences(self, templates: list[str], labels: dict[str, str]) -> list[list[str]]:
        return [[t.replace("{L}", labels[c]) for c in self.categories] for t in templates]

    @property
    def categories(self) -> list[str]:
        return list(self.config.labels)

    def _texts(self) -> list[str]:
        out = [r.text for r in self.rows]
        for _, templates, labels in self._protocols():
            for sents in self._label_sentences(templates, labels):
                out.extend(sents)
        return out

    def _evaluate(self, encoder: Encoder, batch_size: int) -> list[ResultRecord]:
        from sklearn.metrics import f1_score

        records = []
        started0 = time.perf_counter()
        emb = self._embed(encoder, [r.text for r in self.rows], batch_size)
        gold = np.array([self.categories.index(r.category) for r in self.rows])
        for key, templates, labels in self._protocols():
            started = started0 if key == "lb" else time.perf_counter()
            correct = np.zeros((len(templates), len(self.rows)), dtype=bool)
            per_template: dict[str, dict[str, float]] = {}
            for i, (template, sents) in enumerate(zip(templates, self._label_sentences(templates, labels),
                                                      strict=True)):
                pred = M.cosine_matrix(emb, self._embed(encoder, sents, batch_size)).argmax(axis=1)
                correct[i] = pred == gold
                per_template[template] = {
                    "accuracy": float(correct[i].mean()),
                    "macro_f1": float(f1_score(gold, pred, average="macro", labels=np.arange(len(sents)),
                                               zero_division=0)),
                }
            metrics = {
                "mean_accuracy_over_templates": float(correct.mean()),
                "mean_macro_f1_over_templates": float(np.mean([v["macro_f1"] for v in per_template.values()])),
                "per_template": per_template,
                "labels": {c: labels[c] for c in self.categories},
            }
            records.append(self._record(
                encoder, f"{self.config.lang}:{self.config.split}",
                f"zeroshot-{key}-templates/mean-accuracy-over-{len(templates)}", correct.mean(axis=0),
                metrics, started, files_key=key))
        return records


class SibTransferConfig(BaseConfig):
    """Logistic regression on frozen embeddings; sources' train split, tested on the target's test split."""

    target: str = "ltz_Latn"
    sources: list[str] = Field(default_factory=lambda: ["eng_Latn", "fra_Latn", "deu_Latn"])
    union: bool = Field(True, description="also train on the union of the sources' train splits")
    in_language: bool = Field(True, description="reference row: target train -> target test")
    C: float = Field(1.0, gt=0)
    max_iter: int = Field(1000, ge=10, description="ample for convergence on 701 × d features")
    mteb_fewshot: bool = Field(True, description="MTEB's SIB200Classification protocol, in-language")
    mteb_samples_per_label: int = Field(8, ge=1, description="MTEB: 8 examples per label")
    mteb_repeats: int = Field(10, ge=1, description="MTEB: 10 seeded repeats (n_experiments)")
    mteb_max_iter: int = Field(100, ge=1, description="MTEB: LogisticRegression(max_iter=100)")


def _fit_predict(x_train: np.ndarray, y_train: Sequence[str], x_test: np.ndarray, seed: int, C: float,
                 max_iter: int) -> np.ndarray:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=C, max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x_train, np.asarray(y_train))
    return clf.predict(x_test)


def mteb_undersample(labels: np.ndarray, samples_per_label: int, rng: np.random.RandomState,
                     idxs: np.ndarray) -> np.ndarray:
    """MTEB's ``_undersample_data``: shuffle ``idxs`` in place, keep the first k of each label in that order."""
    rng.shuffle(idxs)
    lab = labels[idxs]
    order = np.argsort(lab, kind="stable")
    sorted_lab = lab[order]
    starts = np.r_[0, np.flatnonzero(sorted_lab[1:] != sorted_lab[:-1]) + 1]
    rank_sorted = np.arange(len(lab)) - np.repeat(starts, np.diff(np.r_[starts, len(lab)]))
    rank = np.empty_like(rank_sorted)
    rank[order] = rank_sorted
    return idxs[rank < samples_per_label]


class Sib200Transfer(Task):
    """SIB-200 cross-lingual transfer to ltz_Latn test, plus the in-language reference and MTEB 8-shot."""

    spec = "sib200-transfer"
    metadata = TaskMetadata(
        name="sib200-transfer", protocol="logreg-transfer/accuracy",
        description="Logistic regression on frozen embeddings of a source language's SIB-200 train split "
        "(eng, fra, deu, union), tested on ltz_Latn test; ltz train as a reference row; MTEB's 8-shot "
        "SIB200Classification protocol (8 per label, 10 seeded repeats, max_iter 100, mean), labelled.",
        languages=["ltz_Latn", "eng_Latn", "fra_Latn", "deu_Latn"],
        data_files=["sib200/annotated/<lang>/train.tsv", "sib200/annotated/ltz_Latn/test.tsv"],
        data_source=B.SOURCES["sib200"], reference="paper-notes.md; mteb SIB200Classification",
    )

    def __init__(self, settings: Settings | None = None, eval_settings: EvalSettings | None = None,
                 config: SibTransferConfig | None = None) -> None:
        super().__init__(settings, eval_settings)
        self.config = config or SibTransferConfig()

    def load(self) -> None:
        c, d = self.config, self.data_dir()
        self.test = B.read_sib200(d, c.target, "test", task=self.spec)
        langs = list(dict.fromkeys([*c.sources, *([c.target] if c.in_language or c.mteb_fewshot else [])]))
        self.train = {lang: B.read_sib200(d, lang, "train", task=self.spec) for lang in langs}
        test_path = B.sib200_path(d, c.target, "test")
        for lang in langs:
            self._files[lang] = [B.sib200_path(d, lang, "train"), test_path]
        self._files["union"] = [*(B.sib200_path(d, s, "train") for s in c.sources), test_path]

    def _texts(self) -> list[str]:
        return [r.text for r in self.test] + [r.text for rows in self.train.values() for r in rows]

    def _evaluate(self, encoder: Encoder, batch_size: int) -> list[ResultRecord]:
        c, seed = self.config, self.eval.seed
        x_test = self._embed(encoder, [r.text for r in self.test], batch_size)
        y_test = np.array([r.category for r in self.test])
        emb = {lang: self._embed(encoder, [r.text for r in rows], batch_size) for lang, rows in self.train.items()}
        lab = {lang: np.array([r.category for r in rows]) for lang, rows in self.train.items()}
        protocol = f"logreg-transfer(C={c.C:g},max_iter={c.max_iter})/accuracy"
        runs: list[tuple[str, list[str], str]] = [(s, [s], s) for s in c.sources]
        if c.union and len(c.sources) > 1:
            runs.append(("+".join(s.split("_")[0] for s in c.sources), list(c.sources), "union"))
        if c.in_language:
            runs.append((c.target, [c.target], c.target))
        records = []
        for name, srcs, files_key in runs:
            started = time.perf_counter()
            pred = _fit_predict(np.concatenate([emb[s] for s in srcs]), np.concatenate([lab[s] for s in srcs]),
                                x_test, seed, c.C, c.max_iter)
            correct = pred == y_test
            records.append(self._record(
                encoder, f"{name}->{c.target}", protocol + (" [in-language reference]" if srcs == [c.target] else ""),
                correct, self._cls_metrics(y_test, pred, len(lab[srcs[0]]) * len(srcs)), started,
                files_key=files_key))
        if c.mteb_fewshot:
            records.append(self._mteb_fewshot(encoder, emb[c.target], lab[c.target], x_test, y_test))
        return records

    @staticmethod
    def _cls_metrics(y_true: np.ndarray, y_pred: np.ndarray, n_train: int) -> dict[str, Any]:
        from sklearn.metrics import f1_score

        return {"accuracy": float((y_true == y_pred).mean()),
                "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
                "n_train": int(n_train)}

    def _mteb_fewshot(self, encoder: Encoder, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                      y_test: np.ndarray) -> ResultRecord:
        from sklearn.metrics import f1_score

        c, seed = self.config, self.eval.seed
        started = time.perf_counter()
        rng = np.random.RandomState(seed)
        idxs = np.arange(len(y_train))
        accs, f1s, per_item = [], [], np.zeros(len(y_test))
        for _ in range(c.mteb_repeats):
            take = mteb_undersample(y_train, c.mteb_samples_per_label, rng, idxs)
            pred = _fit_predict(x_train[take], y_train[take], x_test, seed, 1.0, c.mteb_max_iter)
            accs.append(float((pred == y_test).mean()))
            f1s.append(float(f1_score(y_test, pred, average="macro", zero_division=0)))
            per_item += pred == y_test
        metrics = {"accuracy": float(np.mean(accs)), "f1": float(np.mean(f1s)),
                   "scores_per_experiment": [{"accuracy": a, "f1": f} for a, f in zip(accs, f1s, strict=True)],
                   "min_accuracy": float(min(accs)), "max_accuracy": float(max(accs))}
        return self._record(
            encoder, f"{c.target}:mteb-{c.mteb_samples_per_label}shot",
            f"mteb-SIB200Classification({c.mteb_samples_per_label}/label,{c.mteb_repeats} repeats,"
            f"max_iter={c.mteb_max_iter})/mean-accuracy", per_item / c.mteb_repeats, metrics, started,
            main_score=float(np.mean(accs)), files_key=c.target)


# ------------------------------------------------------------------------------------------ bitext


class BitextLtzConfig(BaseConfig):
    """Which Luxembourgish bitext sets to score (Tatoeba, FLORES-200 devtest, NTREX-128)."""

    tatoeba: dict[str, list[str]] = Field(default_factory=lambda: {
        "eng": ["challenge", "v2021-08-07", "v2021-03-30", "v2020-07-28"],
        "deu": ["v2021-08-07"], "nld": ["v2021-08-07"], "fra": ["challenge"]},
        description="other language -> releases ('challenge' = newest Tatoeba-Challenge file)")
    flores: list[str] = Field(default_factory=lambda: ["eng_Latn", "fra_Latn", "deu_Latn"])
    flores_max_sentences: int | None = Field(None, ge=10, description=(
        "use only the first N devtest lines (a smaller, harder-to-compare subset: its name says '/firstN')"))
    ntrex: list[str] = Field(default_factory=lambda: ["eng", "fra"])
    margin_k: int = Field(4, ge=1, description="ratio margin neighbours (Artetxe & Schwenk 2019: k=4)")
    any_translation: bool = Field(False, description="lenient gold: any translation of the query text")


class BitextLtz(Task):
    """Luxembourgish bitext retrieval: top-1 cosine (text match) both directions, margin and MTEB F1 too."""

    spec = "bitext-ltz"
    metadata = TaskMetadata(
        name="bitext-ltz", protocol="top1-cosine-text-match/mean-both-directions",
        description="Tatoeba ltz-eng (newest 387 pairs as main, dated releases), ltz-deu, ltz-nld, ltz-fra; "
        "FLORES-200 devtest ltz<->eng/fra/deu; NTREX-128 ltz<->eng/fra. A retrieval is correct when the "
        "retrieved text equals the gold text. Ratio-margin (k=4) accuracy and MTEB weighted F1 (ltz as "
        "queries) as labelled extra metrics.",
        languages=["ltz_Latn", "eng_Latn", "deu_Latn", "nld_Latn", "fra_Latn"],
        data_files=["tatoeba_ltz/", "flores200/devtest/", "ntrex128/NTREX-128/"],
        data_source="; ".join(B.SOURCES[k] for k in ("tatoeba_ltz", "flores200", "ntrex128")),
        reference="paper-notes.md (bitext mining); field-notes.md (MTEB F1 vs accuracy)",
    )

    def __init__(self, settings: Settings | None = None, eval_settings: EvalSettings | None = None,
                 config: BitextLtzConfig | None = None) -> None:
        super().__init__(settings, eval_settings)
        self.config = config or BitextLtzConfig()

    def load(self) -> None:
        d, c = self.data_dir(), self.config
        self.sets: dict[str, tuple[list[str], list[str], str, str]] = {}
        for lang, releases in c.tatoeba.items():
            for rel in releases:
                key = f"tatoeba:ltz-{lang}:{rel}"
                self.sets[key] = (*B.read_tatoeba_ltz(d, lang, rel, task=self.spec), "ltz", lang)
                self._files[key] = B.tatoeba_ltz_paths(d, lang, rel)
        if c.flores:
            n = c.flores_max_sentences
            ltz = B.read_flores(d, "ltz_Latn", task=self.spec)[:n]
            for lang in c.flores:
                key = f"flores:ltz-{lang.split('_')[0]}" + (f"/first{n}" if n else "")
                self.sets[key] = (ltz, B.read_flores(d, lang, task=self.spec)[:n], "ltz", lang.split("_")[0])
                self._files[key] = [B.flores_path(d, "ltz_Latn"), B.flores_path(d, lang)]
        if c.ntrex:
            from luxembedder.datasets.ntrex import read_ntrex

            iso1 = {"eng": "en", "fra": "fr", "deu": "de", "nld": "nl"}
            unknown = [x for x in c.ntrex if x not in iso1]
            if unknown:
                raise ConfigError(f"task {self.spec}: NTREX languages {unknown} not supported ({', '.join(iso1)})")
            try:
                corpus = read_ntrex(d, langs=("lb", *(iso1[x] for x in c.ntrex)))
            except MissingDataError as exc:
                raise MissingDataError(f"task '{self.spec}': {exc} (data source: {B.SOURCES['ntrex128']})") from None
            for lang in c.ntrex:
                key = f"ntrex:ltz-{lang}"
                self.sets[key] = (corpus.sentences["lb"], corpus.sentences[iso1[lang]], "ltz", lang)
                self._files[key] = [corpus.files["lb"], corpus.files[iso1[lang]]]

    def _texts(self) -> list[str]:
        return [t for a, b, _, _ in self.sets.values() for t in (*a, *b)]

    def _evaluate(self, encoder: Encoder, batch_size: int) -> list[ResultRecord]:
        c = self.config
        return [_bitext_record(self, encoder, key, a, b, la, lb, batch_size, c.margin_k, c.any_translation)
                for key, (a, b, la, lb) in self.sets.items()]


class BitextLrlConfig(BaseConfig):
    """Tatoeba v1 languages: low-resource set and high-resource controls (each against English)."""

    languages: list[str] = Field(default_factory=lambda: [
        "gsw", "fry", "nds", "fao", "hsb", "dsb", "swg", "ast", "cym", "gla", "oci", "bre", "lat"])
    controls: list[str] = Field(default_factory=lambda: ["deu", "fra", "nld", "ita", "spa"])
    margin_k: int = Field(4, ge=1)


class BitextLrl(Task):
    """Tatoeba v1 (LASER/MTEB) for other low-resource languages and high-resource controls."""

    spec = "bitext-lrl"
    metadata = TaskMetadata(
        name="bitext-lrl", protocol="top1-cosine-text-match/mean-both-directions",
        description="LASER Tatoeba v1 xxx<->eng for low-resource languages (gsw, fry, nds, fao, hsb, dsb, swg, "
        "ast, cym, gla, oci, bre, lat) and controls (deu, fra, nld, ita, spa); plus macro means per group.",
        languages=["gsw_Latn", "fry_Latn", "nds_Latn", "fao_Latn", "hsb_Latn", "dsb_Latn", "swg_Latn",
                   "ast_Latn", "cym_Latn", "gla_Latn", "oci_Latn", "bre_Latn", "lat_Latn", "deu_Latn",
                   "fra_Latn", "nld_Latn", "ita_Latn", "spa_Latn", "eng_Latn"],
        data_files=["tatoeba_laser_v1/"], data_source=B.SOURCES["tatoeba_v1"],
        reference="Artetxe & Schwenk 2019; mteb Tatoeba",
    )

    def __init__(self, settings: Settings | None = None, eval_settings: EvalSettings | None = None,
                 config: BitextLrlConfig | None = None) -> None:
        super().__init__(settings, eval_settings)
        self.config = config or BitextLrlConfig()

    def load(self) -> None:
        d = self.data_dir()
        self.sets: dict[str, tuple[list[str], list[str]]] = {}
        for lang in [*self.config.languages, *self.config.controls]:
            key = f"tatoeba-v1:{lang}-eng"
            self.sets[key] = B.read_tatoeba_v1(d, lang, task=self.spec)
            self._files[key] = B.tatoeba_v1_paths(d, lang)

    def _texts(self) -> list[str]:
        return [t for a, b in self.sets.values() for t in (*a, *b)]

    def _evaluate(self, encoder: Encoder, batch_size: int) -> list[ResultRecord]:
        records = [_bitext_record(self, encoder, key, a, b, key.split(":")[1][:3], "eng", batch_size,
                                  self.config.margin_k, False) for key, (a, b) in self.sets.items()]
        for group, langs in (("low-resource", self.config.languages), ("controls", self.config.controls)):
            chosen = [r for r in records if r.subset.split(":")[1][:3] in langs]
            if not chosen:
                continue
            started = time.perf_counter()
            scores = np.array([r.main_score for r in chosen])
            for r in chosen:
                self._files.setdefault(f"mean:{group}", []).extend(self._files[r.subset])
            rec = self._record(encoder, f"mean:{group}", chosen[0].protocol + "/macro-mean-over-languages",
                               scores, {"per_language": {r.subset: r.main_score for r in chosen},
                                        "n_items": int(sum(r.n for r in chosen))}, started, ci=False)
            rec.items = None
            records.append(rec)
        return records


# ------------------------------------------------------------------------------------------ triplets


class TripletTask(Task):
    """Triplet accuracy: cos(anchor, paraphrase) > cos(anchor, not_paraphrase), ties wrong, per edit_type."""

    spec = "paralux"
    metadata = TaskMetadata(
        name="paralux", protocol="triplet-accuracy(ties-wrong)",
        description="ParaLux-format paraphrase detection: share of rows where cos(anchor, paraphrase) > "
        "cos(anchor, not_paraphrase); ties count as wrong; per edit_type when present. Default data: the "
        "development reconstruction paralux_dev/paralux_dev.jsonl (not comparable to official ParaLux).",
        languages=["ltz_Latn"], data_files=["paralux_dev/paralux_dev.jsonl"],
        data_source=B.SOURCES["paralux"], reference="paper-notes.md (ParaLux)",
    )

    def __init__(self, settings: Settings | None = None, eval_settings: EvalSettings | None = None,
                 path: str | Path | None = None, spec: str | None = None, split: str | None = None) -> None:
        super().__init__(settings, eval_settings)
        self.path = Path(path) if path is not None else None
        self.split = split
        if spec is not None:
            self.spec = spec

    def load(self) -> None:
        path = self.path or B.paralux_dev_path(self.data_dir())
        self.rows = B.read_triplets(path, split=self.split, task=self.spec)
        self.subset = "paralux_dev" if self.path is None else Path(path).stem
        self._files[self.subset] = [Path(path)]
        if self.spec.startswith("triplets:"):
            self._set_file_name("triplets", Path(path))

    def _texts(self) -> list[str]:
        return [t for r in self.rows for t in (r.anchor, r.paraphrase, r.not_paraphrase)]

    def _evaluate(self, encoder: Encoder, batch_size: int) -> list[ResultRecord]:
        started = time.perf_counter()
        a = self._embed(encoder, [r.anchor for r in self.rows], batch_size)
        p = self._embed(encoder, [r.paraphrase for r in self.rows], batch_size)
        n = self._embed(encoder, [r.not_paraphrase for r in self.rows], batch_size)
        correct = M.triplet_correct(a, p, n)
        groups = [r.edit_type for r in self.rows]
        metrics: dict[str, Any] = {"accuracy": float(correct.mean()),
                                   "mean_cos_anchor_paraphrase": float(np.einsum("ij,ij->i", a, p).mean()),
                                   "mean_cos_anchor_not_paraphrase": float(np.einsum("ij,ij->i", a, n).mean())}
        if any(g is not None for g in groups):
            metrics["per_edit_type"] = M.triplet_accuracy(a, p, n, groups=groups)["per_group"]
        return [self._record(encoder, self.subset, self.metadata.protocol, correct, metrics, started)]


# ------------------------------------------------------------------------------------------ user files


class BitextFileTask(Task):
    """``bitext:PATH:SRC_COL:TGT_COL``: top-1 retrieval (text match) on two columns of a user file."""

    def __init__(self, spec: str, path: str, src_col: str, tgt_col: str, settings: Settings | None = None,
                 eval_settings: EvalSettings | None = None) -> None:
        super().__init__(settings, eval_settings)
        self.spec, self.path, self.src_col, self.tgt_col = spec, Path(path), src_col, tgt_col
        self.metadata = TaskMetadata(
            name=spec, protocol="top1-cosine-text-match/mean-both-directions",
            description=f"user bitext {path} ({src_col} <-> {tgt_col})", languages=["und_Zyyy"],
            data_files=[str(path)], data_source="user file")

    def load(self) -> None:
        self.src, self.tgt = B.read_bitext_file(self.path, self.src_col, self.tgt_col, task=self.spec)
        self._files[self.path.stem] = [self.path]
        self._set_file_name("bitext", self.path, self.src_col, self.tgt_col)

    def _texts(self) -> list[str]:
        return [*self.src, *self.tgt]

    def _evaluate(self, encoder: Encoder, batch_size: int) -> list[ResultRecord]:
        return [_bitext_record(self, encoder, self.path.stem, self.src, self.tgt, self.src_col, self.tgt_col,
                               batch_size, 4, False)]


class ClassificationFileTask(Task):
    """``classification:TRAIN:TEST``: logistic regression on frozen embeddings (columns label, text)."""

    def __init__(self, spec: str, train: str, test: str, settings: Settings | None = None,
                 eval_settings: EvalSettings | None = None, C: float = 1.0, max_iter: int = 1000) -> None:
        super().__init__(settings, eval_settings)
        self.spec, self.train_path, self.test_path = spec, Path(train), Path(test)
        self.C, self.max_iter = C, max_iter
        self.metadata = TaskMetadata(
            name=spec, protocol=f"logreg(C={C:g},max_iter={max_iter})/accuracy",
            description=f"user classification: train {train}, test {test}", languages=["und_Zyyy"],
            data_files=[str(train), str(test)], data_source="user files")

    def load(self) -> None:
        self.y_train, self.x_train = B.read_labelled_texts(self.train_path, task=self.spec)
        self.y_test, self.x_test = B.read_labelled_texts(self.test_path, task=self.spec)
        if len(set(self.y_train)) < 2:
            raise DataError("classification needs at least two labels in the training file",
                            self.train_path, field="label")
        self._files[self.test_path.stem] = [self.train_path, self.test_path]
        self._set_file_name("classification", self.train_path, self.test_path)

    def _texts(self) -> list[str]:
        return [*self.x_train, *self.x_test]

    def _evaluate(self, encoder: Encoder, batch_size: int) -> list[ResultRecord]:
        started = time.perf_counter()
        xtr = self._embed(encoder, self.x_train, batch_size)
        xte = self._embed(encoder, self.x_test, batch_size)
        pred = _fit_predict(xtr, self.y_train, xte, self.eval.seed, self.C, self.max_iter)
        y = np.asarray(self.y_test)
        return [self._record(encoder, self.test_path.stem, self.metadata.protocol, pred == y,
                             Sib200Transfer._cls_metrics(y, pred, len(xtr)), started)]


# ------------------------------------------------------------------------------------------ registry

BUILTIN_TASKS: dict[str, type[Task]] = {
    "sib200-zeroshot": Sib200ZeroShot,
    "sib200-transfer": Sib200Transfer,
    "bitext-ltz": BitextLtz,
    "paralux": TripletTask,
    "bitext-lrl": BitextLrl,
}


class SuiteConfig(BaseConfig):
    """Configuration of the whole suite (loadable from YAML; each section optional)."""

    eval: EvalSettings = Field(default_factory=EvalSettings)
    sib200_zeroshot: SibZeroShotConfig = Field(default_factory=SibZeroShotConfig)
    sib200_transfer: SibTransferConfig = Field(default_factory=SibTransferConfig)
    bitext_ltz: BitextLtzConfig = Field(default_factory=BitextLtzConfig)
    bitext_lrl: BitextLrlConfig = Field(default_factory=BitextLrlConfig)
    paralux_path: str | None = None


def available_tasks() -> list[str]:
    return list(BUILTIN_TASKS)


def get_task(spec: str, settings: Settings | None = None, config: SuiteConfig | None = None) -> Task:
    """A task from its name or a user-file spec (``bitext:PATH:SRC:TGT``, ``triplets:PATH``,
    ``classification:TRAIN:TEST``)."""
    cfg = config or SuiteConfig()
    ev = cfg.eval
    kind, _, rest = spec.partition(":")
    if not rest:
        if spec == "sib200-zeroshot":
            return Sib200ZeroShot(settings, ev, cfg.sib200_zeroshot)
        if spec == "sib200-transfer":
            return Sib200Transfer(settings, ev, cfg.sib200_transfer)
        if spec == "bitext-ltz":
            return BitextLtz(settings, ev, cfg.bitext_ltz)
        if spec == "bitext-lrl":
            return BitextLrl(settings, ev, cfg.bitext_lrl)
        if spec == "paralux":
            return TripletTask(settings, ev, path=cfg.paralux_path)
        raise ConfigError(f"unknown task {spec!r}: built-in tasks are {', '.join(BUILTIN_TASKS)}; user tasks "
                          "are bitext:PATH:SRC_COL:TGT_COL, triplets:PATH, classification:TRAIN:TEST")
    if kind == "bitext":
        parts = rest.rsplit(":", 2)
        if len(parts) != 3 or not all(parts):
            raise ConfigError(f"task {spec!r}: expected bitext:PATH:SRC_COL:TGT_COL")
        return BitextFileTask(spec, parts[0], parts[1], parts[2], settings, ev)
    if kind == "triplets":
        return TripletTask(settings, ev, path=rest, spec=spec)
    if kind == "classification":
        parts = rest.split(":")
        if len(parts) != 2 or not all(parts):
            raise ConfigError(f"task {spec!r}: expected classification:TRAIN_PATH:TEST_PATH")
        return ClassificationFileTask(spec, parts[0], parts[1], settings, ev)
    raise ConfigError(f"unknown task kind {kind!r} in {spec!r} (bitext, triplets, classification)")
