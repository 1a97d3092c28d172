"""The mining stages called one by one, as a user or an engine would: the same pair files as :func:`mine`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from luxembedder.mining import MiningConfig, mine
from luxembedder.mining.pipeline import (
    embed_stage,
    match_stage,
    prepare_stage,
    read_embeddings,
    read_prepared,
    score_stage,
    select_stage,
)
from luxembedder.settings import get_settings

from .helpers import OracleEncoder, write_articles


def test_stage_functions_chained_by_hand_give_the_pipeline_pairs(tmp_path: Path) -> None:
    articles = write_articles(tmp_path / "articles.jsonl")
    cfg = MiningConfig.parity()
    cfg.embedding.article_representation = "mean_sentences"  # the oracle knows sentences, not whole articles
    cfg.histograms = False
    settings = get_settings(data_dir=tmp_path / "nodata")  # no default leakage list
    (tmp_path / "nodata").mkdir()
    ref = mine([articles], tmp_path / "ref", cfg, settings=settings, encoder=OracleEncoder(), show_progress=False)

    run = tmp_path / "by_hand"
    dirs = {name: run / "stages" / name for name in ("prepare", "embed", "match", "score", "select")}
    for d in dirs.values():
        d.mkdir(parents=True)
    info = prepare_stage(dirs["prepare"], cfg, [articles])
    assert (info["counts"]["articles"], info["counts"]["sentences"]) == (ref.report["articles"],
                                                                          ref.report["sentences"])
    prepared = read_prepared(dirs["prepare"], cfg)
    assert set(prepared.views) == set(cfg.languages())

    info = embed_stage(dirs["embed"], cfg, prepared, "oracle-encoder", run / "cache", encoder=OracleEncoder())
    assert info["model"] == "oracle-encoder" and info["cache_misses"] > 0
    emb = read_embeddings(dirs["embed"], prepared.views)
    assert all(np.allclose(np.linalg.norm(emb.sentences[lang], axis=1), 1, atol=1e-5) for lang in prepared.views)

    assert match_stage(dirs["match"], cfg, prepared.views, emb.articles)["counts"] == ref.report["article_matching"]
    assert score_stage(dirs["score"], cfg, prepared.views, emb.sentences, dirs["match"])["counts"] == \
        ref.report["candidates"]
    info = select_stage(dirs["select"], run, cfg, prepared, emb, dirs["match"], dirs["score"], [])
    assert info["pairs"] == ref.report["selection"]

    for pair in cfg.pairs:
        ours = (run / "pairs" / f"{pair}.jsonl").read_bytes()
        assert ours and ours == (ref.out_dir / "pairs" / f"{pair}.jsonl").read_bytes()
