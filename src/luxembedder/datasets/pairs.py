"""The columns of a mined pair file (``pairs/<pair>.jsonl|parquet``), shared by mining (which writes them),
``merge-runs`` and training (which reads ``text_1``/``text_2``). It lives in ``datasets`` so that both the
mining and the training layer can import it (they may not import each other)."""

from __future__ import annotations

PAIR_TEXT_COLUMNS = ("text_1", "text_2")
"""The two sides of a pair (``text_1`` = the first language of the pair name, e.g. lb in lb-en)."""

PAIR_SCORE_COLUMN = "cos_sim"
"""The cosine similarity of the two sides (training's default ``score_column`` for ``min_score``)."""

PAIR_COLUMNS = (*PAIR_TEXT_COLUMNS, PAIR_SCORE_COLUMN, "margin", "article_id_1", "article_id_2", "sentence_id_1",
                "sentence_id_2")
"""Columns of every mined pair file, in order."""
