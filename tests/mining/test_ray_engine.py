"""The Ray engine: a 2-CPU local cluster mines the fixture (two input files, a duplicate id across them, bad
rows, lenient) with the corpus, counts and pairs byte-identical to the local engine, also when an embedding
actor dies mid-run; per-file prepare fails where the local engine does (strict); sharded scoring equals
one-process scoring; clear errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from luxembedder.errors import ConfigError, DataError
from luxembedder.mining import MiningConfig, mine
from luxembedder.mining.pipeline import LangView
from luxembedder.mining.ray_engine import FAULT_ENV, RayExecutor, day_shards, init_ray, score_pair_sharded
from luxembedder.mining.scoring import candidate_pairs, window_knn_for_candidates
from luxembedder.mining.stages import prepare_corpus
from luxembedder.settings import get_settings

from .helpers import write_articles


def _cfg(model: Path, **execution) -> MiningConfig:
    cfg = MiningConfig.improved()  # margin over the ±N-day window pool: the sharded path with context
    cfg.embedding.model = str(model)
    cfg.embedding.shard_size = 16  # several chunks, so several actor calls
    cfg.scoring.margin_threshold = 0.9  # the random tiny model: keep enough pairs to compare
    cfg.histograms = False
    for k, v in execution.items():
        setattr(cfg.execution, k, v)
    return cfg


def _outputs(run: Path) -> dict[str, bytes]:
    files = sorted((run / "pairs").glob("*.jsonl")) + sorted((run / "stages" / "score").glob("*.parquet")) + \
        sorted((run / "stages" / "prepare").glob("*.parquet")) + [run / "rejected.jsonl"]
    return {f.name: f.read_bytes() for f in files}


@pytest.fixture(scope="module")
def articles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_articles(tmp_path_factory.mktemp("articles") / "articles.jsonl")


@pytest.fixture(scope="module")
def two_files(articles: Path) -> list[Path]:
    """The fixture in two files; a.jsonl ends with a malformed row; b.jsonl repeats an id of a.jsonl (a
    duplicate across files) and one of its own, each before a row with a bad date."""
    rows = articles.read_text(encoding="utf-8").splitlines()
    half = len(rows) // 2
    bad_date = json.dumps({"id": "lb-bad", "lang": "lb", "published": "2024-13-01", "body": "Eng Zeil."})
    a = [*rows[:half], '{"id": "lb-broken", "lang": "lb", ']
    b = [*rows[half:], rows[1], rows[half + 2], bad_date]
    out = []
    for name, lines in (("a.jsonl", a), ("b.jsonl", b)):
        out.append(articles.parent / name)
        out[-1].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory):
    return get_settings(data_dir=tmp_path_factory.mktemp("nodata"))


@pytest.fixture(scope="module")
def local_run(two_files, settings, tiny_model_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local") / "run"
    res = mine(two_files, out, _cfg(tiny_model_dir), settings=settings, lenient=True, show_progress=False)
    assert sum(res.report["final_pairs"].values()) > 0
    assert res.report["input"]["rejected"] == 4  # the malformed row, the two duplicates, the bad date
    return out


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        ray.shutdown()
    assert init_ray(num_cpus=2)
    yield ray
    ray.shutdown()


def test_ray_engine_pairs_identical_to_local_also_after_an_actor_dies(
        ray_cluster, two_files, settings, tiny_model_dir, local_run, tmp_path, monkeypatch) -> None:
    marker = tmp_path / "killed"
    monkeypatch.setenv(FAULT_ENV, str(marker))  # the first embedding actor exits on its first chunk
    cfg = _cfg(tiny_model_dir, engine="ray", shard_days=1, embed_actors=1)
    res = mine(two_files, tmp_path / "ray", cfg, settings=settings, lenient=True, show_progress=False)
    assert marker.is_file()  # an actor did die (it wrote its pid first); Ray restarted it, the chunk was retried
    # corpus, rejected rows, pairs and scored candidates, byte for byte
    assert _outputs(tmp_path / "ray") == _outputs(local_run)
    local = json.loads((local_run / "report.json").read_text())
    for key in ("input", "articles", "sentences", "rejected_rows", "article_matching", "candidates", "selection",
                "final_pairs"):
        assert res.report[key] == local[key], key
    assert len(list((tmp_path / "ray" / "cache").rglob("shard-*.npz"))) == \
        len(list((local_run / "cache").rglob("shard-*.npz")))  # the same on-disk cache, chunk for chunk
    assert len(day_shards(np.arange(10), 1)) == 10  # shard_days=1: one scoring task per source day


@pytest.mark.parametrize("order", ["ab", "ba"])
def test_ray_prepare_per_file_equals_local(ray_cluster, two_files, order) -> None:
    """One task pair per file; the cross-file duplicate check in the driver. Strict: the error names the
    file, line and field the local engine names (a.jsonl's malformed row; in the order b, a: b.jsonl's own
    duplicate, as the duplicate of a.jsonl's id is then the first occurrence)."""
    paths = two_files if order == "ab" else two_files[::-1]
    cfg = MiningConfig.improved()
    with RayExecutor(cfg.execution) as ex:
        got, ref = ex.prepare(paths, cfg, True), prepare_corpus(paths, cfg, lenient=True)
        assert (got.articles, got.sentences, got.rejected) == (ref.articles, ref.sentences, ref.rejected)
        assert json.dumps(got.counts) == json.dumps(ref.counts)  # key order too
        where = [(Path(r["file"]).name, r["field"]) for r in got.rejected]
        assert where == ([("a.jsonl", None), ("b.jsonl", "id"), ("b.jsonl", "id"), ("b.jsonl", "published")]
                         if order == "ab" else
                         [("b.jsonl", "id"), ("b.jsonl", "published"), ("a.jsonl", "id"), ("a.jsonl", None)])
        assert all(r["row"]["id"] for r in got.rejected if r["field"] == "id")  # the duplicates' input rows
        with pytest.raises(DataError) as local_err:
            prepare_corpus(paths, cfg)
        with pytest.raises(DataError) as ray_err:
            ex.prepare(paths, cfg, False)
    assert str(ray_err.value) == str(local_err.value)
    e = ray_err.value
    if order == "ab":
        assert (Path(e.path).name, e.line, e.field) == ("a.jsonl", len(two_files[0].read_text().splitlines()), None)
        assert "malformed JSON" in e.reason
    else:
        assert (Path(e.path).name, e.field) == ("b.jsonl", "id") and "duplicate id" in e.reason
        assert f"first seen at {paths[0]}:" in e.reason


def _synthetic(seed: int = 0, n_art: int = 60, dim: int = 16):
    rng = np.random.default_rng(seed)

    def view(n: int) -> tuple[LangView, np.ndarray]:
        days = np.sort(rng.integers(0, 40, n))
        counts = rng.integers(0, 6, n)
        off = np.r_[0, np.cumsum(counts)]
        emb = rng.standard_normal((off[-1], dim)).astype(np.float32)
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        v = LangView(np.arange(n), np.arange(n).astype(str), days, np.ones(n, bool), np.arange(off[-1]), off,
                     np.repeat(days, counts))
        return v, emb

    vs, se = view(n_art)
    vt, te = view(n_art + 10)
    a_s = np.arange(0, n_art, 2)
    a_t = np.minimum(a_s + rng.integers(0, 3, len(a_s)), n_art + 9)
    return vs, se, vt, te, a_s, a_t


@pytest.mark.parametrize(("pool", "plan"), [("window", "shared"), ("window", "separate"), ("article", None)])
def test_sharded_scoring_equals_one_process(pool, plan, monkeypatch) -> None:
    import luxembedder.mining.ray_engine as engine
    import luxembedder.mining.scoring as scoring

    if plan is not None:  # force each of the two window plans in both implementations
        monkeypatch.setattr(scoring, "window_plan", lambda *a, **k: plan)
        monkeypatch.setattr(engine, "window_plan", lambda *a, **k: plan)
    vs, se, vt, te, a_s, a_t = _synthetic()
    cfg = MiningConfig.improved()
    cfg.scoring.neighbour_pool = pool
    cfg.execution.shard_days = 3
    assert len(day_shards(vs.art_days[a_s], 3)) > 5
    got = score_pair_sharded(se, vs, te, vt, a_s, a_t, cfg)
    ref = candidate_pairs(se, vs.offsets, te, vt.offsets, a_s, a_t, k=4, knn=pool == "article")
    if pool == "window":
        ref = window_knn_for_candidates(ref, se, vs.sent_days, te, vt.sent_days, cfg.matching.window_days, 4)
    for f in ("pair", "src", "tgt", "cos", "knn_src", "knn_tgt"):
        np.testing.assert_array_equal(getattr(got, f), getattr(ref, f), err_msg=f)


def test_clear_errors(monkeypatch) -> None:
    with pytest.raises(ConfigError, match=r"cannot reach the Ray cluster at '127\.0\.0\.1:9'"):
        init_ray("127.0.0.1:9")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if ray were not installed
    with pytest.raises(ConfigError, match=r"luxembedder\[ray\]"):
        init_ray()


def test_embed_engine_ray_sharded_and_resumable(ray_cluster, tiny_model_dir, settings, tmp_path) -> None:
    from luxembedder.embedding import embed_file, load_parts

    src = tmp_path / "texts.txt"
    src.write_text("\n".join(f"Saz Nummer {i} op Lëtzebuergesch, {'laang ' * (i % 5)}." for i in range(23)) + "\n",
                   encoding="utf-8")
    out = embed_file(tiny_model_dir, src, tmp_path / "emb", engine="ray", shard_rows=10, settings=settings)
    assert sorted(p.name for p in out.glob("part-*.npy")) == ["part-00000.npy", "part-00001.npy", "part-00002.npy"]
    ref = np.load(embed_file(tiny_model_dir, src, tmp_path / "ref.npy", settings=settings))
    np.testing.assert_allclose(load_parts(out), ref, atol=1e-5)  # input order kept across parts
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("part-*.npy")}
    (out / "part-00001.npy").unlink()  # an interrupted run: one part missing
    embed_file(tiny_model_dir, src, out, engine="ray", shard_rows=10, settings=settings)
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("part-*.npy") if p.name != "part-00001.npy"} == \
        {k: v for k, v in stamps.items() if k != "part-00001.npy"}  # finished parts are not redone
    np.testing.assert_allclose(load_parts(out), ref, atol=1e-5)
    with pytest.raises(ConfigError, match="another input/model/shard size"):
        embed_file(tiny_model_dir, src, out, engine="ray", shard_rows=5, settings=settings)


def test_cli_unreachable_address_is_a_user_error(articles, tiny_model_dir, tmp_path) -> None:
    from typer.testing import CliRunner

    from luxembedder.cli.main import app

    res = CliRunner().invoke(app, ["mine", "--articles", str(articles), "--out", str(tmp_path / "r"),
                                   "--model", str(tiny_model_dir), "--ray-address", "127.0.0.1:9",
                                   "--backend", "onnx-int8"])
    assert res.exit_code != 0
    assert "cannot reach the Ray cluster at '127.0.0.1:9'" in str(res.exception or "") + res.output
    assert not (tmp_path / "r" / "stages").exists()  # nothing ran
