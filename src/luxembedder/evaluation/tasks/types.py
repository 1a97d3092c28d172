"""Task types that own the evaluation loop: bitext retrieval, classification (transfer), zero-shot
classification and triplets. A task family subclasses one and only loads its data."""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from luxembedder.evaluation import metrics as M
from luxembedder.evaluation.results import ResultRecord
from luxembedder.evaluation.tasks.base import MtebSlot, Task
from luxembedder.models.encoder import Encoder

# ------------------------------------------------------------------------------------------ bitext


@dataclass
class BitextSet:
    """Row-aligned sentences of one subset: ``src[i]`` translates to ``tgt[i]``."""

    src: list[str]
    tgt: list[str]
    src_lang: str
    tgt_lang: str
    files: list[Path] = field(default_factory=list)


class BitextRetrievalTask(Task):
    """Top-1 cosine retrieval both directions, correct when the retrieved text equals the gold text
    (``any_translation``: any gold translation of the query text); ratio margin and MTEB F1 as extra metrics."""

    margin_k: int = 4
    any_translation: bool = False

    def load(self) -> None:
        self.sets: dict[str, BitextSet] = self.load_sets()
        for key, s in self.sets.items():
            self._files[key] = list(s.files)

    def load_sets(self) -> dict[str, BitextSet]:
        raise NotImplementedError

    def _texts(self) -> list[str]:
        return [t for s in self.sets.values() for t in (*s.src, *s.tgt)]

    def _evaluate(self, encoder: Encoder, batch_size: int) -> list[ResultRecord]:
        return [self.score_set(encoder, key, s, batch_size) for key, s in self.sets.items()]

    def score_set(self, encoder: Encoder, subset: str, s: BitextSet, batch_size: int) -> ResultRecord:
        started = time.perf_counter()
        src, tgt, k = s.src, s.tgt, self.margin_k
        es = self._embed(encoder, src, batch_size)
        et = self._embed(encoder, tgt, batch_size)
        fwd, bwd = M.retrieval_correct(es, et, src, tgt, any_translation=self.any_translation)
        mf, mb = M.margin_retrieval_correct(es, et, src, tgt, k=k, any_translation=self.any_translation)
        mteb = M.mteb_bitext_f1(es, et)
        d1, d2 = f"{s.src_lang}2{s.tgt_lang}", f"{s.tgt_lang}2{s.src_lang}"
        metrics = {
            f"top1_cosine_text_match_{d1}": float(fwd.mean()),
            f"top1_cosine_text_match_{d2}": float(bwd.mean()),
            "top1_cosine_text_match_mean": float((fwd.mean() + bwd.mean()) / 2),
            f"margin_ratio_k{k}_text_match_{d1}": float(mf.mean()),
            f"margin_ratio_k{k}_text_match_{d2}": float(mb.mean()),
            f"margin_ratio_k{k}_text_match_mean": float((mf.mean() + mb.mean()) / 2),
            f"mteb_bitext_weighted_f1_{d1}": mteb["f1"],
            f"mteb_bitext_weighted_precision_{d1}": mteb["precision"],
            f"mteb_bitext_weighted_recall_{d1}": mteb["recall"],
            f"mteb_bitext_accuracy_by_row_{d1}": mteb["accuracy"],
            "unique_src": len(set(src)),
            "unique_tgt": len(set(tgt)),
        }
        match = "any-translation" if self.any_translation else "text-match"
        return self._record(encoder, subset, f"top1-cosine-{match}/mean-both-directions",
                            (fwd + bwd.astype(float)) / 2, metrics, started)

    @staticmethod
    def mteb_entry(record: ResultRecord) -> dict[str, Any] | None:
        """MTEB BitextMining scores of a record (ltz/xx as queries; row-index gold, weighted F1)."""
        m = record.metrics
        d = next((k.removeprefix("mteb_bitext_weighted_f1_") for k in m if k.startswith("mteb_bitext_weighted_f1_")),
                 None)
        if d is None:
            return None
        return {"precision": m.get(f"mteb_bitext_weighted_precision_{d}"),
                "recall": m.get(f"mteb_bitext_weighted_recall_{d}"), "f1": m[f"mteb_bitext_weighted_f1_{d}"],
                "accuracy": m.get(f"mteb_bitext_accuracy_by_row_{d}"), "main_score": m[f"mteb_bitext_weighted_f1_{d}"]}


# ------------------------------------------------------------------------------------------ classification


def fit_predict(x_train: np.ndarray, y_train: Sequence[str], x_test: np.ndarray, seed: int, C: float,
                max_iter: int) -> np.ndarray:
    """Logistic regression on frozen embeddings (convergence warnings silenced: max_iter is the protocol)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=C, max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x_train, np.asarray(y_train))
    return clf.predict(x_test)


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Accuracy and the F1/precision/recall averages MTEB's classification results carry."""
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

    out = {"accuracy": float(accuracy_score(y_true, y_pred))}
    for avg, suffix in (("macro", ""), ("weighted", "_weighted")):
        out[f"f1{suffix}"] = float(f1_score(y_true, y_pred, average=avg, zero_division=0))
        out[f"precision{suffix}"] = float(precision_score(y_true, y_pred, average=avg, zero_division=0))
        out[f"recall{suffix}"] = float(recall_score(y_true, y_pred, average=avg, zero_division=0))
    return out


@dataclass
class TransferRun:
    """Train on ``sources`` (keys of ``train``), test on the task's test set."""

    name: str
    sources: list[str]
    files_key: str
    protocol_suffix: str = ""


class ClassificationTask(Task):
    """Logistic regression on frozen embeddings: train sets (by key) and one labelled test set; the
    subclass lists the runs (:meth:`runs`)."""

    C: float = 1.0
    max_iter: int = 1000

    train_sets: dict[str, tuple[list[str], list[str]]]  # key -> (labels, texts)
    test_set: tuple[list[str], list[str]]

    def runs(self) -> list[TransferRun]:
        raise NotImplementedError

    def subset_name(self, run: TransferRun) -> str:
        return run.name

    @property
    def protocol(self) -> str:
        return f"logreg-transfer(C={self.C:g},max_iter={self.max_iter})/accuracy"

    def _texts(self) -> list[str]:
        return [*self.test_set[1], *(t for _, texts in self.train_sets.values() for t in texts)]

    def _embed_all(self, encoder: Encoder, batch_size: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        x_test = self._embed(encoder, self.test_set[1], batch_size)
        return x_test, {k: self._embed(encoder, texts, batch_size) for k, (_, texts) in self.train_sets.items()}

    def _evaluate(self, encoder: Encoder, batch_size: int) -> list[ResultRecord]:
        x_test, emb = self._embed_all(encoder, batch_size)
        return self._evaluate_runs(encoder, x_test, emb)

    def _evaluate_runs(self, encoder: Encoder, x_test: np.ndarray, emb: dict[str, np.ndarray]) -> list[ResultRecord]:
        y_test = np.asarray(self.test_set[0])
        records = []
        for run in self.runs():
            started = time.perf_counter()
            y_train = np.concatenate([np.asarray(self.train_sets[s][0]) for s in run.sources])
            pred = fit_predict(np.concatenate([emb[s] for s in run.sources]), y_train, x_test, self.eval.seed,
                               self.C, self.max_iter)
            metrics: dict[str, Any] = {**classification_metrics(y_test, pred), "n_train": len(y_train)}
            metrics["macro_f1"] = metrics["f1"]  # the earlier key
            records.append(self._record(encoder, self.subset_name(run), self.protocol + run.protocol_suffix,
                                        pred == y_test, metrics, started, files_key=run.files_key))
        return records


# ------------------------------------------------------------------------------------------ zero-shot


@dataclass
class LabelProtocol:
    """One zero-shot protocol: label sentences from templates (``{L}`` = the label word of each class)."""

    key: str
    templates: list[str]
    labels: dict[str, str]  # class -> label word

    def sentences(self, classes: list[str]) -> list[list[str]]:
        return [[t.replace("{L}", self.labels[c]) for c in classes] for t in self.templates]


class ZeroShotClassificationTask(Task):
    """Embed each text and one label sentence per class; predict the most similar. Accuracy per template,
    mean over templates; one record per :class:`LabelProtocol`."""

    texts_: list[str]
    gold: list[str]
    classes: list[str]
    subset: str

    def protocols(self) -> list[LabelProtocol]:
        raise NotImplementedError

    def _texts(self) -> list[str]:
        out = list(self.texts_)
        for proto in self.protocols():
            for sents in proto.sentences(self.classes):
                out.extend(sents)
        return out

    def _evaluate(self, encoder: Encoder, batch_size: int) -> list[ResultRecord]:
        from sklearn.metrics import f1_score

        records = []
        started0 = time.perf_counter()
        emb = self._embed(encoder, self.texts_, batch_size)
        gold = np.array([self.classes.index(c) for c in self.gold])
        for j, proto in enumerate(self.protocols()):
            started = started0 if j == 0 else time.perf_counter()
            correct = np.zeros((len(proto.templates), len(gold)), dtype=bool)
            per_template: dict[str, dict[str, float]] = {}
            for i, (template, sents) in enumerate(zip(proto.templates, proto.sentences(self.classes), strict=True)):
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
                "labels": {c: proto.labels[c] for c in self.classes},
            }
            records.append(self._record(
                encoder, self.subset, f"zeroshot-{proto.key}-templates/mean-accuracy-over-{len(proto.templates)}",
                correct.mean(axis=0), metrics, started, files_key=proto.key))
        return records


# ------------------------------------------------------------------------------------------ triplets


class TripletsTask(Task):
    """Triplet accuracy: cos(anchor, paraphrase) > cos(anchor, not_paraphrase), ties wrong, per edit_type."""

    rows: list[Any]  # with anchor, paraphrase, not_paraphrase, edit_type
    subset: str

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


__all__ = ["BitextRetrievalTask", "BitextSet", "ClassificationTask", "LabelProtocol", "MtebSlot", "TransferRun",
           "TripletsTask", "ZeroShotClassificationTask", "classification_metrics", "fit_predict"]
