"""Task protocols on tiny fixtures with hand-computed answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from luxembedder.errors import ConfigError, DataError, MissingDataError
from luxembedder.evaluation import tasks as T
from luxembedder.settings import Settings
from luxembedder.utils.io import sha256_file

from .conftest import SIB_VOCAB, KeywordEncoder, bag_of_words

SIB_LABELS = {"sports": "Sport", "politics": "Politik", "health": "Gesondheet"}


def test_metadata_is_validated() -> None:
    with pytest.raises(Exception, match="ltz_Latn"):
        T.TaskMetadata(name="x", protocol="p", description="d", languages=["lb"])
    with pytest.raises(ConfigError, match="nope"):
        T.TaskMetadata.from_dict({"name": "x", "protocol": "p", "description": "d", "languages": ["ltz_Latn"],
                                  "nope": 1})
    for cls in T.BUILTIN_TASKS.values():
        assert cls.metadata.languages and cls.metadata.protocol


def test_sib_zeroshot_hand_computed(eval_settings_obj: Settings) -> None:
    cfg = T.SibZeroShotConfig(templates=["{L}", "Iwwer {L}."], labels=SIB_LABELS, english_templates=[],
                              english_labels=SIB_LABELS)
    task = T.Sib200ZeroShot(eval_settings_obj, config=cfg)
    texts = task.texts()
    assert "Iwwer Gesondheet." in texts and "Politik" in texts
    [rec] = task.evaluate(KeywordEncoder(SIB_VOCAB))
    # row 6 (health) mentions Spidol and Regierung: a tie between politics and health, argmax takes the
    # first label (politics) -> wrong; the other five are right, under both templates
    assert rec.main_score == pytest.approx(5 / 6)
    assert rec.items == pytest.approx([1, 1, 1, 1, 1, 0])
    assert rec.protocol == "zeroshot-lb-templates/mean-accuracy-over-2"
    per = rec.metrics["per_template"]
    assert per["{L}"]["accuracy"] == pytest.approx(5 / 6)
    # sports F1 1, politics P=2/3 R=1 -> 0.8, health P=1 R=1/2 -> 2/3
    assert per["Iwwer {L}."]["macro_f1"] == pytest.approx((1 + 0.8 + 2 / 3) / 3)
    assert rec.data[0].path.endswith("ltz_Latn/test.tsv") and len(rec.data[0].sha256) == 64


def test_sib_template_needs_slot_and_labels_cover_categories(eval_settings_obj: Settings) -> None:
    with pytest.raises(ConfigError, match="label slot"):
        T.SibZeroShotConfig.from_dict({"templates": ["no slot"]})
    cfg = T.SibZeroShotConfig(labels={"sports": "Sport"}, english_templates=[])
    with pytest.raises(ConfigError, match="politics"):
        T.Sib200ZeroShot(eval_settings_obj, config=cfg).texts()


def _undersample_loop(labels: np.ndarray, k: int, rng: np.random.RandomState, idxs: np.ndarray) -> list[int]:
    rng.shuffle(idxs)
    counts: dict[str, int] = {}
    out = []
    for i in idxs:
        if counts.get(labels[i], 0) < k:
            out.append(int(i))
            counts[labels[i]] = counts.get(labels[i], 0) + 1
    return out


def test_mteb_undersample_matches_loop() -> None:
    labels = np.array(list("abcabcaabbccabcaaa"))
    r1, r2 = np.random.RandomState(42), np.random.RandomState(42)
    i1, i2 = np.arange(len(labels)), np.arange(len(labels))
    for _ in range(3):
        assert T.mteb_undersample(labels, 2, r1, i1).tolist() == _undersample_loop(labels, 2, r2, i2)


def test_sib_transfer_seeded_and_deterministic(eval_settings_obj: Settings) -> None:
    cfg = T.SibTransferConfig(sources=["eng_Latn"], union=False, mteb_samples_per_label=1, mteb_repeats=3)
    enc = KeywordEncoder(SIB_VOCAB)
    run1 = T.Sib200Transfer(eval_settings_obj, config=cfg).evaluate(enc)
    run2 = T.Sib200Transfer(eval_settings_obj, config=cfg).evaluate(enc)
    assert [r.subset for r in run1] == ["eng_Latn->ltz_Latn", "ltz_Latn->ltz_Latn", "ltz_Latn:mteb-1shot"]
    assert [r.main_score for r in run1] == [r.main_score for r in run2]
    assert [r.metrics for r in run1] == [r.metrics for r in run2]
    assert "in-language reference" in run1[1].protocol
    assert run1[2].protocol.startswith("mteb-SIB200Classification(1/label,3 repeats,max_iter=100)")
    assert len(run1[2].metrics["scores_per_experiment"]) == 3
    # keyword features separate the English training topics; rows 1-5 are right, row 6 is ambiguous
    assert run1[0].main_score >= 5 / 6 - 1e-9
    assert {d.path.split("/")[-2] for d in run1[0].data} == {"eng_Latn", "ltz_Latn"}


def test_bitext_duplicates_scored_by_text(eval_settings_obj: Settings) -> None:
    cfg = T.BitextLtzConfig(tatoeba={"eng": ["challenge"]}, flores=[], ntrex=[])
    enc = KeywordEncoder({"coming": 0, "mat": 0, "cat": 1, "kaz": 1})
    [rec] = T.BitextLtz(eval_settings_obj, config=cfg).evaluate(enc)
    m = rec.metrics
    # ltz->eng: "Geet dir mat?" retrieves the first "Are you coming along?" row: same text -> right
    assert m["top1_cosine_text_match_ltz2eng"] == pytest.approx(1.0)
    # eng->ltz: the two identical English rows retrieve the same ltz row: one of them is wrong
    assert m["top1_cosine_text_match_eng2ltz"] == pytest.approx(2 / 3)
    assert rec.main_score == pytest.approx(5 / 6)
    assert m["mteb_bitext_accuracy_by_row_ltz2eng"] == pytest.approx(2 / 3)  # MTEB scores by row index
    assert rec.subset == "tatoeba:ltz-eng:challenge" and rec.n == 3
    lenient = T.BitextLtz(eval_settings_obj, config=cfg.with_overrides(any_translation=True)).evaluate(enc)[0]
    assert lenient.main_score == 1.0 and "any-translation" in lenient.protocol


def test_paralux_ties_wrong_per_edit_type(eval_settings_obj: Settings, eval_data_dir: Path) -> None:
    task = T.TripletTask(eval_settings_obj)
    enc = bag_of_words(task.texts())
    [rec] = task.evaluate(enc)
    assert rec.main_score == pytest.approx(2 / 3)
    assert rec.metrics["per_edit_type"] == {"negation": {"accuracy": 0.5, "n": 2},
                                            "number": {"accuracy": 1.0, "n": 1}}
    assert rec.data[0].path == str(eval_data_dir / "paralux_dev" / "paralux_dev.jsonl")


def test_user_tasks_from_files(tmp_path: Path, eval_settings_obj: Settings) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    bt = tmp_path / "pairs.csv"
    bt.write_text("lb,en\nD Kaz schléift.,The cat sleeps.\nGees du mat?,Are you coming along?\n", encoding="utf-8")
    task = T.get_task(f"bitext:{bt}:lb:en", eval_settings_obj)
    [rec] = task.evaluate(KeywordEncoder({"coming": 0, "mat": 0, "cat": 1, "kaz": 1}))
    assert rec.main_score == 1.0 and rec.task == f"bitext:pairs.csv@{sha256_file(bt)[:8]}:lb:en"

    rows = [{"anchor": "a b", "paraphrase": "b a", "not_paraphrase": "a c"},
            {"anchor": "x y", "paraphrase": "x z", "not_paraphrase": "x y w"}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "t.parquet")
    task = T.get_task(f"triplets:{tmp_path / 't.parquet'}", eval_settings_obj)
    [rec] = task.evaluate(bag_of_words(task.texts()))
    # row 1: cos(a,p)=1 > cos(a,n)=0.5 -> right; row 2: cos(a,p)=0.5 < cos(a,n)=0.816 -> wrong
    assert rec.main_score == 0.5 and "per_edit_type" not in rec.metrics

    train = tmp_path / "train.jsonl"
    test = tmp_path / "test.tsv"
    train.write_text("".join(json.dumps({"label": lab, "text": t}) + "\n" for lab, t in
                             [("s", "Fussball Ekipp"), ("p", "Regierung Chamber"), ("s", "Club Sport"),
                              ("p", "Politik Regierung")]), encoding="utf-8")
    test.write_text("label\ttext\ns\tFussball Club\np\tChamber Politik\n", encoding="utf-8")
    task = T.get_task(f"classification:{train}:{test}", eval_settings_obj)
    [rec] = task.evaluate(KeywordEncoder(SIB_VOCAB))
    assert rec.main_score == 1.0 and rec.metrics["n_train"] == 4


def test_user_task_names_follow_file_content_not_location(tmp_path: Path, eval_settings_obj: Settings) -> None:
    """The same file in two folders gives one name (results merge across checkouts); an edit gives another."""
    text = "lb\ten\nMoien\tHello\nÄddi\tBye\n"
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "p.tsv").write_text(text, encoding="utf-8")
    name_a = T.get_task(f"bitext:{tmp_path / 'a' / 'p.tsv'}:lb:en", eval_settings_obj)
    name_b = T.get_task(f"bitext:{tmp_path / 'b' / 'p.tsv'}:lb:en", eval_settings_obj)
    name_a.ensure_loaded()
    name_b.ensure_loaded()
    assert name_a.name == name_b.name and str(tmp_path) not in name_a.name
    (tmp_path / "b" / "p.tsv").write_text(text + "Merci\tThanks\n", encoding="utf-8")
    edited = T.get_task(f"bitext:{tmp_path / 'b' / 'p.tsv'}:lb:en", eval_settings_obj)
    edited.ensure_loaded()
    assert edited.name != name_a.name and edited.name.startswith("bitext:p.tsv@")
    assert T.get_task("paralux", eval_settings_obj).name == "paralux"


def test_bad_specs_and_missing_data(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="built-in tasks"):
        T.get_task("nope")
    with pytest.raises(ConfigError, match="bitext:PATH"):
        T.get_task("bitext:only-a-path")
    empty = Settings(data_dir=tmp_path, models_home=tmp_path, online=False)
    with pytest.raises(MissingDataError) as exc:
        T.get_task("sib200-zeroshot", empty).texts()
    msg = str(exc.value)
    assert "sib200-zeroshot" in msg and "ltz_Latn/test.tsv" in msg and "SIB-200" in msg


def test_malformed_triplets_name_line_and_field(tmp_path: Path, eval_settings_obj: Settings) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"anchor": "a", "paraphrase": "b", "not_paraphrase": "c"}\n{"anchor": "a", "paraphrase": ""'
                   ', "not_paraphrase": "c"}\n', encoding="utf-8")
    with pytest.raises(DataError) as exc:
        T.get_task(f"triplets:{bad}", eval_settings_obj).texts()
    assert exc.value.line == 2 and exc.value.field == "paraphrase" and exc.value.path == str(bad)


def test_suite_config_from_yaml(tmp_path: Path, eval_settings_obj: Settings) -> None:
    cfg_path = tmp_path / "suite.yaml"
    cfg_path.write_text("sib200_zeroshot:\n  templates: ['{L}']\n  labels: {sports: Sport, politics: Politik, "
                        "health: Gesondheet}\n  english_templates: []\neval:\n  seed: 7\n", encoding="utf-8")
    cfg = T.SuiteConfig.from_yaml(cfg_path)
    task = T.get_task("sib200-zeroshot", eval_settings_obj, cfg)
    [rec] = task.evaluate(KeywordEncoder(SIB_VOCAB))
    assert rec.seed == 7 and rec.protocol.endswith("over-1")
    assert [Path(f["path"]).name for f in task.data_files()] == ["test.tsv"]
    cfg_path.write_text("sib200_zeroshot:\n  templatez: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="templatez"):
        T.SuiteConfig.from_yaml(cfg_path)


def test_registry_feeds_get_task_help_and_metadata_drives_records(eval_settings_obj: Settings) -> None:
    assert T.default_tasks() == ["sib200-zeroshot", "sib200-transfer", "bitext-ltz", "paralux", "bitext-lrl"]
    assert T.available_tasks() == [*T.default_tasks(), "flores-bitext"]
    for name, cls in T.TASKS.items():
        assert cls.metadata.name == name and name in T.task_help()
        assert type(T.get_task(name, eval_settings_obj)) is cls
    for syntax in ("bitext:PATH:SRC_COL:TGT_COL", "triplets:PATH", "classification:TRAIN_PATH:TEST_PATH"):
        assert syntax in T.task_help()
    assert T.task_class_for("bitext:p.tsv@0123abcd:lb:en") is T.BitextFileTask
    task = T.get_task("paralux", eval_settings_obj)
    assert task.metadata.type == "triplets" and isinstance(task, T.TripletsTask)
    [rec] = task.evaluate(bag_of_words(task.texts()))
    assert rec.main_metric == task.metadata.main_score and rec.protocol == task.metadata.protocol


def test_metadata_pins_the_published_files(eval_data_dir: Path, tmp_path: Path) -> None:
    """A pinned default file whose content differs in a data dir with MANIFEST.tsv is an error."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(eval_data_dir, data)
    (data / "MANIFEST.tsv").write_text("staged_path\tsha256\n", encoding="utf-8")
    settings = Settings(data_dir=data, models_home=tmp_path / "home", online=False)
    with pytest.raises(DataError, match="pins"):
        T.get_task("sib200-zeroshot", settings).texts()
    lenient = T.SuiteConfig.from_dict({"eval": {"strict_data": False}})
    assert T.get_task("sib200-zeroshot", settings, lenient).texts()
