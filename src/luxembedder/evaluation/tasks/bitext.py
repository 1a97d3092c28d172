"""Luxembourgish bitext retrieval: Tatoeba (Tatoeba-Challenge releases), FLORES-200 devtest, NTREX-128."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from luxembedder.config import BaseConfig
from luxembedder.datasets import benchmarks as B
from luxembedder.datasets.ntrex import read_ntrex
from luxembedder.errors import ConfigError, MissingDataError
from luxembedder.evaluation.results import ResultRecord
from luxembedder.evaluation.tasks.base import EvalSettings, MtebSlot, TaskMetadata, register
from luxembedder.evaluation.tasks.types import BitextRetrievalTask, BitextSet
from luxembedder.settings import Settings
from luxembedder.text.langcodes import mteb_language, to_iso639_1, to_iso639_3


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


MTEB_TATOEBA = MtebSlot(task_name="Tatoeba", split="test", task_type="BitextMining")
MTEB_FLORES = MtebSlot(task_name="FloresBitextMining", split="devtest", task_type="BitextMining")
MTEB_NTREX = MtebSlot(task_name="NTREXBitextMining", split="test", task_type="BitextMining",
                      subsets=["ltz_Latn-deu_Latn", "ltz_Latn-eng_Latn", "ltz_Latn-nld_Latn"])  # mteb 2.26 metadata


@register
class BitextLtz(BitextRetrievalTask):
    """Luxembourgish bitext retrieval: top-1 cosine (text match) both directions, margin and MTEB F1 too."""

    suite_order = 3
    config_key = "bitext_ltz"
    metadata = TaskMetadata(
        name="bitext-ltz", type="bitext-retrieval", protocol="top1-cosine-text-match/mean-both-directions",
        description="Tatoeba ltz-eng (newest 387 pairs as main, dated releases), ltz-deu, ltz-nld, ltz-fra; "
        "FLORES-200 devtest ltz<->eng/fra/deu; NTREX-128 ltz<->eng/fra. A retrieval is correct when the "
        "retrieved text equals the gold text. Ratio-margin (k=4) accuracy and MTEB weighted F1 (ltz as "
        "queries) as labelled extra metrics.",
        languages=["ltz_Latn", "eng_Latn", "deu_Latn", "nld_Latn", "fra_Latn"],
        data_files=["tatoeba_ltz/", "flores200/devtest/", "ntrex128/NTREX-128/"],
        data_source="; ".join(B.SOURCES[k] for k in ("tatoeba_ltz", "flores200", "ntrex128")),
        reference="paper-notes.md (bitext mining); field-notes.md (MTEB F1 vs accuracy)",
        mteb=[MTEB_FLORES, MTEB_NTREX],
    )

    def __init__(self, settings: Settings | None = None, eval_settings: EvalSettings | None = None,
                 config: BitextLtzConfig | None = None) -> None:
        super().__init__(settings, eval_settings)
        self.config = config or BitextLtzConfig()
        self.margin_k, self.any_translation = self.config.margin_k, self.config.any_translation

    def load_sets(self) -> dict[str, BitextSet]:
        d, c = self.data_dir(), self.config
        self.check_languages([*c.tatoeba, *c.flores, *c.ntrex], "languages")
        sets: dict[str, BitextSet] = {}
        for lang, releases in c.tatoeba.items():
            for rel in releases:
                src, tgt = B.read_tatoeba_ltz(d, lang, rel, task=self.spec)
                sets[f"tatoeba:ltz-{lang}:{rel}"] = BitextSet(src, tgt, "ltz", lang, B.tatoeba_ltz_paths(d, lang, rel))
        if c.flores:
            n = c.flores_max_sentences
            ltz = B.read_flores(d, "ltz_Latn", task=self.spec)[:n]
            for lang in c.flores:
                iso3 = to_iso639_3(lang)
                sets[f"flores:ltz-{iso3}" + (f"/first{n}" if n else "")] = BitextSet(
                    ltz, B.read_flores(d, lang, task=self.spec)[:n], "ltz", iso3,
                    [B.flores_path(d, "ltz_Latn"), B.flores_path(d, lang)])
        if c.ntrex:
            supported = ("eng", "fra", "deu", "nld")
            unknown = [x for x in c.ntrex if x not in supported]
            if unknown:
                raise ConfigError(f"task {self.spec}: NTREX languages {unknown} not supported ({', '.join(supported)})")
            try:
                corpus = read_ntrex(d, langs=("lb", *(to_iso639_1(x) for x in c.ntrex)))
            except MissingDataError as exc:
                raise MissingDataError(f"task '{self.spec}': {exc} (data source: {B.SOURCES['ntrex128']})") from None
            for lang in c.ntrex:
                iso1 = to_iso639_1(lang)
                sets[f"ntrex:ltz-{lang}"] = BitextSet(corpus.sentences["lb"], corpus.sentences[iso1], "ltz", lang,
                                                      [corpus.files["lb"], corpus.files[iso1]])
        return sets

    @classmethod
    def mteb_scores(cls, record: ResultRecord) -> list[tuple[MtebSlot, dict[str, Any]]] | str:
        entry = cls.mteb_entry(record)
        if entry is None:
            return f"{record.task} / {record.subset}: the record has no MTEB bitext metrics"
        family, _, rest = record.subset.partition(":")
        pair = rest.split(":")[0]
        if "/first" in pair:
            return (f"{record.task} / {record.subset}: a first-N subset of FLORES has no MTEB slot "
                    "(MTEB scores the whole devtest)")
        a, b = pair.split("-")
        la, lb = mteb_language(a), mteb_language(b)
        if family == "tatoeba":
            return (f"{record.task} / {record.subset}: Tatoeba-Challenge data; MTEB's Tatoeba is the LASER v1 set "
                    "and has no ltz subset")
        if family in ("flores", "ntrex"):
            entry.update(hf_subset=f"{la.replace('-', '_')}-{lb.replace('-', '_')}", languages=[la, lb])
            return [(MTEB_FLORES if family == "flores" else MTEB_NTREX, entry)]
        return f"{record.task} / {record.subset}: unknown subset family {family!r}"
