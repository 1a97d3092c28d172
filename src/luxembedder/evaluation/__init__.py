"""Evaluation: benchmark tasks with metadata, metrics, the runner, results records and reports.

Command line::

    luxembedder eval --model me5-small --model minilm-en --task sib200-zeroshot --task bitext-ltz --out DIR
    luxembedder results table DIR/results.json --format md
    luxembedder results export-mteb DIR/results.json --out DIR/mteb

Python::

    from luxembedder.evaluation.runner import evaluate
    records = evaluate(["me5-small", my_object_with_encode], ["paralux", "bitext:pairs.tsv:lb:en"], "out")

Tasks (:mod:`luxembedder.evaluation.tasks`): ``sib200-zeroshot``, ``sib200-transfer`` (incl. the labelled
MTEB 8-shot protocol), ``bitext-ltz``, ``paralux``, ``bitext-lrl`` and user tasks from files
(``bitext:PATH:SRC_COL:TGT_COL``, ``triplets:PATH``, ``classification:TRAIN:TEST``). Every record names its
protocol; scores are fractions in [0, 1] with 95% bootstrap intervals (:mod:`.metrics`).
"""
