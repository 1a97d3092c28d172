"""FLORES-200 devtest bitext retrieval of any languages against a pivot (English by default).

Not in the default suite (``bitext-ltz`` scores Luxembourgish FLORES there); the controlled experiment
(:mod:`luxembedder.analysis.experiment`) evaluates its low-resource languages with it, through the runner.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from luxembedder.config import BaseConfig
from luxembedder.datasets import benchmarks as B
from luxembedder.errors import MissingDataError
from luxembedder.evaluation.results import ResultRecord
from luxembedder.evaluation.tasks.base import LANG_PATTERN, EvalSettings, MtebSlot, TaskMetadata, register
from luxembedder.evaluation.tasks.bitext import MTEB_FLORES
from luxembedder.evaluation.tasks.types import BitextRetrievalTask, BitextSet
from luxembedder.settings import Settings
from luxembedder.text.langcodes import mteb_language


class FloresBitextConfig(BaseConfig):
    """Languages scored against ``pivot`` on FLORES-200 devtest (FLORES codes, ``xxx_Scrp``)."""

    languages: list[str] = Field(default_factory=lambda: ["ltz_Latn"], min_length=1)
    pivot: str = "eng_Latn"
    max_sentences: int | None = Field(None, ge=8, description="first N devtest lines (subset names say /firstN)")
    margin_k: int = Field(4, ge=1)

    @field_validator("languages")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        import re

        bad = [x for x in v if not re.match(LANG_PATTERN, x)]
        if bad:
            raise ValueError(f"FLORES codes look like ltz_Latn, got {bad}")
        return v


@register
class FloresBitext(BitextRetrievalTask):
    """FLORES-200 devtest xx<->pivot: top-1 cosine retrieval (text match), both directions."""

    suite_order = 10
    in_default_suite = False
    config_key = None
    metadata = TaskMetadata(
        name="flores-bitext", type="bitext-retrieval", protocol="top1-cosine-text-match/mean-both-directions",
        description="FLORES-200 devtest, each configured language against the pivot (English): top-1 cosine "
        "retrieval both directions, correct when the retrieved text equals the gold text (as bitext-ltz).",
        languages=["eng_Latn", "ltz_Latn"], data_files=["flores200/devtest/"],
        data_source=B.SOURCES["flores200"], reference="Goyal et al. 2022; NLLB Team 2022", mteb=[MTEB_FLORES],
    )

    def __init__(self, settings: Settings | None = None, eval_settings: EvalSettings | None = None,
                 config: FloresBitextConfig | None = None) -> None:
        super().__init__(settings, eval_settings)
        self.config = config or FloresBitextConfig()
        self.margin_k = self.config.margin_k

    def subset_of(self, lang: str) -> str:
        n = self.config.max_sentences
        return f"flores:{lang}-{self.config.pivot}" + (f"/first{n}" if n else "")

    def load_sets(self) -> dict[str, BitextSet]:
        d, c, n = self.data_dir(), self.config, self.config.max_sentences
        missing = [x for x in [*c.languages, c.pivot] if not B.flores_path(d, x).is_file()]
        if missing:
            raise MissingDataError(f"task '{self.spec}': no FLORES-200 devtest file for {', '.join(missing)} in "
                                   f"{B.flores_path(d, 'x').parent} (data source: {B.SOURCES['flores200']})")
        pivot = B.read_flores(d, c.pivot, task=self.spec)[:n]
        return {self.subset_of(lang): BitextSet(B.read_flores(d, lang, task=self.spec)[:n], pivot, lang, c.pivot,
                                                [B.flores_path(d, lang), B.flores_path(d, c.pivot)])
                for lang in c.languages if lang != c.pivot}

    @classmethod
    def mteb_scores(cls, record: ResultRecord) -> list[tuple[MtebSlot, dict[str, Any]]] | str:
        if "/first" in record.subset:
            return f"{record.task} / {record.subset}: a first-N subset of FLORES has no MTEB slot"
        entry = cls.mteb_entry(record)
        if entry is None:
            return f"{record.task} / {record.subset}: the record has no MTEB bitext metrics"
        a, b = record.subset.split(":")[1].split("-")
        entry.update(hf_subset=f"{a}-{b}", languages=[mteb_language(a), mteb_language(b)])
        return [(MTEB_FLORES, entry)]
