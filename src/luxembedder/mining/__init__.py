"""LuxAlign mining: multilingual news articles -> scored, filtered parallel sentence pairs.

Stages are plain functions (each usable on its own) chained by :func:`mine`:

- :func:`prepare_corpus` (load, clean, language ID, sentences), :func:`match_articles`,
  :func:`candidate_pairs` + :func:`window_knn_for_candidates` (cosine and margin scores),
  :class:`CosineScorer` / :class:`MarginScorer` (accept decisions), the filters in
  :mod:`luxembedder.mining.filters`, :func:`merge_runs` and :func:`evaluate_run`.
"""

from luxembedder.mining.config import MiningConfig
from luxembedder.mining.matching import ArticleMatches, best_in_window, greedy_one_to_one, match_articles
from luxembedder.mining.merge import evaluate_run, merge_runs
from luxembedder.mining.pipeline import MiningResult, mine
from luxembedder.mining.scoring import (
    Candidates,
    CosineScorer,
    MarginScorer,
    PairScorer,
    candidate_pairs,
    knn_mean_window,
    make_scorer,
    retrieval_mask,
    window_knn_for_candidates,
)
from luxembedder.mining.stages import prepare_corpus

__all__ = [
    "ArticleMatches", "Candidates", "CosineScorer", "MarginScorer", "MiningConfig", "MiningResult",
    "PairScorer", "best_in_window", "candidate_pairs", "evaluate_run", "greedy_one_to_one", "knn_mean_window",
    "make_scorer", "match_articles", "merge_runs", "mine", "prepare_corpus", "retrieval_mask",
    "window_knn_for_candidates",
]
