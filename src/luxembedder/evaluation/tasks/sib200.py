"""SIB-200 topic classification: zero-shot by label sentences, and cross-lingual transfer (with MTEB's
8-shot SIB200Classification protocol as a labelled record)."""

from __future__ import annotations

import time
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator

from luxembedder.config import BaseConfig
from luxembedder.datasets import benchmarks as B
from luxembedder.errors import ConfigError
from luxembedder.evaluation.results import ResultRecord
from luxembedder.evaluation.tasks.base import EvalSettings, MtebSlot, TaskMetadata, register
from luxembedder.evaluation.tasks.types import (
    ClassificationTask,
    LabelProtocol,
    TransferRun,
    ZeroShotClassificationTask,
    classification_metrics,
    fit_predict,
)
from luxembedder.models.encoder import Encoder
from luxembedder.settings import Settings

SIB_CATEGORIES = ("science/technology", "travel", "politics", "health", "entertainment", "geography", "sports")

# the default files with their sha256 (as pinned in ../shared/data/MANIFEST.tsv)
SIB_LTZ_TEST = {"path": "sib200/annotated/ltz_Latn/test.tsv",
                "sha256": "e3e7d2d7039b9aa42cea7230383cc05c7ee66210ab5a696f52a5c7e1955a1aa1"}
SIB_LTZ_TRAIN = {"path": "sib200/annotated/ltz_Latn/train.tsv",
                 "sha256": "ea92437e56f51899669ee5048c8789af1d396e43f2f3a3f648be02bd32283bc0"}


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


@register
class Sib200ZeroShot(ZeroShotClassificationTask):
    """SIB-200 zero-shot: embed text and one label sentence per topic; predict the most similar."""

    suite_order = 1
    config_key = "sib200_zeroshot"
    metadata = TaskMetadata(
        name="sib200-zeroshot", type="zeroshot-classification",
        protocol="zeroshot-label-templates/mean-accuracy-over-templates",
        description="SIB-200 ltz_Latn test (204): cosine to one label sentence per topic, accuracy per "
        "template, mean over the five Luxembourgish templates; English templates as a second protocol.",
        languages=["ltz_Latn"], data_files=[SIB_LTZ_TEST],
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
        self.texts_, self.gold = [r.text for r in self.rows], [r.category for r in self.rows]
        self.classes = list(c.labels)
        self.subset = f"{c.lang}:{c.split}"
        self._files = {"lb": [path], "en": [path]}
        for labels in (c.labels, c.english_labels):
            missing = sorted(set(self.gold) - set(labels))
            if missing:
                raise ConfigError(f"task {self.spec}: no label word for categories {missing}")

    @property
    def categories(self) -> list[str]:
        return list(self.config.labels)

    def protocols(self) -> list[LabelProtocol]:
        out = [LabelProtocol("lb", self.config.templates, self.config.labels)]
        if self.config.english_templates:
            out.append(LabelProtocol("en", self.config.english_templates, self.config.english_labels))
        return out


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


MTEB_SIB = MtebSlot(task_name="SIB200Classification", split="test", task_type="Classification")


@register
class Sib200Transfer(ClassificationTask):
    """SIB-200 cross-lingual transfer to ltz_Latn test, plus the in-language reference and MTEB 8-shot."""

    suite_order = 2
    config_key = "sib200_transfer"
    metadata = TaskMetadata(
        name="sib200-transfer", type="classification", protocol="logreg-transfer/accuracy",
        description="Logistic regression on frozen embeddings of a source language's SIB-200 train split "
        "(eng, fra, deu, union), tested on ltz_Latn test; ltz train as a reference row; MTEB's 8-shot "
        "SIB200Classification protocol (8 per label, 10 seeded repeats, max_iter 100, mean), labelled.",
        languages=["ltz_Latn", "eng_Latn", "fra_Latn", "deu_Latn"],
        data_files=[SIB_LTZ_TRAIN, SIB_LTZ_TEST, "sib200/annotated/eng_Latn/train.tsv",
                    "sib200/annotated/fra_Latn/train.tsv", "sib200/annotated/deu_Latn/train.tsv"],
        data_source=B.SOURCES["sib200"], reference="paper-notes.md; mteb SIB200Classification",
        mteb=[MTEB_SIB],
    )

    def __init__(self, settings: Settings | None = None, eval_settings: EvalSettings | None = None,
                 config: SibTransferConfig | None = None) -> None:
        super().__init__(settings, eval_settings)
        self.config = config or SibTransferConfig()
        self.C, self.max_iter = self.config.C, self.config.max_iter

    def load(self) -> None:
        c, d = self.config, self.data_dir()
        test = B.read_sib200(d, c.target, "test", task=self.spec)
        self.test_set = ([r.category for r in test], [r.text for r in test])
        langs = list(dict.fromkeys([*c.sources, *([c.target] if c.in_language or c.mteb_fewshot else [])]))
        self.train_sets = {}
        for lang in langs:
            rows = B.read_sib200(d, lang, "train", task=self.spec)
            self.train_sets[lang] = ([r.category for r in rows], [r.text for r in rows])
        test_path = B.sib200_path(d, c.target, "test")
        for lang in langs:
            self._files[lang] = [B.sib200_path(d, lang, "train"), test_path]
        self._files["union"] = [*(B.sib200_path(d, s, "train") for s in c.sources), test_path]

    def runs(self) -> list[TransferRun]:
        c = self.config
        runs = [TransferRun(s, [s], s) for s in c.sources]
        if c.union and len(c.sources) > 1:
            runs.append(TransferRun("+".join(s.split("_")[0] for s in c.sources), list(c.sources), "union"))
        if c.in_language:
            runs.append(TransferRun(c.target, [c.target], c.target, " [in-language reference]"))
        return runs

    def subset_name(self, run: TransferRun) -> str:
        return f"{run.name}->{self.config.target}"

    def _evaluate(self, encoder: Encoder, batch_size: int) -> list[ResultRecord]:
        x_test, emb = self._embed_all(encoder, batch_size)
        records = self._evaluate_runs(encoder, x_test, emb)
        if self.config.mteb_fewshot:
            t = self.config.target
            records.append(self._mteb_fewshot(encoder, emb[t], np.asarray(self.train_sets[t][0]), x_test,
                                              np.asarray(self.test_set[0])))
        return records

    def _mteb_fewshot(self, encoder: Encoder, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                      y_test: np.ndarray) -> ResultRecord:
        c, seed = self.config, self.eval.seed
        started = time.perf_counter()
        rng = np.random.RandomState(seed)
        idxs = np.arange(len(y_train))
        per_item = np.zeros(len(y_test))
        experiments: list[dict[str, float]] = []
        for _ in range(c.mteb_repeats):
            take = mteb_undersample(y_train, c.mteb_samples_per_label, rng, idxs)
            pred = fit_predict(x_train[take], y_train[take], x_test, seed, 1.0, c.mteb_max_iter)
            experiments.append(classification_metrics(y_test, pred))
            per_item += pred == y_test
        keys = list(experiments[0])
        accs = [e["accuracy"] for e in experiments]
        metrics: dict[str, Any] = {k: float(np.mean([e[k] for e in experiments])) for k in keys}
        metrics.update(scores_per_experiment=experiments, min_accuracy=float(min(accs)),
                       max_accuracy=float(max(accs)))
        return self._record(
            encoder, f"{c.target}:mteb-{c.mteb_samples_per_label}shot",
            f"mteb-SIB200Classification({c.mteb_samples_per_label}/label,{c.mteb_repeats} repeats,"
            f"max_iter={c.mteb_max_iter})/mean-accuracy", per_item / c.mteb_repeats, metrics, started,
            main_score=float(np.mean(accs)), files_key=c.target)

    @classmethod
    def mteb_scores(cls, record: ResultRecord) -> list[tuple[MtebSlot, dict[str, Any]]] | str:
        if not (":mteb-" in record.subset and record.protocol.startswith("mteb-SIB200")):
            return (f"{record.task} / {record.subset}: transfer from another language has no MTEB slot "
                    "(MTEB's SIB200Classification is the in-language 8-shot protocol)")
        m = record.metrics
        lang = record.subset.split(":")[0]
        per_exp = m.get("scores_per_experiment", [])
        keys = [k for k in ("accuracy", "f1", "f1_weighted", "precision", "precision_weighted", "recall",
                            "recall_weighted") if k in m]
        entry = {k: m[k] for k in keys}
        entry.update(main_score=m.get("accuracy", record.main_score), hf_subset=lang,
                     languages=[lang.replace("_", "-")],
                     scores_per_experiment=[{k: e[k] for k in keys if k in e} for e in per_exp])
        return [(MTEB_SIB, entry)]
