"""Tatoeba v1 (LASER / MTEB Tatoeba) for other low-resource languages, with high-resource controls."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from pydantic import Field

from luxembedder.config import BaseConfig
from luxembedder.datasets import benchmarks as B
from luxembedder.evaluation.results import ResultRecord
from luxembedder.evaluation.tasks.base import EvalSettings, MtebSlot, TaskMetadata, register
from luxembedder.evaluation.tasks.bitext import MTEB_TATOEBA
from luxembedder.evaluation.tasks.types import BitextRetrievalTask, BitextSet
from luxembedder.models.encoder import Encoder
from luxembedder.settings import Settings
from luxembedder.text.langcodes import mteb_language


class BitextLrlConfig(BaseConfig):
    """Tatoeba v1 languages: low-resource set and high-resource controls (each against English)."""

    languages: list[str] = Field(default_factory=lambda: [
        "gsw", "fry", "nds", "fao", "hsb", "dsb", "swg", "ast", "cym", "gla", "oci", "bre", "lat"])
    controls: list[str] = Field(default_factory=lambda: ["deu", "fra", "nld", "ita", "spa"])
    margin_k: int = Field(4, ge=1)
    max_pairs: int | None = Field(None, ge=4, description="first N pairs per language (subset names say /firstN)")


@register
class BitextLrl(BitextRetrievalTask):
    """Tatoeba v1 (LASER/MTEB) for other low-resource languages and high-resource controls."""

    suite_order = 5
    config_key = "bitext_lrl"
    metadata = TaskMetadata(
        name="bitext-lrl", type="bitext-retrieval", protocol="top1-cosine-text-match/mean-both-directions",
        description="LASER Tatoeba v1 xxx<->eng for low-resource languages (gsw, fry, nds, fao, hsb, dsb, swg, "
        "ast, cym, gla, oci, bre, lat) and controls (deu, fra, nld, ita, spa); plus macro means per group.",
        languages=["gsw_Latn", "fry_Latn", "nds_Latn", "fao_Latn", "hsb_Latn", "dsb_Latn", "swg_Latn",
                   "ast_Latn", "cym_Latn", "gla_Latn", "oci_Latn", "bre_Latn", "lat_Latn", "deu_Latn",
                   "fra_Latn", "nld_Latn", "ita_Latn", "spa_Latn", "eng_Latn"],
        data_files=["tatoeba_laser_v1/"], data_source=B.SOURCES["tatoeba_v1"],
        reference="Artetxe & Schwenk 2019; mteb Tatoeba", mteb=[MTEB_TATOEBA],
    )

    def __init__(self, settings: Settings | None = None, eval_settings: EvalSettings | None = None,
                 config: BitextLrlConfig | None = None) -> None:
        super().__init__(settings, eval_settings)
        self.config = config or BitextLrlConfig()
        self.margin_k = self.config.margin_k

    def subset_of(self, lang: str) -> str:
        n = self.config.max_pairs
        return f"tatoeba-v1:{lang}-eng" + (f"/first{n}" if n else "")

    def load_sets(self) -> dict[str, BitextSet]:
        d = self.data_dir()
        sets = {}
        for lang in [*self.config.languages, *self.config.controls]:
            src, eng = B.read_tatoeba_v1(d, lang, task=self.spec)
            n = self.config.max_pairs
            sets[self.subset_of(lang)] = BitextSet(src[:n], eng[:n], lang, "eng", B.tatoeba_v1_paths(d, lang))
        return sets

    def _evaluate(self, encoder: Encoder, batch_size: int) -> list[ResultRecord]:
        records = super()._evaluate(encoder, batch_size)
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

    @classmethod
    def mteb_scores(cls, record: ResultRecord) -> list[tuple[MtebSlot, dict[str, Any]]] | str:
        if record.subset.startswith("mean:"):
            return f"{record.task} / {record.subset}: a macro mean over languages has no MTEB slot"
        if "/first" in record.subset:
            return f"{record.task} / {record.subset}: a first-N subset of Tatoeba has no MTEB slot"
        entry = cls.mteb_entry(record)
        if entry is None:
            return f"{record.task} / {record.subset}: the record has no MTEB bitext metrics"
        a, b = record.subset.split(":")[1].split("/")[0].split("-")
        entry.update(hf_subset=f"{a}-{b}", languages=[mteb_language(a), mteb_language(b)])
        return [(MTEB_TATOEBA, entry)]
