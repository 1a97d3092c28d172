"""Typed configuration of the LuxAlign mining pipeline.

Every default is the value of the authors' LuxAlign scripts (github.com/fredxlpy/LuxEmbedder, ``LuxAlign/``,
summarised in ``../shared/docs/paper-notes.md``) unless the field's docstring says otherwise.
:meth:`MiningConfig.parity` reproduces those scripts; :meth:`MiningConfig.improved` switches the sentence
scorer to the ratio margin (Artetxe & Schwenk 2019) with a threshold calibrated on the NTREX comparable
benchmark (``benchmarks/mining_quality.py``).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from luxembedder.config import BaseConfig
from luxembedder.errors import ConfigError
from luxembedder.text.sentences import SentenceFilterConfig


class InputConfig(BaseConfig):
    """How article files are read. ``columns`` maps our field names to the file's column names."""

    columns: dict[str, str] = Field(default_factory=dict)
    """Field -> column overrides, e.g. ``{published: public_date, title: header, body: text}`` (RTL exports)."""
    column_preset: Literal["default", "rtl"] = "default"
    """``rtl``: the RTL.lu export columns ``public_date``/``header``/``text`` (as the paper's data)."""


class DateRange(BaseConfig):
    """Inclusive publication-date range; either end may be open."""

    start: _dt.date | None = None
    end: _dt.date | None = None


class CleanConfig(BaseConfig):
    """Article cleaning and selection (paper: HTML removed, encoding repaired, bodies < 100 chars dropped)."""

    min_body_chars: int = 100
    """Paper: articles whose cleaned body has fewer than 100 characters are dropped."""
    date_ranges: dict[str, DateRange] = Field(default_factory=dict)
    """Per-language publication-date ranges (paper: one range per language, data-set specific)."""


class LangIdConfig(BaseConfig):
    """Offline language identification (paper: OpenLID fastText; here py3langid restricted to ``languages``)."""

    enabled: bool = True
    article_level: bool = True
    sentence_level: bool = True
    threshold: float = Field(0.0, ge=0.0, le=1.0)
    """Minimum normalised probability of the predicted label. Paper: none (label equality only) -> 0.0."""
    languages: list[str] = Field(default_factory=lambda: ["lb", "en", "fr", "de"])
    """Candidate labels; German is included so that German text in lb articles is recognised as such."""


class EmbeddingConfig(BaseConfig):
    """Sentence and article embeddings."""

    model: str = "me5-small"
    """Paper: LaBSE for sentences (hub-only, so the offline default is me5-small)."""
    article_representation: Literal["title_lead_body", "mean_sentences"] = "title_lead_body"
    """Paper: OpenAI text-embedding-3-small on the body; offline: title + lead + body, truncated."""
    article_max_chars: int = Field(2000, gt=0)
    """Truncation of the article text (the encoder truncates to its own max length anyway)."""
    batch_size: int = Field(32, gt=0)
    cache_dir: Path | None = None
    """Embedding cache (keyed by model and text hash); default ``<run>/cache``. Share one between runs."""
    shard_size: int = Field(4096, gt=0)
    """Texts per cache shard: an interrupted embedding stage resumes from the last finished shard."""
    multi_process: bool = False
    """Use sentence-transformers' multi-process pool (several CPU processes / GPUs) for large inputs."""
    devices: list[str] | None = None
    """Devices for the multi-process pool (e.g. ``[cuda:0, cuda:1]``); default: CPU processes."""
    backend: Literal["torch", "torch-bf16", "onnx", "onnx-int8"] = "torch"
    """Inference backend: ``torch-bf16`` runs the torch network in bf16 where the hardware has native bf16
    (else fp32, warned); ``onnx`` / ``onnx-int8`` run the network in ONNX Runtime (``luxembedder[onnx]``).
    bf16 and int8 embeddings differ slightly from fp32, so the cache keeps every backend apart."""


class MatchingConfig(BaseConfig):
    """Article matching within a date window (paper: ``3-match_articles.py``)."""

    window_days: int = Field(1, ge=0)
    """Paper: candidates are published within ±1 day."""
    article_threshold: float = 0.50
    """Paper: best match kept if cosine ≥ 0.50."""
    sentence_stage_threshold: float = 0.65
    """Paper: the sentence stage keeps only article pairs with cosine ≥ 0.65."""
    mutual_best: bool = False
    """Keep a match only if the lb article is also the target's best lb article (paper: no)."""
    one_to_one: bool = False
    """Each target article matched at most once, greedily by cosine (paper: no)."""


class ScoringConfig(BaseConfig):
    """Sentence-pair scoring inside matched article pairs. Scores and decisions are separate."""

    method: Literal["cosine", "margin"] = "cosine"
    """Paper: cosine. ``margin``: ratio margin of Artetxe & Schwenk (2019)."""
    cosine_threshold: float = 0.70
    """Paper: every pair with cosine ≥ 0.70 is a candidate."""
    margin_k: int = Field(4, gt=0)
    """Neighbours per side for the margin (Artetxe & Schwenk 2019, LASER: k = 4)."""
    margin_mode: Literal["forward", "backward", "max", "intersection"] = "max"
    """Retrieval mode (LASER's default: max = union then greedy one-to-one by score)."""
    margin_threshold: float = 1.00
    """Accept margin ≥ this. Encoder-dependent (LASER 1.04, stopes 1.06, LaBSE ~1.2). For me5-small, whose
    cosines are compressed, ``benchmarks/mining_quality.py`` on the NTREX comparable benchmark (seed 0, mode
    max) gave mean F1 0.957 at 0.98, 0.951 at 1.00, 0.897 at 1.02, 0.706 at 1.04 (cosine ≥ 0.70: 0.941);
    on a second draw 0.949 at 0.98, 0.946 at 1.00 (cosine 0.924). 1.00 keeps the higher precision
    (docs/mining.md). Re-calibrate for other encoders."""
    margin_min_cosine: float = 0.0
    """Optional cosine floor applied together with the margin threshold (0 = none)."""
    neighbour_pool: Literal["window", "article"] = "window"
    """kNN pool: all sentences of the ±N-day window in the other language, or only the article pair."""
    index: Literal["matmul", "flat", "ivf"] = "matmul"
    """Window-pool kNN search: ``matmul`` (exact; blocked products per day, each block shared by both
    directions), FAISS ``flat`` (exact ``IndexFlatIP``) or ``ivf`` (``IndexIVFFlat``, approximate)."""
    ivf_nlist: int = Field(1024, gt=0)
    ivf_nprobe: int = Field(16, gt=0)
    compute_margin: bool = True
    """Compute the margin for every candidate even in cosine mode (reported beside the cosine)."""
    candidate_floor: float | None = None
    """Store only candidates with cosine ≥ this (None = every sentence pair of every matched article pair)."""
    threads: int | None = Field(None, gt=0)
    """Threads while scoring: BLAS/OpenMP threads of the window-kNN products, and chunks of article pairs
    scored at once (each small per-pair product always runs on one BLAS thread). None: the libraries'
    defaults and one chunk at a time. Set it explicitly on a shared CPU (oversubscribed BLAS threads were
    3× slower there)."""


class FilterConfig(BaseConfig):
    """Pair filters (paper: ``6-match_sents.py``), applied in the paper's order."""

    length_ratio: float | None = 1.5
    """Paper: character-length ratio < 1.5 in both directions (None disables)."""
    overlap: float | None = 0.8
    """Paper: drop near copies, lower-cased word-set overlap / smaller set ≥ 0.8 (None disables)."""
    exact_dedup: bool = True
    """Drop repeated (text_1, text_2) pairs, keeping the best-scored one."""
    one_to_one: bool = True
    """Paper: greedy one-to-one: best pair per lb text, then best per other-language text."""
    leakage_files: list[Path] | None = None
    """Texts that must not appear in the output. None: ``<data>/paralux_texts/benchmark_texts.txt`` if present
    (the paper's rule); [] disables."""
    extra_eval_files: list[Path] = Field(default_factory=list)
    """More evaluation text files (any table format, ``text`` column) to exclude."""
    leakage_normalize: bool = True
    """Match leakage texts after Unicode/whitespace/case normalisation (paper: exact string match)."""
    paraphrases: bool = False
    """Also mine monolingual lb paraphrase pairs inside one article (paper: optional)."""
    paraphrase_min_cos: float = 0.80
    paraphrase_max_cos: float = 0.95
    paraphrase_length_ratio: float = 2.0
    paraphrase_max_shared: float = 0.5
    paraphrase_min_unshared: int = 8


class ShardConfig(BaseConfig):
    """Restrict a run to lb articles published in [start, end] (targets and pools keep their margin)."""

    start: _dt.date | None = None
    end: _dt.date | None = None


class SourceConfig(BaseConfig):
    """Where the articles come from: written into the dataset card and the Parquet metadata of the mined
    pairs (``pairs/README.md``); no stage depends on it."""

    name: str | None = None
    """The archive or collection, e.g. ``RTL.lu news archive 2015-2023``."""
    license: str | None = None
    """Licence of the texts, e.g. ``CC BY 4.0`` (None: the card says the licence is unknown)."""
    attribution: str | None = None
    """Credit line required by the licence (CC BY data)."""
    url: str | None = None
class ExecutionConfig(BaseConfig):
    """Where the pipeline runs. Not part of any stage fingerprint: both engines give identical pairs."""

    engine: Literal["local", "ray"] = "local"
    """``local``: this process. ``ray``: prepare, embedding (a Ray Data actor pool, one model per actor) and
    per-date-shard scoring as Ray tasks (``luxembedder[ray]``; see docs/scaling.md)."""
    ray_address: str | None = None
    """``auto`` (a cluster started with ``ray start``), ``HOST:PORT``, or None: start a local Ray."""
    num_cpus: int | None = Field(None, gt=0)
    """CPUs of the local Ray started without an address (default: all of this machine's)."""
    embed_actors: int | None = Field(None, gt=0)
    """Embedding actors (one model each; default: one per GPU, else one per 2 CPUs, at least 1)."""
    actor_threads: int = Field(1, gt=0)
    """Intra-op threads of each CPU embedding actor."""
    shard_days: int = Field(30, gt=0)
    """Source days per scoring task (each task also reads the ±2N-day context of its shard)."""


class MiningConfig(BaseConfig):
    """The whole pipeline; each section fingerprints the stage(s) that depend on it."""

    input: InputConfig = Field(default_factory=InputConfig)
    clean: CleanConfig = Field(default_factory=CleanConfig)
    langid: LangIdConfig = Field(default_factory=LangIdConfig)
    sentences: Any = Field(default_factory=SentenceFilterConfig)
    """Sentence splitting and filters (the text package's ``SentenceFilterConfig``; paper: > 10 chars,
    ≥ 4 words, not ending in a 1–2 digit number plus period, placeholders for e-mail/URL/phone)."""
    embedding: EmbeddingConfig = Field(default_factory=EmbeddingConfig)
    matching: MatchingConfig = Field(default_factory=MatchingConfig)
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)
    filters: FilterConfig = Field(default_factory=FilterConfig)
    pairs: list[str] = Field(default_factory=lambda: ["lb-en", "lb-fr"])
    """Language pairs, source first (paper: lb-en and lb-fr; the source is lb)."""
    shard: ShardConfig = Field(default_factory=ShardConfig)
    source: SourceConfig = Field(default_factory=SourceConfig)
    """The articles' origin and licence, for the dataset card (not part of any stage fingerprint)."""
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    seed: int = 0
    histograms: bool = True
    """Write score histograms (PNG) per language pair."""

    @field_validator("sentences", mode="before")
    @classmethod
    def _sentences(cls, value: Any) -> Any:
        if isinstance(value, SentenceFilterConfig):
            return value
        return SentenceFilterConfig.model_validate(value or {})

    @field_validator("pairs")
    @classmethod
    def _pairs(cls, value: list[str]) -> list[str]:
        out = []
        for p in value:
            parts = p.strip().split("-")
            if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
                raise ValueError(f"language pair '{p}' must look like 'lb-en'")
            out.append(f"{parts[0].lower()}-{parts[1].lower()}")
        if not out:
            raise ValueError("at least one language pair is needed")
        return out

    @model_validator(mode="after")
    def _thresholds(self) -> MiningConfig:
        if self.matching.sentence_stage_threshold < self.matching.article_threshold:
            raise ValueError("matching.sentence_stage_threshold must be ≥ matching.article_threshold")
        return self

    def languages(self) -> list[str]:
        """All languages of the configured pairs, source languages first."""
        out: list[str] = []
        for p in self.pairs:
            for lang in p.split("-"):
                if lang not in out:
                    out.append(lang)
        return out

    @classmethod
    def parity(cls, **overrides: Any) -> MiningConfig:
        """The authors' LuxAlign scripts: cosine ≥ 0.70, article thresholds 0.50/0.65, ±1 day, best match
        per lb article (no mutual-best, no one-to-one), length ratio 1.5, overlap 0.8, greedy one-to-one on
        texts, exact-string leakage exclusion."""
        cfg = cls(
            matching=MatchingConfig(),
            scoring=ScoringConfig(method="cosine", cosine_threshold=0.70),
            filters=FilterConfig(leakage_normalize=False),
        )
        return cfg.with_overrides(**overrides) if overrides else cfg

    @classmethod
    def improved(cls, **overrides: Any) -> MiningConfig:
        """Margin scoring over the ±N-day neighbour pool (max retrieval), mutual-best article matching."""
        cfg = cls(
            matching=MatchingConfig(mutual_best=True),
            scoring=ScoringConfig(method="margin", margin_mode="max", neighbour_pool="window"),
        )
        return cfg.with_overrides(**overrides) if overrides else cfg

    @classmethod
    def preset(cls, name: str) -> MiningConfig:
        if name == "parity":
            return cls.parity()
        if name == "improved":
            return cls.improved()
        raise ConfigError(f"unknown mining preset '{name}' (expected 'parity' or 'improved')")

    def section_hash(self, *sections: str) -> str:
        """Stable hash of the named sections (stage fingerprints)."""
        dump = self.model_dump(mode="json")
        payload = json.dumps({s: dump[s] for s in sections}, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]
