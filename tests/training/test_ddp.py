"""Two CPU processes on the gloo backend: ``torchrun --nproc_per_node=2 -m luxembedder.cli.main train``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path


def test_two_process_ddp_run_gathers_negatives(tiny_model_dir: Path, fixtures_dir: Path, tmp_path: Path):
    out = tmp_path / "ddp-model"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        "-m", "luxembedder.cli.main", "train", "--model", str(tiny_model_dir),
        "--pairs", str(fixtures_dir / "pairs" / "lb-en.jsonl"), str(fixtures_dir / "pairs" / "lb-fr.jsonl"),
        "--out", str(out), "--batch-size", "4", "--max-steps", "3", "--threads", "1", "--lr", "1e-3",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    # own process group, so a hang kills torchrun *and* its workers (no orphans left behind)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
                            start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert proc.returncode == 0, stderr[-4000:]
    # one model folder, written once (by rank 0), no leftovers
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp-model"]
    meta = json.loads((out / "luxembedder.json").read_text())
    train = meta["metrics"]["train"]
    assert train["world_size"] == 2 and train["global_step"] == 3
    # in-batch negatives gathered across both processes: each anchor is scored against 2 × 4 candidates
    assert train["max_candidates_per_anchor"] == 8
    from sentence_transformers import SentenceTransformer

    assert SentenceTransformer(str(out), device="cpu").default_prompt_name == "query"
