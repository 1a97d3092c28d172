"""Exceptions with messages a user can act on."""

from __future__ import annotations

from pathlib import Path


class LuxEmbedderError(Exception):
    """Base class for errors shown to the user without a stack trace."""


class DataError(LuxEmbedderError):
    """Bad input data: names the file, the line or row, and the field."""

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        self.reason = message
        where = []
        if self.path is not None:
            where.append(self.path)
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")


class ConfigError(LuxEmbedderError):
    """An invalid configuration value: names the key (and the file when known)."""


class ModelNotAvailableError(LuxEmbedderError):
    """A model reference cannot be resolved offline (or at all)."""


class MissingDataError(LuxEmbedderError):
    """A data file a task or stage needs is not where it is expected."""
