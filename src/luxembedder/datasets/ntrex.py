"""NTREX-128 reader and the comparable-news mining benchmark built from it.

NTREX-128 (Federmann et al. 2022) holds 1,997 WMT19 news sentences (123 documents, ``DOCUMENT_IDS.tsv``)
with professional translations into Luxembourgish, French, German, Dutch, ... The English source is
``newstest2019-src.eng.txt``.

:func:`build_comparable_benchmark` turns each document into one article per language, published on nearby
days, with sentences dropped and locally reordered in the non-lb versions, plus distractor articles (whole
held-out documents, published in one language only, so they have no true counterpart). Because every
sentence is a translation of a known line, the true sentence alignments and article pairs are known:
:func:`evaluate_mined_pairs` and :func:`evaluate_article_matches` score a mining run against them.

Gold file format (``gold.jsonl``), one JSON object per line, ``type`` one of:

- ``article_pair``: ``{pair: "lb-en", lb_id, other_id, doc}``
- ``unpaired_article``: ``{lang, id, doc, pairs: ["lb-en", ...]}``: an article with no counterpart in the
  listed pairs (its correct article match is "none")
- ``sentence_pair``: ``{pair, lb_article, other_article, lb, other, lb_line, other_line}`` (texts as
  written in the articles; ``*_line`` are 0-based NTREX line numbers)
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from luxembedder.errors import ConfigError, DataError, MissingDataError
from luxembedder.text.normalize import match_key
from luxembedder.utils.io import atomic_write_json, sha256_file, write_jsonl
from luxembedder.utils.provenance import versions

logger = logging.getLogger(__name__)


def _ntrex_files() -> dict[str, str]:
    """Language (ISO 639-1) -> file name inside ``NTREX-128/``."""
    return {
        "lb": "newstest2019-ref.ltz.txt",
        "en": "newstest2019-src.eng.txt",
        "fr": "newstest2019-ref.fra.txt",
        "de": "newstest2019-ref.deu.txt",
        "nl": "newstest2019-ref.nld.txt",
    }


@dataclass
class NtrexCorpus:
    """Line-aligned NTREX sentences per language, with each line's document id."""

    sentences: dict[str, list[str]]
    doc_ids: list[str]
    files: dict[str, Path]
    root: Path | None = None

    def documents(self) -> dict[str, list[int]]:
        """Document id -> its line indices (0-based), in corpus order."""
        docs: dict[str, list[int]] = {}
        for i, d in enumerate(self.doc_ids):
            docs.setdefault(d, []).append(i)
        return docs

    def sha256(self) -> dict[str, str]:
        """sha256 of every file read (for provenance records)."""
        return {k: sha256_file(p) for k, p in self.files.items()}


def _ntrex_root(data_dir: Path) -> Path:
    data_dir = Path(data_dir)
    for cand in (data_dir / "ntrex128", data_dir, data_dir.parent):
        if (cand / "DOCUMENT_IDS.tsv").is_file() and (cand / "NTREX-128").is_dir():
            return cand
    raise MissingDataError(
        f"NTREX-128 not found under {data_dir}: expected {data_dir / 'ntrex128' / 'DOCUMENT_IDS.tsv'} and "
        f"{data_dir / 'ntrex128' / 'NTREX-128'}/ (see ../shared/data/README.md)"
    )


def _read_lines(path: Path) -> list[str]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DataError("not valid UTF-8", path, line) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln.rstrip("\r") for ln in lines]


def read_ntrex(data_dir: Path | str, langs: Sequence[str] = ("lb", "en", "fr", "de", "nl")) -> NtrexCorpus:
    """Read NTREX-128 from the data directory (or the ``ntrex128`` folder itself).

    Validates that every language file has one line per ``DOCUMENT_IDS.tsv`` row and no empty lines.
    """
    root = _ntrex_root(Path(data_dir))
    names = _ntrex_files()
    ids_path = root / "DOCUMENT_IDS.tsv"
    doc_ids = [ln.split("\t")[0].strip() for ln in _read_lines(ids_path)]
    for i, d in enumerate(doc_ids, start=1):
        if not d:
            raise DataError("empty document id", ids_path, i)
    files: dict[str, Path] = {"doc_ids": ids_path}
    sentences: dict[str, list[str]] = {}
    for lang in langs:
        if lang not in names:
            raise ConfigError(f"NTREX language '{lang}' not supported here (known: {', '.join(names)})")
        path = root / "NTREX-128" / names[lang]
        if not path.is_file():
            raise MissingDataError(f"NTREX-128 file for '{lang}' not found: {path}")
        lines = _read_lines(path)
        if len(lines) != len(doc_ids):
            raise DataError(f"{len(lines)} lines, but {ids_path.name} has {len(doc_ids)}: files are not "
                            "line-aligned", path)
        for i, s in enumerate(lines, start=1):
            if not s.strip():
                raise DataError("empty sentence", path, i)
        sentences[lang] = lines
        files[lang] = path
    return NtrexCorpus(sentences=sentences, doc_ids=doc_ids, files=files, root=root)


# ------------------------------------------------------------------------------------------- benchmark

@dataclass
class ComparableBenchmark:
    """Paths and counts of a generated benchmark."""

    out_dir: Path
    articles_path: Path
    gold_path: Path
    meta_path: Path
    meta: dict[str, Any] = field(default_factory=dict)


def _local_shuffle(n: int, window: int, rng: np.random.Generator) -> np.ndarray:
    """A permutation in which no item moves ``window`` or more places (sort by index + U(0, window))."""
    if window <= 1 or n <= 1:
        return np.arange(n)
    return np.argsort(np.arange(n) + rng.uniform(0.0, window, size=n), kind="stable")


def _article(art_id: str, lang: str, day: _dt.date, sents: list[str]) -> dict[str, Any]:
    """Our article row; the document id and role stay out of it (they are in the gold file only)."""
    title = sents[0]
    lead = sents[1] if len(sents) > 2 else ""
    body = sents[2:] if len(sents) > 2 else sents[1:]
    return {"id": art_id, "lang": lang, "published": day.isoformat(), "title": title, "lead": lead,
            "body": "\n".join(body), "url": None, "category": "news"}


def build_comparable_benchmark(
    corpus: NtrexCorpus,
    out_dir: Path | str,
    seed: int = 0,
    drop_fraction: float = 0.15,
    shuffle_window: int = 3,
    distractors_per_day: float = 1.0,
    langs: Sequence[str] = ("lb", "en", "fr"),
    n_days: int = 14,
    start_date: _dt.date = _dt.date(2019, 11, 4),
    partial_fraction: float = 0.15,
    next_day_fraction: float = 0.5,
) -> ComparableBenchmark:
    """Build the comparable-news benchmark (``articles.jsonl``, ``gold.jsonl``, ``benchmark.json``).

    - Documents are split into *paired* documents and *held-out* ones. Held-out documents become
      distractors: ``round(distractors_per_day * n_days * len(langs))`` of them (at most half the corpus),
      each published in ONE language only (round robin over ``langs``), so none has a true counterpart.
    - Each paired document is published in ``langs[0]`` (the pivot, ``lb``) on a random day of
      ``n_days`` starting at ``start_date``, and in each other language on the same day or (with
      probability ``next_day_fraction``) the next day. With probability ``partial_fraction`` a paired
      document misses one of the non-pivot languages (when there are at least two).
    - Article = title (first sentence), lead (second sentence), body (the rest, one sentence per line).
      Non-pivot versions drop ``drop_fraction`` of their non-title sentences and shuffle the rest locally
      (no sentence moves ``shuffle_window`` or more places).
    - Article ids are opaque (``{lang}-{number}``) so they reveal nothing about the pairing.

    Deterministic for a seed: the same inputs give byte-identical files.
    """
    langs = tuple(langs)
    if len(langs) < 2:
        raise ConfigError("langs: need the pivot language and at least one other")
    missing = [lg for lg in langs if lg not in corpus.sentences]
    if missing:
        raise ConfigError(f"langs: {missing} not in the corpus (read: {list(corpus.sentences)})")
    if not 0.0 <= drop_fraction < 1.0:
        raise ConfigError("drop_fraction must be in [0, 1)")
    if n_days < 1:
        raise ConfigError("n_days must be >= 1")
    pivot, others = langs[0], langs[1:]
    rng = np.random.default_rng(seed)
    docs = corpus.documents()
    doc_names = list(docs)
    order = rng.permutation(len(doc_names))
    n_held = min(round(distractors_per_day * n_days * len(langs)), len(doc_names) // 2)
    held = [doc_names[i] for i in order[:n_held]]
    paired = [doc_names[i] for i in order[n_held:]]

    articles: list[dict[str, Any]] = []
    gold: list[dict[str, Any]] = []
    days = [start_date + _dt.timedelta(days=int(d)) for d in range(n_days + 1)]

    # Paired documents -----------------------------------------------------------------------------
    for doc in paired:
        lines = docs[doc]
        day_i = int(rng.integers(n_days))
        present = list(others)
        if len(others) > 1 and rng.random() < partial_fraction:
            present.pop(int(rng.integers(len(present))))
        pivot_art = {"lang": pivot, "lines": list(lines), "day": days[day_i]}
        arts = [(pivot, pivot_art)]
        for lg in present:
            rest = lines[1:]
            n_drop = round(drop_fraction * len(rest))
            keep_mask = np.ones(len(rest), dtype=bool)
            if n_drop:
                keep_mask[rng.choice(len(rest), size=n_drop, replace=False)] = False
            kept = [ln for ln, k in zip(rest, keep_mask, strict=True) if k]
            perm = _local_shuffle(len(kept), shuffle_window, rng)
            kept = [kept[i] for i in perm]
            day = days[day_i + (1 if rng.random() < next_day_fraction else 0)]
            arts.append((lg, {"lang": lg, "lines": [lines[0], *kept], "day": day}))
        for _, a in arts:
            a["doc"] = doc
            a["role"] = "paired"
        articles.extend(a for _, a in arts)
        versions_by_lang = dict(arts)  # gold is filled in after ids are assigned
        for a in versions_by_lang.values():
            a["_versions"] = versions_by_lang

    # Held-out documents: distractors in one language each -------------------------------------------
    for k, doc in enumerate(held):
        lg = langs[k % len(langs)]
        articles.append({"lang": lg, "lines": list(docs[doc]), "day": days[int(rng.integers(n_days))],
                         "doc": doc, "role": "distractor"})

    # Opaque ids: a random number per article, then sort output by (day, lang, id) -----------------------
    ids = rng.permutation(len(articles))
    for a, num in zip(articles, ids, strict=True):
        a["id"] = f"{a['lang']}-{int(num):04d}"
    rows = []
    for a in articles:
        texts = [corpus.sentences[a["lang"]][i] for i in a["lines"]]
        rows.append(_article(a["id"], a["lang"], a["day"], texts))
    rows.sort(key=lambda r: (r["published"], r["lang"], r["id"]))

    for a in articles:
        if a["role"] == "distractor":
            gold.append({"type": "unpaired_article", "lang": a["lang"], "id": a["id"], "doc": a["doc"],
                         "pairs": [f"{pivot}-{o}" for o in others] if a["lang"] == pivot
                         else [f"{pivot}-{a['lang']}"]})
            continue
        if a["lang"] != pivot:
            continue
        vers = a["_versions"]
        for lg in others:
            pair = f"{pivot}-{lg}"
            if lg not in vers:
                gold.append({"type": "unpaired_article", "lang": pivot, "id": a["id"], "doc": a["doc"],
                             "pairs": [pair]})
                continue
            o = vers[lg]
            gold.append({"type": "article_pair", "pair": pair, "lb_id": a["id"], "other_id": o["id"],
                         "doc": a["doc"]})
            present_lines = set(o["lines"])
            for ln in a["lines"]:
                if ln in present_lines:
                    gold.append({"type": "sentence_pair", "pair": pair, "lb_article": a["id"],
                                 "other_article": o["id"], "lb": corpus.sentences[pivot][ln],
                                 "other": corpus.sentences[lg][ln], "lb_line": ln, "other_line": ln})

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    articles_path = write_jsonl(out / "articles.jsonl", rows)
    gold_path = write_jsonl(out / "gold.jsonl", gold)
    counts: dict[str, Any] = {
        "documents": len(doc_names), "paired_documents": len(paired), "distractor_documents": len(held),
        "articles": {lg: sum(1 for r in rows if r["lang"] == lg) for lg in langs},
        "distractor_articles": {lg: sum(1 for a in articles if a["role"] == "distractor" and a["lang"] == lg)
                                for lg in langs},
        "article_pairs": {f"{pivot}-{o}": sum(1 for g in gold if g["type"] == "article_pair"
                                                and g["pair"] == f"{pivot}-{o}") for o in others},
        "sentence_pairs": {f"{pivot}-{o}": sum(1 for g in gold if g["type"] == "sentence_pair"
                                                 and g["pair"] == f"{pivot}-{o}") for o in others},
    }
    meta = {
        "benchmark": "ntrex-comparable",
        "seed": seed,
        "params": {"drop_fraction": drop_fraction, "shuffle_window": shuffle_window,
                   "distractors_per_day": distractors_per_day, "langs": list(langs), "n_days": n_days,
                   "start_date": start_date.isoformat(), "partial_fraction": partial_fraction,
                   "next_day_fraction": next_day_fraction},
        "counts": counts,
        "source": {k: {"path": str(p), "sha256": sha256_file(p)} for k, p in corpus.files.items()},
        "files": {"articles": "articles.jsonl", "gold": "gold.jsonl"},
    }

    meta["versions"] = {k: v for k, v in versions().items() if k in ("python", "luxembedder", "numpy")}
    meta_path = atomic_write_json(out / "benchmark.json", meta)
    logger.info("NTREX comparable benchmark: %s", counts)
    return ComparableBenchmark(out_dir=out, articles_path=articles_path, gold_path=gold_path,
                               meta_path=meta_path, meta=meta)


# ----------------------------------------------------------------------------------------- evaluation

def load_gold(gold: str | Path | Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Gold rows from a ``gold.jsonl`` path or an iterable of rows."""
    if isinstance(gold, str | Path):
        path = Path(gold)
        if not path.is_file():
            raise MissingDataError(f"gold file not found: {path}")
        rows = []
        for i, ln in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if ln.strip():
                try:
                    rows.append(json.loads(ln))
                except json.JSONDecodeError as exc:
                    raise DataError(f"malformed JSON: {exc.msg}", path, i) from None
        return rows
    return list(gold)


normalize_for_match = match_key  # the earlier name (luxembedder.text.normalize: one key for matching)


def _get(row: dict[str, Any], keys: Sequence[str]) -> Any:
    for k in keys:
        if k in row:
            return row[k]
    raise KeyError(f"none of the keys {list(keys)} in row {sorted(row)}")


def evaluate_mined_pairs(
    pairs: Iterable[dict[str, Any]], gold: str | Path | Iterable[dict[str, Any]], pair: str
) -> dict[str, Any]:
    """Precision, recall and F1 of mined sentence pairs for one language pair (e.g. ``"lb-en"``).

    ``pairs`` rows use LuxAlign's format (``text_1`` = lb, ``text_2`` = other; ``lb``/``other`` also work).
    A mined pair is correct when both sides equal (under :func:`normalize_for_match`) the two sides of one
    gold alignment, or, failing that, when both sides are fragments (substrings) of the same gold
    alignment's sides: a splitter that cuts one gold line in two produces fragments that are still
    correct translations. Recall counts gold alignments hit by at least one mined pair.
    """
    rows = load_gold(gold)
    gold_pairs = [(normalize_for_match(g["lb"]), normalize_for_match(g["other"]))
                  for g in rows if g.get("type") == "sentence_pair" and g.get("pair") == pair]
    exact: dict[tuple[str, str], list[int]] = {}
    by_lb: dict[str, list[int]] = {}
    for i, (lb, ot) in enumerate(gold_pairs):
        exact.setdefault((lb, ot), []).append(i)
        by_lb.setdefault(lb, []).append(i)
    hit = np.zeros(len(gold_pairs), dtype=bool)
    tp = fp = n = exact_tp = 0
    for p in pairs:
        n += 1
        lb = normalize_for_match(str(_get(p, ("text_1", "lb", "src"))))
        ot = normalize_for_match(str(_get(p, ("text_2", "other", "tgt"))))
        idx = exact.get((lb, ot))
        if idx:
            exact_tp += 1
        elif lb and ot:
            idx = [i for i, (glb, got) in enumerate(gold_pairs) if lb in glb and ot in got]
        if idx:
            tp += 1
            hit[idx] = True
        else:
            fp += 1
    n_gold = len(gold_pairs)
    precision = tp / n if n else 0.0
    recall = float(hit.sum()) / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"pair": pair, "mined": n, "gold": n_gold, "true_positives": tp, "exact_matches": exact_tp,
            "false_positives": fp, "gold_found": int(hit.sum()),
            "precision": precision, "recall": recall, "f1": f1}


def evaluate_article_matches(
    matches: Iterable[dict[str, Any]], gold: str | Path | Iterable[dict[str, Any]], pair: str | None = None
) -> dict[str, Any]:
    """Accuracy of article matching against the gold article pairs, per language pair.

    ``matches`` rows: ``lb_id`` (or ``article_id_1``/``source_id``), ``other_id`` (or ``article_id_2``/
    ``target_id``; ``None`` = no match) and, when ``pair`` is not given, ``pair``. Every gold pivot article
    of the pair counts: its correct answer is its true counterpart, or "no match" for articles without one.
    A pivot article absent from ``matches`` counts as "no match". Also returns precision and recall of the
    predicted (non-empty) matches.
    """
    rows = load_gold(gold)
    pairs_in_gold = sorted({g["pair"] for g in rows if g.get("type") == "article_pair"}
                           | {p for g in rows if g.get("type") == "unpaired_article" for p in g["pairs"]})
    wanted = [pair] if pair else pairs_in_gold
    preds: dict[tuple[str, str], str | None] = {}
    for m in matches:
        mp = pair or m.get("pair")
        if mp is None:
            raise ConfigError("article matches need a 'pair' field when pair= is not given")
        preds[(mp, str(_get(m, ("lb_id", "article_id_1", "lb_article", "source_id"))))] = (
            None if (v := _get(m, ("other_id", "article_id_2", "other_article", "target_id"))) is None
            else str(v))
    out: dict[str, Any] = {}
    for pr in wanted:
        pivot = pr.split("-")[0]
        truth: dict[str, str | None] = {g["lb_id"]: g["other_id"] for g in rows
                                        if g.get("type") == "article_pair" and g["pair"] == pr}
        for g in rows:
            if g.get("type") == "unpaired_article" and g["lang"] == pivot and pr in g["pairs"]:
                truth[g["id"]] = None
        correct = sum(1 for a, t in truth.items() if preds.get((pr, a)) == t)
        predicted = [(a, o) for (p2, a), o in preds.items() if p2 == pr and o is not None]
        right = sum(1 for a, o in predicted if truth.get(a) == o)
        n_true = sum(1 for t in truth.values() if t is not None)
        out[pr] = {"articles": len(truth), "correct": correct,
                   "accuracy": correct / len(truth) if truth else 0.0,
                   "predicted_matches": len(predicted), "true_matches": n_true,
                   "precision": right / len(predicted) if predicted else 0.0,
                   "recall": right / n_true if n_true else 0.0}
    return out[pair] if pair else out
