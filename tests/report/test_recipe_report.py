"""Recipe report pieces: formatted training tables, the tiny-dev-split warning, score histograms."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from luxembedder.recipe.report import _score_histograms, _training_tables

META = {"loss": "mnrl-symmetric", "pair_counts": {"lb-en": {"train": 39, "dev": 2}, "lb-fr": {"train": 400, "dev": 60}},
        "leakage_dropped": {"lb-en": 0, "lb-fr": 3},
        "metrics": {"dev": {"dev_lb-en_src2trg_accuracy": 1.0, "dev_lb-en_trg2src_accuracy": 0.5,
                            "dev_lb-en_mean_accuracy": 0.75, "sequential_score": 0.875},
                    "train": {"global_step": 12, "train_loss": 2.4683, "pairs_per_second": 158.3,
                              "train_runtime_s": 1.21, "best_checkpoint": "/tmp/x/checkpoint-6"}}}


def test_training_tables_are_formatted_and_warn_on_a_tiny_dev_split() -> None:
    pairs, dev, run, warnings = _training_tables(META, min_dev_pairs=50)
    assert pairs[1] == {"pair": "lb-fr", "train pairs": 400, "held-out dev pairs": 60, "dropped (leakage)": 3}
    assert dev == [{"pair": "lb-en", "n": 2, "lb → other (%)": "100.0", "other → lb (%)": "50.0", "mean (%)": "75.0"}]
    values = {r["quantity"]: r["value"] for r in run}
    assert values["final training loss"] == "2.468" and values["throughput"] == "158.3 pairs/s"
    assert values["checkpoint kept"] == "best on the dev split" and "/tmp" not in str(values)
    assert len(warnings) == 1 and "lb-en: 2 pairs" in warnings[0] and "lb-fr" not in warnings[0]
    assert "unreliable" in warnings[0]
    assert _training_tables(META, min_dev_pairs=2)[3] == []


def test_score_histograms_have_threshold_and_gold(tmp_path: Path, monkeypatch) -> None:
    import json

    n = 40
    pq.write_table(pa.table({
        "lang_pair": ["lb-en"] * n, "text_1": [f"Saz {i}" for i in range(n)], "text_2": [f"Sentence {i}" for i in range(n)],
        "cos_sim": [0.5 + i / 100 for i in range(n)], "margin": [1.0] * n, "accepted": [i > 30 for i in range(n)],
        "reason": [""] * n}), tmp_path / "candidates.parquet")
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps({"type": "sentence_pair", "pair": "lb-en", "lb": f"Saz {i}",
                                        "other": f"Sentence {i}"}) + "\n" for i in (35, 36, 37)))
    drawn = {}
    import matplotlib.axes

    real_axvline, real_hist = matplotlib.axes.Axes.axvline, matplotlib.axes.Axes.hist

    def axvline(self, x=0, *a, **k):
        drawn["threshold"] = x
        return real_axvline(self, x, *a, **k)

    def hist(self, x, *a, **k):
        drawn.setdefault("hist_labels", []).append(k.get("label"))
        return real_hist(self, x, *a, **k)

    monkeypatch.setattr(matplotlib.axes.Axes, "axvline", axvline)
    monkeypatch.setattr(matplotlib.axes.Axes, "hist", hist)
    out = _score_histograms(tmp_path, {"method": "cosine", "cosine_threshold": 0.8}, str(gold), tmp_path / "a")
    assert [p.name for p in out] == ["scores_lb-en.png"] and out[0].stat().st_size > 0
    assert drawn["threshold"] == 0.8
    assert drawn["hist_labels"] == ["all candidates (40)", "accepted (9)", "gold alignments (3)"]
