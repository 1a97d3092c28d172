"""Dataset card of mined pairs: Hub front matter with features, counts per stage, language pair and source
licence; the same facts in the Parquet schema metadata; no local paths; stable on re-runs and merges."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from luxembedder.mining import MiningConfig, merge_runs, mine
from luxembedder.mining.pipeline import PAIR_COLUMNS
from luxembedder.settings import get_settings

from .helpers import OracleEncoder, write_articles


def _cfg() -> MiningConfig:
    cfg = MiningConfig.parity()
    cfg.embedding.article_representation = "mean_sentences"
    cfg.histograms = False
    cfg.filters.paraphrases = True
    cfg.source.name = "Stories written for luxembedder"
    cfg.source.license = "CC BY 4.0"
    cfg.source.attribution = "the luxembedder authors"
    return cfg


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("card")
    articles = write_articles(base / "articles.jsonl")
    settings = get_settings(data_dir=base / "nodata")
    return mine([articles], base / "run", _cfg(), settings=settings, encoder=OracleEncoder()), settings


def _n(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def test_dataset_card_front_matter(run) -> None:
    from huggingface_hub import DatasetCard

    res, _ = run
    pairs = res.out_dir / "pairs"
    text = (pairs / "README.md").read_text(encoding="utf-8")
    data = DatasetCard(text).data.to_dict()
    assert data["license"] == "cc-by-4.0" and data["language"] == ["lb", "en", "fr"]
    assert _n(pairs / "lb-lb.jsonl") == 0  # no paraphrases in these stories: counted, but nothing to load
    assert [c["config_name"] for c in data["configs"]] == ["lb-en", "lb-fr"]
    assert data["configs"][0]["data_files"] == [{"split": "train", "path": "lb-en.jsonl"}]
    info = {d["config_name"]: d for d in data["dataset_info"]}
    assert [f["name"] for f in info["lb-en"]["features"]] == list(PAIR_COLUMNS)
    assert info["lb-en"]["features"][2] == {"name": "cos_sim", "dtype": "float64"}
    mining = data["mining"]
    for pair in ("lb-en", "lb-fr"):
        n = _n(pairs / f"{pair}.jsonl")
        assert info[pair]["splits"] == [{"name": "train", "num_bytes": (pairs / f"{pair}.jsonl").stat().st_size,
                                         "num_examples": n}]
        c = mining["pairs"][pair]["counts"]
        assert c["final"] == n == res.report["final_pairs"][pair] and mining["pairs"][pair]["languages"] == pair.split("-")
        assert c["candidates"] >= c["accepted"] >= n and c["articles_lb"]["kept"] > 0 and c["filters"]
    assert mining["pairs"]["lb-lb"]["kind"] == "paraphrases" and mining["pairs"]["lb-lb"]["rows"] == 0
    assert mining["source"]["attribution"] == "the luxembedder authors"
    assert mining["input_files"][0]["file"] == "articles.jsonl" and len(mining["input_files"][0]["sha256"]) == 64
    assert str(res.out_dir.parent) not in text and "Attribution: the luxembedder authors" in text


def test_parquet_schema_metadata_and_datasets_features(run) -> None:
    import pyarrow.parquet as pq

    import datasets

    res, _ = run
    path = res.out_dir / "pairs" / "lb-fr.parquet"
    schema = pq.read_schema(path)
    meta = json.loads(schema.metadata[b"luxembedder"])
    assert meta["pair"] == "lb-fr" and meta["languages"] == ["lb", "fr"] and meta["source"]["license"] == "CC BY 4.0"
    assert meta["counts"]["final"] == pq.read_metadata(path).num_rows == _n(path.with_suffix(".jsonl"))
    feats = datasets.Features.from_arrow_schema(schema)
    assert list(feats) == list(PAIR_COLUMNS) and feats["text_1"].dtype == "string"
    assert pq.read_table(path).column("text_1").to_pylist() == \
        [json.loads(x)["text_1"] for x in path.with_suffix(".jsonl").read_text(encoding="utf-8").splitlines()]


def test_rerun_keeps_card_and_files_and_training_ignores_the_card(run) -> None:
    from luxembedder.training.config import PairSource
    from luxembedder.training.data import expand_sources

    res, settings = run
    pairs = res.out_dir / "pairs"
    before = {p.name: p.read_bytes() for p in pairs.iterdir()}
    again = mine([Path(res.report["inputs"][0]["path"])], res.out_dir, _cfg(),
                 settings=settings, encoder=OracleEncoder())
    assert again.stages_run == []
    assert {p.name: p.read_bytes() for p in pairs.iterdir() if p.name != "README.md"} == \
        {k: v for k, v in before.items() if k != "README.md"}
    assert "README.md" in before
    assert all(f.suffix in (".jsonl", ".parquet") for f, _, _ in expand_sources([PairSource(path=res.out_dir)]))


def test_merged_runs_get_a_card(run, tmp_path: Path) -> None:
    from huggingface_hub import DatasetCard

    res, settings = run
    shutil.copytree(res.out_dir, tmp_path / "copy")
    merge_runs([res.out_dir, tmp_path / "copy"], tmp_path / "merged", settings=settings)
    data = DatasetCard((tmp_path / "merged" / "pairs" / "README.md").read_text(encoding="utf-8")).data.to_dict()
    c = data["mining"]["pairs"]["lb-en"]["counts"]
    assert data["mining"]["pipeline"] == "luxalign-merge" and c["final"] == res.report["final_pairs"]["lb-en"]
    assert data["license"] == "cc-by-4.0"


def test_the_card_configs_load_with_datasets(run, tmp_path: Path) -> None:
    import datasets

    res, _ = run
    pairs = res.out_dir / "pairs"
    for pair in ("lb-en", "lb-fr"):
        ds = datasets.load_dataset(str(pairs), pair, split="train", cache_dir=str(tmp_path / pair))
        assert ds.num_rows == _n(pairs / f"{pair}.jsonl") > 0 and "text_1" in ds.features
