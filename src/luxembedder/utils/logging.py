"""Logging setup for the CLI (library code only calls ``logging.getLogger(__name__)``)."""

from __future__ import annotations

import logging


class _DropKnownNoise(logging.Filter):
    """Hide library notices that are expected here (the e5 prompt is applied on purpose)."""

    NOISE = ("Default prompt name is set to",)

    def filter(self, record: logging.LogRecord) -> bool:
        return not any(n in record.getMessage() for n in self.NOISE)


def setup_logging(verbose: int = 0, quiet: bool = False) -> None:
    """INFO by default, DEBUG with -v, WARNING with -q; rich handler on a terminal."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 0 else logging.INFO)
    if verbose == 0:
        # transformers' own bars ("Loading weights", "Writing model shards") count anonymous items in a
        # fraction of a second; ours count sentences. Read by huggingface_hub when transformers is imported.
        import os

        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(show_path=False, rich_tracebacks=False, markup=False)
        fmt = "%(message)s"
    except ImportError:  # pragma: no cover
        handler = logging.StreamHandler()
        fmt = "%(levelname)s %(name)s: %(message)s"
    handler.addFilter(_DropKnownNoise())
    logging.basicConfig(level=level, format=fmt, handlers=[handler], force=True)
    for noisy in ("httpx", "urllib3", "filelock", "huggingface_hub", "datasets", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
