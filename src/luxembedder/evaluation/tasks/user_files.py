"""Tasks on the user's own files: ``bitext:PATH:SRC_COL:TGT_COL`` and ``classification:TRAIN:TEST``
(``triplets:PATH`` lives with ParaLux)."""

from __future__ import annotations

from pathlib import Path

from luxembedder.datasets import benchmarks as B
from luxembedder.errors import ConfigError, DataError
from luxembedder.evaluation.tasks.base import EvalSettings, TaskMetadata, register_user_task
from luxembedder.evaluation.tasks.types import BitextRetrievalTask, BitextSet, ClassificationTask, TransferRun
from luxembedder.settings import Settings


class BitextFileTask(BitextRetrievalTask):
    """``bitext:PATH:SRC_COL:TGT_COL``: top-1 retrieval (text match) on two columns of a user file."""

    metadata = TaskMetadata(name="bitext", type="bitext-retrieval",
                            protocol="top1-cosine-text-match/mean-both-directions",
                            description="user bitext file: two row-aligned columns", languages=["und_Zyyy"])

    def __init__(self, spec: str, path: str, src_col: str, tgt_col: str, settings: Settings | None = None,
                 eval_settings: EvalSettings | None = None) -> None:
        self.spec = spec
        super().__init__(settings, eval_settings)
        self.path, self.src_col, self.tgt_col = Path(path), src_col, tgt_col
        self.metadata = TaskMetadata.model_validate({**self.metadata.model_dump(),  # type: ignore[misc]
            "name": spec, "description": f"user bitext {path} ({src_col} <-> {tgt_col})",
            "data_files": [{"path": str(path)}], "data_source": "user file"})

    def load_sets(self) -> dict[str, BitextSet]:
        src, tgt = B.read_bitext_file(self.path, self.src_col, self.tgt_col, task=self.spec)
        self._set_file_name("bitext", self.path, self.src_col, self.tgt_col)
        return {self.path.stem: BitextSet(src, tgt, self.src_col, self.tgt_col, [self.path])}


class ClassificationFileTask(ClassificationTask):
    """``classification:TRAIN:TEST``: logistic regression on frozen embeddings (columns label, text)."""

    metadata = TaskMetadata(name="classification", type="classification", protocol="logreg/accuracy",
                            description="user classification files (label, text)", languages=["und_Zyyy"])

    def __init__(self, spec: str, train: str, test: str, settings: Settings | None = None,
                 eval_settings: EvalSettings | None = None, C: float = 1.0, max_iter: int = 1000) -> None:
        self.spec = spec
        super().__init__(settings, eval_settings)
        self.train_path, self.test_path = Path(train), Path(test)
        self.C, self.max_iter = C, max_iter
        self.metadata = TaskMetadata.model_validate({**self.metadata.model_dump(),  # type: ignore[misc]
            "name": spec, "protocol": self.protocol,
            "description": f"user classification: train {train}, test {test}",
            "data_files": [{"path": str(train)}, {"path": str(test)}], "data_source": "user files"})

    @property
    def protocol(self) -> str:
        return f"logreg(C={self.C:g},max_iter={self.max_iter})/accuracy"

    def load(self) -> None:
        y_train, x_train = B.read_labelled_texts(self.train_path, task=self.spec)
        self.test_set = B.read_labelled_texts(self.test_path, task=self.spec)
        if len(set(y_train)) < 2:
            raise DataError("classification needs at least two labels in the training file",
                            self.train_path, field="label")
        self.train_sets = {"train": (y_train, x_train)}
        self._files[self.test_path.stem] = [self.train_path, self.test_path]
        self._set_file_name("classification", self.train_path, self.test_path)

    def runs(self) -> list[TransferRun]:
        return [TransferRun(self.test_path.stem, ["train"], self.test_path.stem)]


@register_user_task("bitext", "bitext:PATH:SRC_COL:TGT_COL")
def bitext_file(spec: str, rest: str, settings: Settings | None, ev: EvalSettings) -> BitextFileTask:
    parts = rest.rsplit(":", 2)
    if len(parts) != 3 or not all(parts):
        raise ConfigError(f"task {spec!r}: expected bitext:PATH:SRC_COL:TGT_COL")
    return BitextFileTask(spec, parts[0], parts[1], parts[2], settings, ev)


@register_user_task("classification", "classification:TRAIN_PATH:TEST_PATH")
def classification_files(spec: str, rest: str, settings: Settings | None, ev: EvalSettings) -> ClassificationFileTask:
    parts = rest.split(":")
    if len(parts) != 2 or not all(parts):
        raise ConfigError(f"task {spec!r}: expected classification:TRAIN_PATH:TEST_PATH")
    return ClassificationFileTask(spec, parts[0], parts[1], settings, ev)


bitext_file.task_class = BitextFileTask  # type: ignore[attr-defined]
classification_files.task_class = ClassificationFileTask  # type: ignore[attr-defined]
