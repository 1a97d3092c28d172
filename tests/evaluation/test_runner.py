"""Results schema, the resumable runner, reports, MTEB export, adapters and the CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from luxembedder.errors import DataError
from luxembedder.evaluation.mteb_export import export_mteb
from luxembedder.evaluation.report import markdown_table
from luxembedder.evaluation.results import (
    ResultRecord,
    load_results,
    merge_results,
    results_json_schema,
    save_results,
    validate_record,
)
from luxembedder.evaluation.runner import evaluate
from luxembedder.settings import Settings

from .conftest import SIB_VOCAB, KeywordEncoder

TASKS = ["sib200-zeroshot", "paralux"]


def _record(**kw) -> dict:
    base = {"model": "m", "task": "t", "protocol": "p", "main_score": 0.5, "n": 2,
            "data": [{"path": "x", "sha256": "0" * 64}], "ci95": [0.1, 0.9]}
    base.update(kw)
    return base


def test_record_schema_validation(tmp_path: Path) -> None:
    rec = validate_record(_record())
    assert rec.key == ("m", "t", "default", "p")
    for bad, field in ((_record(main_score=1.5), "main_score"), (_record(n=-1), "n"),
                       (_record(data=[{"path": "x", "sha256": "nothex"}]), "data.0.sha256"),
                       (_record(ci95=[0.9, 0.1]), "ci95"), (_record(extra=1), "extra")):
        with pytest.raises(DataError) as exc:
            validate_record(bad, "results.json", 3)
        assert exc.value.field == field and exc.value.line == 4
    schema = results_json_schema()
    assert set(schema["properties"]["records"]["items"]["required"]) >= {"model", "task", "protocol",
                                                                        "main_score", "n"}
    path = save_results(tmp_path / "r.json", [rec])
    assert load_results(path) == [rec]
    (tmp_path / "bad.json").write_text('{"schema": "luxembedder.results/1", "records": [{"model": "m"}]}')
    with pytest.raises(DataError, match=r"bad\.json"):
        load_results(tmp_path / "bad.json")


def test_merge_replaces_same_key() -> None:
    a = ResultRecord.model_validate(_record(main_score=0.1))
    b = ResultRecord.model_validate(_record(main_score=0.2))
    c = ResultRecord.model_validate(_record(subset="other"))
    assert [r.main_score for r in merge_results([a, c], [b])] == [0.2, 0.5]


class PlainHashModel:
    """Not an Encoder: no name, encode(texts) only, unnormalised output (wrapped by CallableEncoder)."""

    def encode(self, texts):
        out = np.zeros((len(texts), 32), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % 32] += 3.0
        return out


def test_runner_resumes_writes_reports_and_adapts(tmp_path: Path, eval_settings_obj: Settings) -> None:
    out = tmp_path / "out"
    kw = KeywordEncoder(SIB_VOCAB, name="kw")
    recs = evaluate([kw, PlainHashModel()], TASKS, out, eval_settings_obj)
    assert {r.model for r in recs} == {"kw", "PlainHashModel"}
    assert {(r.task, r.protocol.split("/")[0]) for r in recs if r.model == "kw"} == {
        ("sib200-zeroshot", "zeroshot-lb-templates"), ("sib200-zeroshot", "zeroshot-en-templates"),
        ("paralux", "triplet-accuracy(ties-wrong)")}
    assert all(0 <= r.main_score <= 1 and r.versions and r.data for r in recs)
    for name in ("results.json", "report.md", "report.html", "eval_config.yaml", "charts/paralux.png"):
        assert (out / name).is_file(), name
    md = (out / "report.md").read_text()
    assert "kw" in md and "PlainHashModel" in md and "triplet-accuracy(ties-wrong)" in md
    assert "data:image/png;base64," in (out / "report.html").read_text()
    assert len(load_results(out / "results.json")) == len(recs)
    calls = kw.calls
    # resume: nothing to do for kw, no encoding at all
    again = evaluate([kw], TASKS, out, eval_settings_obj)
    assert kw.calls == calls and len(again) == len(recs)
    # force: recomputed from the on-disk embedding cache, still without calling the model
    forced = evaluate([kw], TASKS, out, eval_settings_obj, force=True)
    assert kw.calls == calls
    assert [r.main_score for r in forced if r.model == "kw"] == [r.main_score for r in recs if r.model == "kw"]


def test_runner_rescores_an_edited_user_file(tmp_path: Path, eval_settings_obj: Settings) -> None:
    """Results of a user file are keyed by its content: after an edit the task runs again, not 'already done'."""
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("lb\ten\nFussball Ekipp\tfootball team\nRegierung Chamber\tgovernment parliament\n",
                     encoding="utf-8")
    kw = KeywordEncoder(SIB_VOCAB, name="kw")
    spec = f"bitext:{pairs}:lb:en"
    [first] = evaluate([kw], [spec], tmp_path / "out", eval_settings_obj)
    assert first.n == 2
    pairs.write_text(pairs.read_text(encoding="utf-8") + "Club Sport\tclub sports\n", encoding="utf-8")
    recs = evaluate([kw], [spec], tmp_path / "out", eval_settings_obj)
    assert sorted(r.n for r in recs) == [2, 3] and len({r.task for r in recs}) == 2


def test_runner_with_tiny_model_folder(tmp_path: Path, tiny_model_dir: Path, eval_settings_obj: Settings) -> None:
    recs = evaluate([str(tiny_model_dir)], ["paralux"], tmp_path / "o", eval_settings_obj, batch_size=4)
    assert len(recs) == 1 and "@" in recs[0].model and recs[0].n == 3


def mteb_records() -> list[ResultRecord]:
    sib_metrics = {"accuracy": 0.5, "f1": 0.4, "f1_weighted": 0.45, "precision": 0.42, "precision_weighted": 0.47,
                   "recall": 0.41, "recall_weighted": 0.5}
    return [ResultRecord.model_validate(_record(
        model="org/m@0123abcd", task="sib200-transfer", subset="ltz_Latn:mteb-8shot",
        protocol="mteb-SIB200Classification(8/label,10 repeats,max_iter=100)/mean-accuracy",
        metrics={**sib_metrics, "scores_per_experiment": [sib_metrics]})),
        ResultRecord.model_validate(_record(
            model="org/m@0123abcd", task="sib200-transfer", subset="eng_Latn->ltz_Latn", metrics=sib_metrics)),
        ResultRecord.model_validate(_record(
            model="org/m@0123abcd", task="bitext-lrl", subset="tatoeba-v1:gsw-eng", main_score=0.6,
            metrics={"mteb_bitext_weighted_f1_gsw2eng": 0.45, "mteb_bitext_accuracy_by_row_gsw2eng": 0.5,
                     "mteb_bitext_weighted_precision_gsw2eng": 0.44, "mteb_bitext_weighted_recall_gsw2eng": 0.5})),
        ResultRecord.model_validate(_record(
            model="org/m@0123abcd", task="bitext-ltz", subset="flores:ltz-eng", main_score=0.9,
            metrics={"mteb_bitext_weighted_f1_ltz2eng": 0.88})),
        ResultRecord.model_validate(_record(
            model="org/m@0123abcd", task="bitext-ltz", subset="flores:ltz-fra/first100", main_score=0.9,
            metrics={"mteb_bitext_weighted_f1_ltz2fra": 0.88})),
        ResultRecord.model_validate(_record(
            model="org/m@0123abcd", task="bitext-ltz", subset="ntrex:ltz-fra", main_score=0.9,
            metrics={"mteb_bitext_weighted_f1_ltz2fra": 0.8})),
        ResultRecord.model_validate(_record(model="org/m@0123abcd", task="paralux"))]


def test_export_mteb(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING"):
        export = export_mteb(mteb_records(), tmp_path)
    names = sorted(p.name for p in export.files)
    assert names == ["FloresBitextMining.json", "SIB200Classification.json", "Tatoeba.json", "model_meta.json"]
    folder = tmp_path / "results" / "org__m" / "0123abcd"
    sib = json.loads((folder / "SIB200Classification.json").read_text())
    [entry] = sib["scores"]["test"]
    assert entry["hf_subset"] == "ltz_Latn" and entry["languages"] == ["ltz-Latn"] and entry["main_score"] == 0.5
    assert {"f1_weighted", "precision", "recall", "precision_weighted", "recall_weighted"} <= set(entry)
    tat = json.loads((folder / "Tatoeba.json").read_text())
    assert tat["scores"]["test"][0]["main_score"] == 0.45 and tat["scores"]["test"][0]["hf_subset"] == "gsw-eng"
    flores = json.loads((folder / "FloresBitextMining.json").read_text())
    assert [e["hf_subset"] for e in flores["scores"]["devtest"]] == ["ltz_Latn-eng_Latn"]
    meta = json.loads((folder / "model_meta.json").read_text())
    assert meta["name"] == "org/m" and meta["revision"] == "0123abcd"
    # nothing dropped silently: every record without a slot is named in the warning
    assert len(export.skipped) == 4
    for subset in ("eng_Latn->ltz_Latn", "first100", "ntrex:ltz-fra", "paralux"):
        assert subset in caplog.text
    assert "lacks" in caplog.text and "FloresBitextMining" not in "".join(export.skipped)


def test_mteb_loads_the_export(tmp_path: Path) -> None:
    """mteb itself, with its defaults (model_meta.json required), reads every exported score."""
    mteb = pytest.importorskip("mteb")
    export_mteb(mteb_records(), tmp_path)
    results = mteb.ResultCache(tmp_path).load_results(include_remote=False)
    [model] = results.model_results
    assert model.model_name == "org/m" and model.model_revision == "0123abcd"
    by_task = {t.task_name: t for t in model.task_results}
    assert set(by_task) == {"SIB200Classification", "Tatoeba", "FloresBitextMining"}
    assert by_task["SIB200Classification"].get_score() == pytest.approx(0.5)
    assert by_task["Tatoeba"].get_score() == pytest.approx(0.45)
    [sib] = by_task["SIB200Classification"].scores["test"]
    assert sib["f1_weighted"] == 0.45 and sib["recall"] == 0.41


def test_cli_eval_and_results(tmp_path: Path, eval_data_dir: Path, tiny_model_dir: Path) -> None:
    from typer.testing import CliRunner

    from luxembedder.cli.main import app

    runner = CliRunner()
    out = tmp_path / "cli"
    res = runner.invoke(app, ["--data-dir", str(eval_data_dir), "eval", "--model", str(tiny_model_dir),
                              "--task", "paralux", "--out", str(out), "--batch-size", "4"])
    assert res.exit_code == 0, res.output
    assert "paralux" in res.output and "triplet" in res.output
    res = runner.invoke(app, ["results", "table", str(out / "results.json"), "--format", "md"])
    assert res.exit_code == 0 and res.output.startswith("| task | subset | protocol | n |")
    assert res.output == markdown_table(load_results(out / "results.json"))
    res = runner.invoke(app, ["results", "export-mteb", str(out / "results.json"), "--out", str(tmp_path / "m")])
    assert res.exit_code == 0
    copy = tmp_path / "docs" / "copy.json"
    res = runner.invoke(app, ["results", "copy", str(out / "results.json"), str(copy)])
    assert res.exit_code == 0, res.output
    original, copied = load_results(out / "results.json"), load_results(copy)
    assert any(r.items for r in original) and not any(r.items for r in copied)
    assert [r.main_score for r in copied] == [r.main_score for r in original]
    res = runner.invoke(app, ["results", "copy", str(out / "results.json"), str(copy), "--task", "sib200-zeroshot"])
    assert res.exit_code != 0 and "sib200-zeroshot" in str(res.exception)
