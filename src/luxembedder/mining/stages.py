"""The data-side stages of the pipeline: load → clean → article language ID → sentences (+ sentence langid).

:func:`prepare_corpus` returns two tables (plain Python lists of columns, written as Parquet by the
pipeline) and counts for the report: every input row ends up as a kept article, a dropped article with a
reason, or a rejected row; every split sentence as kept or dropped with a reason.

It is three steps, so that the per-file work can run anywhere: per input file,
:func:`~luxembedder.datasets.articles.read_article_file` (read, validate); in input order,
:meth:`ArticleLoad.add_file <luxembedder.datasets.articles.ArticleLoad.add_file>` (the duplicate-id check
across files, strict errors); per file, :func:`prepare_articles` (clean, filter, language ID, sentences);
then :func:`combine_parts` (concatenation in input order, totals). The Ray engine runs the per-file steps
as tasks (:mod:`luxembedder.mining.ray_engine`).
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from luxembedder.datasets.articles import Article, ArticleColumns, ArticleLoad, read_article_file
from luxembedder.mining.config import MiningConfig
from luxembedder.text.clean import clean_text
from luxembedder.text.langid import LanguageIdentifier
from luxembedder.text.sentences import prepare_sentences

logger = logging.getLogger(__name__)

ARTICLE_COLUMNS = ("lang", "id", "published", "day", "title", "lead", "body", "is_source", "source")
SENTENCE_COLUMNS = ("lang", "article_id", "sentence_id", "section", "position", "text")


@dataclass
class Corpus:
    """Kept articles and sentences, column-wise. Sentences are grouped by article, in article order."""

    articles: dict[str, list[Any]]
    sentences: dict[str, list[Any]]
    counts: dict[str, Any] = field(default_factory=dict)
    rejected: list[dict[str, Any]] = field(default_factory=list)


def article_columns(cfg: MiningConfig):
    """The :class:`~luxembedder.datasets.articles.ArticleColumns` for the input section."""

    cols = ArticleColumns.preset(cfg.input.column_preset)
    if cfg.input.columns:
        cols = cols.with_overrides(**cfg.input.columns)
    return cols


def shard_bounds(cfg: MiningConfig) -> tuple[_dt.date | None, _dt.date | None, _dt.date | None, _dt.date | None]:
    """(source start, source end, context start, context end): a shard keeps lb articles of [start, end] as
    sources and every article of [start - 2N, end + 2N] as targets and neighbour pool (N = window days)."""
    s, e = cfg.shard.start, cfg.shard.end
    pad = _dt.timedelta(days=2 * cfg.matching.window_days)
    return s, e, (s - pad) if s else None, (e + pad) if e else None


@dataclass
class CorpusPart:
    """The prepared articles of one input file (:func:`prepare_articles`): kept rows and drop counts."""

    articles: dict[str, list[Any]]
    sentences: dict[str, list[Any]]
    drops: Counter  # (lang, reason) -> articles
    sent_split: Counter  # lang -> sentences split
    sent_drops: Counter  # (lang, reason) -> sentences


def make_langid(cfg: MiningConfig) -> LanguageIdentifier | None:
    """The language identifier of the ``langid`` section (None when disabled)."""
    if cfg.langid.enabled and (cfg.langid.article_level or cfg.langid.sentence_level):
        return LanguageIdentifier(sorted(set(cfg.langid.languages) | set(cfg.languages())), cfg.langid.threshold)
    return None


def prepare_corpus(paths: list[Path], cfg: MiningConfig, lenient: bool = False) -> Corpus:
    """Load, clean, filter and split articles; see the module docstring.

    Every file is loaded first (a strict load fails at its first bad row before any work), then each file's
    articles are prepared (:func:`prepare_articles`) and the parts combined (:func:`combine_parts`); the
    Ray engine runs the same two functions, one task per file.
    """
    load = ArticleLoad()
    per_file = []
    for p in paths:
        part = read_article_file(p, article_columns(cfg), stop_at_error=not lenient)
        kept = load.add_file(part, lenient)
        per_file.append([a for a, k in zip(part.articles or [], kept, strict=True) if k])
    lid = make_langid(cfg)
    return combine_parts([prepare_articles(arts, cfg, lid) for arts in per_file], load, cfg)


def prepare_articles(articles: list[Article], cfg: MiningConfig, lid: LanguageIdentifier | None = None
                     ) -> CorpusPart:
    """Clean, filter (languages, date ranges, shard, body length, article language ID) and split the
    articles of one file into sentences (filters, sentence language ID), in input order.

    Each article's outcome depends on that article alone, so files can be prepared apart (``lid``: the
    :func:`make_langid` of ``cfg``, made once by the caller)."""
    from tqdm.auto import tqdm

    langs = cfg.languages()
    sources = {p.split("-")[0] for p in cfg.pairs}
    s_start, s_end, c_start, c_end = shard_bounds(cfg)
    drops: Counter = Counter()
    kept_arts: list[tuple[Any, str, str, str, bool]] = []
    for art in tqdm(articles, desc="clean", unit="article", disable=len(articles) < 1000):
        if art.lang not in langs:
            drops[(art.lang, "language-not-in-pairs")] += 1
            continue
        rng = cfg.clean.date_ranges.get(art.lang)
        if rng is not None and ((rng.start and art.published < rng.start) or (rng.end and art.published > rng.end)):
            drops[(art.lang, "outside-date-range")] += 1
            continue
        if (c_start and art.published < c_start) or (c_end and art.published > c_end):
            drops[(art.lang, "outside-shard")] += 1
            continue
        title, lead, body = clean_text(art.title), clean_text(art.lead), clean_text(art.body)
        if len(body) < cfg.clean.min_body_chars:
            drops[(art.lang, f"body<{cfg.clean.min_body_chars}-chars")] += 1
            continue
        is_source = art.lang in sources and not (
            (s_start and art.published < s_start) or (s_end and art.published > s_end))
        kept_arts.append((art, title, lead, body, is_source))

    if lid is not None and cfg.langid.article_level and kept_arts:
        ok = lid.matches([f"{t} {le} {b}"[:2000] for _, t, le, b, _ in kept_arts],
                         [a.lang for a, *_ in kept_arts])
        for (a, *_), good in zip(kept_arts, ok, strict=True):
            if not good:
                drops[(a.lang, "article-language-id")] += 1
        kept_arts = [x for x, good in zip(kept_arts, ok, strict=True) if good]

    arts: dict[str, list[Any]] = {k: [] for k in ARTICLE_COLUMNS}
    sents: dict[str, list[Any]] = {k: [] for k in SENTENCE_COLUMNS}
    sent_drops: Counter = Counter()
    sent_split: Counter = Counter()
    for art, title, lead, body, is_source in tqdm(kept_arts, desc="sentences", unit="article",
                                                  disable=len(kept_arts) < 1000):
        batch = prepare_sentences(title, lead, body, art.lang, cfg.sentences)
        sent_split[art.lang] += batch.n_split
        for reason, n in batch.dropped.items():
            sent_drops[(art.lang, reason)] += n
        for section, pos, text in batch.sentences:
            sents["lang"].append(art.lang)
            sents["article_id"].append(art.id)
            sents["sentence_id"].append(f"{art.id}:{section[0]}{pos}")
            sents["section"].append(section)
            sents["position"].append(pos)
            sents["text"].append(text)
        for k, v in (("lang", art.lang), ("id", art.id), ("published", art.published.isoformat()),
                     ("day", art.published.toordinal()), ("title", title), ("lead", lead), ("body", body),
                     ("is_source", is_source), ("source", art.source)):
            arts[k].append(v)

    if lid is not None and cfg.langid.sentence_level and sents["text"]:
        ok = lid.matches(sents["text"], sents["lang"])
        for lang in np.asarray(sents["lang"], dtype=object)[~ok]:
            sent_drops[(lang, "sentence-language-id")] += 1
        sents = {k: [v for v, good in zip(col, ok, strict=True) if good] for k, col in sents.items()}
    return CorpusPart(arts, sents, drops, sent_split, sent_drops)


def combine_parts(parts: list[CorpusPart], load: ArticleLoad, cfg: MiningConfig) -> Corpus:
    """The corpus of the files' parts (in input order) and the report's counts."""
    langs = cfg.languages()
    arts = {k: [v for p in parts for v in p.articles[k]] for k in ARTICLE_COLUMNS}
    sents = {k: [v for p in parts for v in p.sentences[k]] for k in SENTENCE_COLUMNS}
    drops: Counter = sum((p.drops for p in parts), Counter())
    sent_split: Counter = sum((p.sent_split for p in parts), Counter())
    sent_drops: Counter = sum((p.sent_drops for p in parts), Counter())
    date_span: dict[str, list[str]] = {}
    for lang, published in zip(arts["lang"], arts["published"], strict=True):
        span = date_span.setdefault(lang, [published] * 2)
        span[0], span[1] = min(span[0], published), max(span[1], published)
    per_lang_in = load.per_lang
    kept_per_lang = Counter(arts["lang"])
    counts = {
        "input": load.summary(),
        "articles": {lang: {"in": per_lang_in.get(lang, 0), "kept": kept_per_lang.get(lang, 0),
                            "sources": sum(1 for lg, s in zip(arts["lang"], arts["is_source"], strict=True)
                                           if lg == lang and s),
                            "dropped": {r: n for (lg, r), n in sorted(drops.items()) if lg == lang},
                            "date_range": date_span.get(lang)}
                     for lang in sorted(set(per_lang_in) | set(langs))},
        "sentences": {lang: {"split": sent_split.get(lang, 0), "kept": sum(1 for x in sents["lang"] if x == lang),
                             "dropped": {r: n for (lg, r), n in sorted(sent_drops.items()) if lg == lang}}
                      for lang in langs},
    }
    logger.info("prepare: %s articles kept (%s), %s sentences kept",
                len(arts["id"]), dict(kept_per_lang), len(sents["text"]))
    return Corpus(arts, sents, counts, list(load.rejected))
