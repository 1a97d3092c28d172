"""ParaLux-format paraphrase triplets (the development reconstruction, or any ``triplets:FILE``)."""

from __future__ import annotations

from pathlib import Path

from luxembedder.datasets import benchmarks as B
from luxembedder.evaluation.tasks.base import EvalSettings, TaskMetadata, register, register_user_task
from luxembedder.evaluation.tasks.types import TripletsTask
from luxembedder.settings import Settings


@register
class TripletTask(TripletsTask):
    """Triplet accuracy: cos(anchor, paraphrase) > cos(anchor, not_paraphrase), ties wrong, per edit_type."""

    suite_order = 4
    metadata = TaskMetadata(
        name="paralux", type="triplets", protocol="triplet-accuracy(ties-wrong)",
        description="ParaLux-format paraphrase detection: share of rows where cos(anchor, paraphrase) > "
        "cos(anchor, not_paraphrase); ties count as wrong; per edit_type when present. Default data: the "
        "development reconstruction paralux_dev/paralux_dev.jsonl (not comparable to official ParaLux).",
        languages=["ltz_Latn"], data_files=[{"path": "paralux_dev/paralux_dev.jsonl",
                     "sha256": "adb39a172666899ad4dc21734904e477d0713b76d841cb55ca36b54752a5d25b"}],
        data_source=B.SOURCES["paralux"], reference="paper-notes.md (ParaLux)",
    )

    def __init__(self, settings: Settings | None = None, eval_settings: EvalSettings | None = None,
                 path: str | Path | None = None, spec: str | None = None, split: str | None = None) -> None:
        super().__init__(settings, eval_settings)
        self.path = Path(path) if path is not None else None
        self.split = split
        if spec is not None:
            self.spec = spec

    @classmethod
    def from_suite(cls, settings: Settings | None, suite: object) -> TripletTask:
        return cls(settings, suite.eval, path=suite.paralux_path)  # type: ignore[attr-defined]

    def load(self) -> None:
        path = self.path or B.paralux_dev_path(self.data_dir())
        self.rows = B.read_triplets(path, split=self.split, task=self.spec)
        self.subset = "paralux_dev" if self.path is None else Path(path).stem
        self._files[self.subset] = [Path(path)]
        if self.spec.startswith("triplets:"):
            self._set_file_name("triplets", Path(path))


@register_user_task("triplets", "triplets:PATH")
def triplets_file(spec: str, rest: str, settings: Settings | None, ev: EvalSettings) -> TripletTask:
    return TripletTask(settings, ev, path=rest, spec=spec)


triplets_file.task_class = TripletTask  # type: ignore[attr-defined]
