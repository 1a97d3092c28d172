"""Fixture builders for the mining tests: articles from ``tests/fixtures/mining/stories.json`` and an
oracle encoder that knows which sentences are translations of each other."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from pathlib import Path

import numpy as np

STORIES = Path(__file__).parents[1] / "fixtures" / "mining" / "stories.json"
START = _dt.date(2024, 3, 4)


def load_stories() -> dict:
    return json.loads(STORIES.read_text(encoding="utf-8"))


def _row(art_id: str, lang: str, day: int, sents: list[str]) -> dict:
    return {"id": art_id, "lang": lang, "published": (START + _dt.timedelta(days=day)).isoformat(),
            "title": sents[0], "lead": sents[1], "body": " ".join(sents[2:])}


def write_articles(path: Path, extra_rows: list[str] | None = None) -> Path:
    """The stories as one JSONL article file (``extra_rows``: raw lines appended, e.g. bad rows)."""
    data = load_stories()
    rows = []
    for s, story in enumerate(data["stories"]):
        for lang in ("lb", "en", "fr"):
            rows.append(_row(f"{lang}-s{s}", lang, story["days"][lang], story[lang]))
    for d, dis in enumerate(data["distractors"]):
        rows.append(_row(f"{dis['lang']}-d{d}", dis["lang"], dis["day"], dis["sentences"]))
    lines = [json.dumps(r, ensure_ascii=False) for r in rows] + list(extra_rows or [])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def gold_pairs(pair: str) -> set[tuple[str, str]]:
    sl, tl = pair.split("-")
    return {(a, b) for story in load_stories()["stories"] for a, b in zip(story[sl], story[tl], strict=True)}


class OracleEncoder:
    """Translations share a concept vector (plus small noise); any other text gets its own random vector."""

    def __init__(self, dim: int = 64, noise: float = 0.15, fail_after: int | None = None) -> None:
        self.name = "oracle-encoder"
        self.dim = dim
        self.noise = noise
        self.fail_after = fail_after
        self.calls = 0
        self.encoded = 0
        self.concept: dict[str, int] = {}
        data = load_stories()
        for s, story in enumerate(data["stories"]):
            for lang in ("lb", "en", "fr"):
                for i, text in enumerate(story[lang]):
                    self.concept[text] = 1000 * (s + 1) + i

    def _vec(self, seed_text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(seed_text.encode()).digest()[:8], "little")
        return np.random.default_rng(seed).standard_normal(self.dim)

    def encode(self, texts, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise RuntimeError("simulated interruption")
        out = []
        for t in texts:
            c = self.concept.get(t)
            v = self._vec(f"concept-{c}") + self.noise * self._vec(t) if c is not None else self._vec(t)
            out.append(v / np.linalg.norm(v))
        self.encoded += len(texts)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)
