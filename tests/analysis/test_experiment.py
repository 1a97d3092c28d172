"""The controlled experiment: data construction, leakage rule, statistics, and the runner on the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from luxembedder.analysis.experiment import (
    ExperimentConfig,
    ExperimentResult,
    block_bootstrap_cka,
    condition_pairs,
    drop_leaked,
    run_experiment,
    select_ids,
)
from luxembedder.errors import ConfigError, DataError
from luxembedder.evaluation.stats import two_level_bootstrap
from luxembedder.settings import get_settings


def _sentences(n: int = 30) -> dict[str, list[str]]:
    return {lang: [f"{lang} sentence {i}" for i in range(n)] for lang in ("lb", "en", "fr")}


def test_select_ids_whole_documents_and_seeded() -> None:
    doc_ids = ["a"] * 5 + ["b"] * 3 + ["c"] * 4 + ["d"] * 6
    ids = select_ids(doc_ids, 8, seed=1)
    assert len(ids) == 8 and len(set(ids)) == 8
    assert ids == select_ids(doc_ids, 8, seed=1)
    assert any(select_ids(doc_ids, 8, seed=s) != ids for s in range(2, 8))
    # whole documents except possibly the last one taken
    docs = [doc_ids[i] for i in ids]
    partial = [d for d in set(docs) if docs.count(d) != doc_ids.count(d)]
    assert len(partial) <= 1
    with pytest.raises(ConfigError, match="more than"):
        select_ids(doc_ids, 100, seed=0)


def test_conditions_share_ids_and_size() -> None:
    sents = _sentences()
    ids = [1, 4, 5, 8, 9, 12, 20, 21]
    out = {c: condition_pairs(c, ids, sents, seed=3, combined="split")
           for c in ("lb-en", "lb-fr", "en-fr", "lb-en+lb-fr")}
    assert [r[0] for r in out["lb-en"]["lb-en"]] == ids
    assert [r[0] for r in out["en-fr"]["en-fr"]] == ids
    assert out["en-fr"]["en-fr"][0][1:] == ("en sentence 1", "fr sentence 1")
    assert out["lb-fr"]["lb-fr"][2][1:] == ("lb sentence 5", "fr sentence 5")
    comb = out["lb-en+lb-fr"]
    assert sorted(r[0] for rows in comb.values() for r in rows) == ids  # each id once: same size
    assert len(comb["lb-en"]) == len(comb["lb-fr"]) == 4
    assert all(r[2].startswith("fr ") for r in comb["lb-fr"]) and all(r[1].startswith("lb ") for r in comb["lb-fr"])
    union = condition_pairs("lb-en+lb-fr", ids, sents, seed=3, combined="union")
    assert len(union["lb-en"]) == len(union["lb-fr"]) == len(ids)


def test_leakage_drop_and_fail() -> None:
    sents = _sentences()
    pairs = condition_pairs("lb-en", [0, 1, 2], sents, seed=0, combined="split")
    kept, n = drop_leaked(pairs, {"en sentence 1"}, "drop", "test")
    assert n == 1 and [r[0] for r in kept["lb-en"]] == [0, 2]
    sents["en"][1] = "EN   Sentence 1"  # matching is case- and space-insensitive
    pairs = condition_pairs("lb-en", [0, 1, 2], sents, seed=0, combined="split")
    with pytest.raises(DataError, match="1 training pairs share a text"):
        drop_leaked(pairs, {"en sentence 1"}, "fail", "test")


def test_two_level_bootstrap() -> None:
    rng = np.random.default_rng(0)
    big = rng.normal(0.3, 1.0, size=(3, 800))
    low, high, p = two_level_bootstrap(big, 1000, 0, 0.05)
    assert low < 0.3 < high and p < 0.01
    null = rng.normal(0.0, 1.0, size=(3, 800))
    assert two_level_bootstrap(null, 1000, 0, 0.05)[2] > 0.05
    # one seed far off: the seed level widens the interval compared with items only
    spread = big + np.array([[0.0], [0.0], [-1.2]])
    lo1, hi1, _ = two_level_bootstrap(spread, 1000, 0, 0.05)
    lo2, hi2, _ = two_level_bootstrap(spread[:1].repeat(3, axis=0), 1000, 0, 0.05)
    assert hi1 - lo1 > hi2 - lo2


@pytest.mark.parametrize("method", ["features", "gram", "auto"])
def test_block_bootstrap_cka_matches_resampled_rows(method: str) -> None:
    from luxembedder.analysis.cka import linear_cka

    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 5))
    y = x @ rng.normal(size=(5, 6)) + rng.normal(size=(40, 6))
    w = np.array([[1] * 8, [2, 0, 1, 1, 1, 1, 2, 0], [0, 0, 0, 8, 0, 0, 0, 0]])
    got = block_bootstrap_cka(x, y, w, 8, method=method)
    assert got[0] == pytest.approx(linear_cka(x, y), abs=1e-10)
    for k in (1, 2):
        rows = np.concatenate([np.tile(np.arange(5 * b, 5 * b + 5), m) for b, m in enumerate(w[k])])
        assert got[k] == pytest.approx(linear_cka(x[rows], y[rows]), abs=1e-10)


def test_config_validation() -> None:
    with pytest.raises(ConfigError, match="control"):
        ExperimentConfig.from_dict({"conditions": ["lb-en", "lb-fr"], "control": "en-fr"})
    with pytest.raises(ConfigError, match="set by the experiment"):
        ExperimentConfig.from_dict({"train": {"seed": 3}})
    with pytest.raises(ConfigError, match="batch_size"):
        ExperimentConfig.from_dict({"train": {"batch_size": 1}})
    cfg = ExperimentConfig.from_yaml(Path(__file__).parents[2] / "configs" / "experiment.yaml")
    assert cfg.base_model == "me5-small" and len(cfg.seeds) >= 3 and cfg.control == "en-fr"


def test_runner_on_tiny_model(tiny_model_dir: Path, data_dir: Path, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import luxembedder.datasets.ntrex as ntrex_mod
    from luxembedder.datasets.benchmarks import read_flores

    cfg = ExperimentConfig(
        base_model=str(tiny_model_dir), conditions=["lb-en+lb-fr", "en-fr"], seeds=[0, 1], n_pairs=12,
        train={"batch_size": 4, "max_steps": 1, "dev_fraction": 0.0, "freeze_embeddings": True,
               "max_seq_length": 32},
        eval={"flores_languages": ["ltz_Latn", "fao_Latn"], "tatoeba_languages": ["gsw"], "flores_n": 16,
              "tatoeba_max": 10, "batch_size": 16},
        stats={"bootstrap": 200, "cka_bootstrap": 50, "cka_blocks": 4},
    )
    # plant a FLORES devtest sentence into the NTREX lines seed 0 trains on: it must be dropped and counted
    real = ntrex_mod.read_ntrex
    planted = read_flores(data_dir, "eng_Latn")[5]

    def leaky(data_dir_, langs=("lb", "en", "fr", "de", "nl")):
        corpus = real(data_dir_, langs)
        corpus.sentences["en"][select_ids(corpus.doc_ids, 12, 0)[0]] = planted
        return corpus

    monkeypatch.setattr(ntrex_mod, "read_ntrex", leaky)
    monkeypatch.setattr("luxembedder.analysis.experiment.read_ntrex", leaky)  # imported at module level there
    settings = get_settings(data_dir=data_dir)
    out = tmp_path / "exp"
    result = run_experiment(cfg, out, settings)

    doc = json.loads((out / "experiment.json").read_text())
    ExperimentResult.model_validate(doc)  # schema-valid as written
    assert {(m["condition"], m["seed"]) for m in doc["models"]} == {
        ("base", None), ("lb-en+lb-fr", 0), ("lb-en+lb-fr", 1), ("en-fr", 0), ("en-fr", 1)}
    seed0 = {m["condition"]: m for m in doc["models"] if m["seed"] == 0}
    assert seed0["en-fr"]["leakage_dropped"] == 1 and sum(seed0["en-fr"]["train_pairs"].values()) == 11
    assert sum(seed0["lb-en+lb-fr"]["train_pairs"].values()) in (11, 12)  # planted id may sit in lb-en half
    metrics = {r.metric for r in result.rows}
    assert metrics == {"cka_eng", "cka_fra", "flores", "tatoeba"}
    assert {r.language for r in result.rows if r.metric == "flores"} == {"ltz_Latn", "fao_Latn"}
    for r in result.rows:
        assert set(r.gains) == {"lb-en+lb-fr", "en-fr"} and len(r.gains["en-fr"].values) == 2
        assert [t.condition for t in r.tests] == ["lb-en+lb-fr"]
        assert 0.0 <= r.tests[0].p_value <= 1.0 and r.tests[0].low <= r.tests[0].high
        assert r.verdict
    assert not any("ntrex" in d["path"].lower() and "tatoeba" in d["path"] for d in doc["data"])
    assert any("NTREX-128" in d["path"] for d in doc["data"]) and any("sib200" in d["path"] for d in doc["data"])
    md = (out / "experiment.md").read_text()
    assert "| ltz_Latn |" in md and "verdict" in md
    assert list(out.glob("gains_*.png")) and (out / "experiment_config.yaml").is_file()
    assert not (out / "runs" / "en-fr" / "seed0" / "model").exists()  # keep_models is off

    # retrieval went through the same runner and tasks as `luxembedder eval`: records with the eval protocol
    from luxembedder.evaluation.results import load_results

    base_run = out / "runs" / "base"
    recs = {(r.task, r.subset): r for r in load_results(base_run / "eval" / "results.json")}
    base_metrics = json.loads((base_run / "eval.json").read_text())["metrics"]
    flores = recs[("flores-bitext", "flores:fao_Latn-eng_Latn/first16")]
    assert flores.protocol == "top1-cosine-text-match/mean-both-directions"
    assert base_metrics["flores/fao_Latn"] == flores.main_score
    assert base_metrics["tatoeba/gsw"] == recs[("bitext-lrl", "tatoeba-v1:gsw-eng/first10")].main_score
    assert "p = min(1, 2(k+1)/(B+1))" in doc["protocol"]["test"]

    # resumable: a second run trains nothing and reproduces the result
    caplog.set_level("INFO", logger="luxembedder.analysis.experiment")
    again = run_experiment(cfg, out, settings)
    assert sum("done, skipped" in rec.message for rec in caplog.records) == 5  # base + 4 models
    assert [r.model_dump() for r in again.rows] == [r.model_dump() for r in result.rows]
    assert not list(out.glob("runs/**/.claim"))


def _fake_run(rng: np.random.Generator, shift: float, langs: list[str]) -> dict:
    from luxembedder.analysis.cka import linear_cka

    eng = rng.normal(size=(60, 8))
    arrays = {"emb/eng_Latn": eng, "tatoeba/gsw": (rng.random(50) < 0.4 + shift).astype(float)}
    for lang in langs:
        arrays[f"emb/{lang}"] = eng + rng.normal(size=eng.shape) * (1.5 - 2 * shift)
        arrays[f"flores/{lang}"] = (rng.random(60) < 0.4 + shift).astype(float)
    metrics = {f"cka_eng/{lang}": linear_cka(arrays[f"emb/{lang}"], eng) for lang in langs}
    metrics.update({k: float(v.mean()) for k, v in arrays.items() if not k.startswith("emb/")})
    return {"metrics": metrics, "arrays": arrays}


def test_analyse_detects_a_real_effect_and_not_a_null() -> None:
    from luxembedder.analysis.experiment import analyse

    langs = ["ltz_Latn", "fao_Latn", "fur_Latn"]
    cfg = ExperimentConfig(
        conditions=["lb-en", "lb-fr", "en-fr"], seeds=[0, 1, 2],
        eval={"flores_languages": langs, "cka_references": ["eng_Latn"], "tatoeba_languages": ["gsw"]},
        stats={"bootstrap": 400, "cka_bootstrap": 100, "cka_blocks": 6})
    rng = np.random.default_rng(0)
    base = _fake_run(rng, 0.0, langs)["metrics"]
    runs = {("lb-en", s): _fake_run(rng, 0.35, langs) for s in cfg.seeds}  # clearly better
    runs |= {("lb-fr", s): _fake_run(rng, 0.0, langs) for s in cfg.seeds}  # same as control
    runs |= {("en-fr", s): _fake_run(rng, 0.0, langs) for s in cfg.seeds}
    rows, summary = analyse(cfg, base, runs)
    assert {(r.metric, r.language) for r in rows} == {
        *(("cka_eng", lang) for lang in langs), *(("flores", lang) for lang in langs), ("tatoeba", "gsw")}
    for r in rows:
        t = {t.condition: t for t in r.tests}
        assert t["lb-en"].diff > 0 and t["lb-en"].p_value < 0.05 and t["lb-en"].low > 0, r
        assert t["lb-en"].seeds_better == 3
        assert "lb-en" in r.verdict
        assert r.gains["lb-en"].mean == pytest.approx(np.mean(r.gains["lb-en"].values))
    # the null condition is rarely "significant" (3 seeds x 60 items; allow one false positive of 7 rows)
    assert sum(next(t for t in r.tests if t.condition == "lb-fr").p_value < 0.05 for r in rows) <= 1
    # summary: ltz is excluded from the low-resource aggregate; pooled test over sentences and seeds
    assert summary["flores"]["languages"] == 2
    pooled = summary["flores"]["pooled_test_vs_control"]
    assert pooled["lb-en"]["p_value"] < 0.01 and pooled["lb-en"]["items"] == 120
    assert pooled["lb-fr"]["low"] < pooled["lb-en"]["low"]


def test_claims_let_workers_share_a_folder(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from luxembedder.analysis.experiment import _claim

    run = tmp_path / "lb-en" / "seed0"
    mine = _claim(run)
    assert mine is not None and mine.read_text() == str(os.getpid())
    mine.unlink()
    # a live other process holds it: skipped; a dead one's claim is taken over
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (run / ".claim").write_text(str(proc.pid))
        assert _claim(run) is None
    finally:
        proc.kill()
        proc.wait()
    assert _claim(run) is not None


def test_block_bootstrap_cka_gram_equals_features_on_uneven_blocks() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(43, 7)), rng.normal(size=(43, 4))
    y[:, :2] += x[:, :2]
    w = rng.multinomial(6, np.full(6, 1 / 6), size=50)
    np.testing.assert_allclose(block_bootstrap_cka(x, y, w, 6, method="gram"),
                               block_bootstrap_cka(x, y, w, 6, method="features"), atol=1e-10)


def test_runs_stored_with_row_index_flores_are_rescored_by_text_match() -> None:
    """--report-only on runs from before the protocol change: FLORES from the stored embeddings, by text match."""
    from types import SimpleNamespace

    from luxembedder.analysis.experiment import upgrade_flores_protocol

    e = np.eye(4, dtype=np.float32)
    # szl-like: rows 1 and 2 are the same sentence (identical embeddings); English differs
    src = ["a", "b", "b", "c"]
    eng = ["A", "B1", "B2", "C"]
    emb_src = e[[0, 1, 1, 2]]
    emb_eng = e[[0, 1, 1, 2]] + 0.01 * e[[3, 3, 3, 3]] * np.array([[0], [0], [1], [0]])
    data = SimpleNamespace(flores={"szl_Latn": src, "eng_Latn": eng}, flores_languages=["szl_Latn"])
    record = {"metrics": {"flores/szl_Latn": 0.0}, "arrays": {"emb/szl_Latn": emb_src, "emb/eng_Latn": emb_eng}}
    upgrade_flores_protocol(record, data)
    # eng->szl: B2's nearest szl row is row 1 ("b"), the gold text of row 2 -> correct by text, wrong by row
    assert record["arrays"]["flores/szl_Latn"].tolist() == [1.0, 1.0, 0.5, 1.0]
    assert record["flores_protocol"] == "text-match" and record["metrics"]["flores/szl_Latn"] == 0.875


def test_train_pairs_are_the_rows_the_trainer_kept(tmp_path: Path) -> None:
    """A unit whose trainer dropped a duplicate reports the rows trained on, and the report says so."""
    from luxembedder.analysis.experiment import (
        ModelRecord,
        _load_run,
        _save_npz,
        render_markdown,
        trained_rows,
    )

    run = tmp_path / "lb-en" / "seed0"
    (run / "model").mkdir(parents=True)
    assert trained_rows(run / "model") is None
    (run / "model" / "luxembedder.json").write_text("{not json")
    assert trained_rows(run / "model") is None  # a broken record is no traceback
    (run / "eval.json").write_text(json.dumps({"condition": "lb-en", "seed": 0, "train_pairs": {"lb-en": 400},
                                               "flores_protocol": "text-match", "metrics": {}}))
    _save_npz(run / "eval.npz", {"tatoeba/gsw": np.zeros(3)})
    (run / "model" / "luxembedder.json").write_text(json.dumps({
        "kind": "luxembedder-trained-model", "pair_counts": {"lb-en": {"train": 399, "dev": 0}},
        "data": [{"pair": "lb-en", "rows_read": 400, "rows_kept": 399, "dropped_duplicate": 1}]}))
    record = _load_run(run)
    assert record["train_pairs"] == {"lb-en": 399} and record["pairs_written"] == {"lb-en": 400}

    models = [ModelRecord(condition="lb-en", seed=0, model="m", train_pairs=record["train_pairs"],
                          pairs_written=record["pairs_written"], leakage_dropped=0, train_seconds=1.0,
                          eval_seconds=1.0, metrics={}),
              ModelRecord(condition="en-fr", seed=0, model="c", train_pairs={"en-fr": 400},
                          pairs_written={"en-fr": 400}, leakage_dropped=0, train_seconds=1.0, eval_seconds=1.0,
                          metrics={})]
    result = ExperimentResult.model_construct(base_model="b", conditions=["lb-en"], control="en-fr", seeds=[0],
                                              n_pairs=400, combined="split", protocol={"test": "t"}, models=models,
                                              rows=[], summary={}, config={})
    md = render_markdown(result)
    assert "lb-en seed 0: 399 of 400 kept" in md and "en-fr seed 0" not in md
