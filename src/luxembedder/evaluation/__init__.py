"""Evaluation: benchmark tasks with metadata, metrics, the runner, results records and reports."""
