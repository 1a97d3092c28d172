"""The whole pipeline on the original lb/en/fr stories: outputs, report, resume, re-run, merge, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from luxembedder.errors import DataError
from luxembedder.mining import MiningConfig, evaluate_run, merge_runs, mine
from luxembedder.mining.store import PAIR_COLUMNS
from luxembedder.settings import get_settings

from .helpers import OracleEncoder, gold_pairs, write_articles


def _cfg(**kw) -> MiningConfig:
    cfg = MiningConfig.parity()
    cfg.embedding.article_representation = "mean_sentences"  # the oracle knows sentences, not whole articles
    cfg.embedding.shard_size = 8
    cfg.histograms = False
    for k, v in kw.items():
        section, key = k.split("__")
        setattr(getattr(cfg, section), key, v)
    return cfg


def _pairs(run: Path, pair: str) -> list[dict]:
    return [json.loads(x) for x in (run / "pairs" / f"{pair}.jsonl").read_text(encoding="utf-8").splitlines()]


def _files(run: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (run / "pairs").glob("*.jsonl")}


@pytest.fixture(scope="module")
def articles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_articles(tmp_path_factory.mktemp("articles") / "articles.jsonl")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory):
    return get_settings(data_dir=tmp_path_factory.mktemp("nodata"))  # no default leakage list


@pytest.fixture(scope="module")
def parity_run(articles: Path, settings, tmp_path_factory: pytest.TempPathFactory):
    run = tmp_path_factory.mktemp("runs") / "parity"
    cfg = _cfg()
    cfg.histograms = True
    return mine([articles], run, cfg, settings=settings, encoder=OracleEncoder())


def test_parity_run_finds_exactly_the_translations(parity_run) -> None:
    run = parity_run.out_dir
    for pair in ("lb-en", "lb-fr"):
        rows = _pairs(run, pair)
        assert {(r["text_1"], r["text_2"]) for r in rows} == gold_pairs(pair)
        assert all(set(r) == set(PAIR_COLUMNS) for r in rows)
        assert all(r["cos_sim"] >= 0.70 and r["margin"] > 1.0 for r in rows)
        assert [r["cos_sim"] for r in rows] == sorted((r["cos_sim"] for r in rows), reverse=True)
    rep = json.loads((run / "report.json").read_text())
    assert rep["final_pairs"] == {"lb-en": 16, "lb-fr": 16}
    # distractor articles are not matched above the sentence-stage threshold; every step is counted
    for pair in ("lb-en", "lb-fr"):
        sel = rep["selection"][pair]
        assert sel["steps"][0]["in"] == sel["candidates"]
        for a, b in zip(sel["steps"], sel["steps"][1:], strict=False):
            assert a["out"] == b["in"] and a["in"] - a["dropped"] == a["out"]
        assert sel["steps"][-1]["out"] == sel["final"]
    assert rep["articles"]["lb"]["kept"] == 4 and rep["sentences"]["lb"]["kept"] == 20
    assert (run / "report.md").read_text().startswith("# Mining report")
    assert (run / "histograms" / "lb-en.png").stat().st_size > 1000
    assert (run / "config.yaml").is_file()


def test_outputs_load_with_datasets_and_candidates_have_reasons(parity_run) -> None:
    import pyarrow.parquet as pq

    import datasets

    run = parity_run.out_dir
    ds = datasets.load_dataset("json", data_files=str(run / "pairs" / "lb-en.jsonl"), split="train")
    assert ds.num_rows == 16 and set(PAIR_COLUMNS) <= set(ds.column_names)
    assert pq.read_table(run / "pairs" / "lb-fr.parquet").num_rows == 16
    cand = pq.read_table(run / "candidates.parquet").to_pylist()
    assert sum(c["accepted"] for c in cand) == 32
    assert all((c["reason"] == "") == c["accepted"] for c in cand)
    reasons = {c["reason"] for c in cand}
    assert any(r.startswith("cosine<") for r in reasons)


def test_rerun_is_noop_and_threshold_change_reruns_only_select(parity_run, articles, settings) -> None:
    run = parity_run.out_dir
    before = _files(run)
    enc = OracleEncoder()
    again = mine([articles], run, _cfg(), settings=settings, encoder=enc)
    assert again.stages_run == [] and enc.encoded == 0
    assert _files(run) == before
    stricter = mine([articles], run, _cfg(scoring__cosine_threshold=0.99), settings=settings, encoder=enc)
    assert stricter.stages_run == ["select"] and enc.encoded == 0
    assert stricter.report["final_pairs"]["lb-en"] < 16
    margin = mine([articles], run, _cfg(scoring__method="margin", scoring__margin_threshold=1.2),
                  settings=settings, encoder=enc)
    assert margin.stages_run == ["select"]  # margins were stored with every candidate
    assert {(r["text_1"], r["text_2"]) for r in _pairs(run, "lb-en")} == gold_pairs("lb-en")
    window = mine([articles], run, _cfg(matching__window_days=0), settings=settings, encoder=enc)
    assert window.stages_run == ["match", "score", "select"]
    mine([articles], run, _cfg(), settings=settings, encoder=enc)
    assert _files(run) == before


def test_interrupted_embedding_resumes_to_identical_outputs(articles, settings, tmp_path: Path, parity_run) -> None:
    run = tmp_path / "interrupted"
    broken = OracleEncoder(fail_after=3)
    with pytest.raises(RuntimeError, match="simulated interruption"):
        mine([articles], run, _cfg(), settings=settings, encoder=broken)
    assert not (run / "stages" / "embed" / "_stage.json").exists()
    assert len(list((run / "cache").rglob("shard-*.npz"))) == 3
    fresh = OracleEncoder()
    res = mine([articles], run, _cfg(), settings=settings, encoder=fresh)
    assert res.stages_run == ["embed", "match", "score", "select"]  # prepare was finished before
    assert 0 < fresh.encoded < 60 + 12  # the three finished shards were not encoded again
    assert _files(run) == _files(parity_run.out_dir)


def test_bad_input_strict_and_lenient(settings, tmp_path: Path) -> None:
    bad = [
        '{"id": "lb-s0", "lang": "lb", "published": "2024-03-05", "title": "Duplikat", "body": "x"}',
        '{"id": "lb-x", "lang": "lb", "published": "soon", "title": "Datum", "body": "y"}',
        '{"id": "lb-y", "lang": "lb", "published": "2024-03-05", "title": "kapott"',
    ]
    path = write_articles(tmp_path / "bad.jsonl", extra_rows=bad)
    with pytest.raises(DataError) as err:
        mine([path], tmp_path / "strict", _cfg(), settings=settings, encoder=OracleEncoder())
    assert "bad.jsonl" in str(err.value) and "line 13" in str(err.value) and "'id'" in str(err.value)
    res = mine([path], tmp_path / "lenient", _cfg(), settings=settings, encoder=OracleEncoder(), lenient=True)
    rejected = [json.loads(x) for x in (tmp_path / "lenient" / "rejected.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rejected] == [13, 14, 15]
    assert res.report["rejected_rows"] == 3
    assert res.report["input"]["loaded"] == 12
    assert {(r["text_1"], r["text_2"]) for r in _pairs(res.out_dir, "lb-en")} == gold_pairs("lb-en")


def test_shard_runs_merge_to_the_full_run(articles, settings, tmp_path: Path, parity_run) -> None:
    import datetime as dt

    runs = []
    for start, end in (("2024-03-04", "2024-03-05"), ("2024-03-06", "2024-03-10")):
        cfg = _cfg()
        cfg.shard.start, cfg.shard.end = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        res = mine([articles], tmp_path / start, cfg, settings=settings, encoder=OracleEncoder())
        assert 0 < sum(res.report["final_pairs"].values()) < 32
        runs.append(res.out_dir)
    # a third run duplicating the second shard: its candidates must not be counted twice
    shutil.copytree(runs[1], tmp_path / "copy")
    rep = merge_runs([*runs, tmp_path / "copy"], tmp_path / "merged", settings=settings)
    assert rep["duplicates_across_shards"] > 0
    for pair in ("lb-en", "lb-fr"):
        merged = {(r["text_1"], r["text_2"]) for r in _pairs(tmp_path / "merged", pair)}
        assert merged == {(r["text_1"], r["text_2"]) for r in _pairs(parity_run.out_dir, pair)}


def test_leakage_exclusion_and_paraphrases(articles, settings, tmp_path: Path) -> None:
    from .helpers import load_stories

    leak = tmp_path / "bench.txt"
    story = load_stories()["stories"][0]
    leak.write_text(story["lb"][2].upper() + "\n", encoding="utf-8")  # normalised match
    cfg = _cfg(filters__leakage_files=[leak], filters__paraphrases=True, filters__leakage_normalize=True)
    res = mine([articles], tmp_path / "leak", cfg, settings=settings, encoder=OracleEncoder())
    texts = {r["text_1"] for r in _pairs(res.out_dir, "lb-en")}
    assert story["lb"][2] not in texts and len(texts) == 15
    steps = res.report["selection"]["lb-en"]["steps"]
    assert steps[-1]["filter"] == "leakage" and steps[-1]["dropped"] == 1
    assert (res.out_dir / "pairs" / "lb-lb.jsonl").is_file()
    assert res.report["paraphrases"]["candidates"] == 0  # no two oracle sentences of one article are close


def test_evaluate_run_against_gold(parity_run, tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    rows = [{"type": "sentence_pair", "pair": p, "lb": a, "other": b, "lb_article": "x", "other_article": "y"}
            for p in ("lb-en", "lb-fr") for a, b in gold_pairs(p)]
    rows += [{"type": "article_pair", "pair": p, "lb_id": f"lb-s{s}", "other_id": f"{p[3:]}-s{s}", "doc": s}
             for p in ("lb-en", "lb-fr") for s in range(3)]
    rows += [{"type": "unpaired_article", "lang": "lb", "id": "lb-d2", "doc": 9, "pairs": ["lb-en", "lb-fr"]}]
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ev = evaluate_run(parity_run.out_dir, gold)
    assert ev["pairs"]["lb-en"]["f1"] == pytest.approx(1.0)
    assert ev["article_matching"]["lb-fr"]["sentence_stage_threshold"]["accuracy"] == pytest.approx(1.0)
    assert (parity_run.out_dir / "evaluation.json").is_file()


def test_tiny_model_full_run(articles, settings, tiny_model_dir: Path, tmp_path: Path) -> None:
    cfg = MiningConfig.improved()
    cfg.embedding.model = str(tiny_model_dir)
    res = mine([articles], tmp_path / "tiny", cfg, settings=settings, show_progress=False)
    rep = res.report
    assert rep["model"].startswith(tiny_model_dir.name)
    assert set(res.pair_files) == {"lb-en", "lb-fr"} and all(p.is_file() for p in res.pair_files.values())
    emb = np.load(res.out_dir / "stages" / "embed" / "lb.sentences.npy")
    assert emb.shape[0] == 20 and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-4)
    assert mine([articles], tmp_path / "tiny", cfg, settings=settings).stages_run == []
