"""File helpers shared by every stage: atomic writes, hashing, and one table reader for all formats.

Supported table formats: ``.jsonl``, ``.json`` (an array of objects), ``.csv``, ``.tsv``, ``.parquet`` and
``.txt`` (one text per line, in a column named by ``text_column``). Every row comes with its 1-based line
number (data row number for CSV/TSV/Parquet) so that errors can name the file, line and field.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from luxembedder.errors import DataError

TABLE_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet", ".txt")


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write to a temp file in the same directory, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")


def write_jsonl(path: str | Path, rows: list[dict[str, Any]]) -> Path:
    """Write rows as JSON lines, atomically."""
    return atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows))


@contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling directory; on success it replaces ``target`` in one rename."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial"))
    try:
        yield tmp
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _decode(raw: bytes, path: Path, line: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"not valid UTF-8 at byte {exc.start} of the line", path, line) from None


def iter_table(
    path: str | Path, text_column: str = "text", fmt: str | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, row)`` from a table file of any supported format.

    Malformed rows raise :class:`DataError` naming the file and line, which ends the iteration; readers that
    must quarantine bad rows and go on (the article loader) parse row by row themselves.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", path)
    suffix = (fmt or path.suffix).lower().lstrip(".")
    if suffix == "txt":
        with open(path, "rb") as fh:
            for i, raw in enumerate(fh, start=1):
                yield i, {text_column: _decode(raw, path, i).rstrip("\r\n")}
    elif suffix == "jsonl":
        with open(path, "rb") as fh:
            for i, raw in enumerate(fh, start=1):
                text = _decode(raw, path, i).strip()
                if not text:
                    continue
                try:
                    row = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise DataError(f"malformed JSON: {exc.msg} (column {exc.colno})", path, i) from None
                if not isinstance(row, dict):
                    raise DataError("expected a JSON object", path, i)
                yield i, row
    elif suffix == "json":
        try:
            data = json.loads(_decode(path.read_bytes(), path, 1))
        except json.JSONDecodeError as exc:
            raise DataError(f"malformed JSON: {exc.msg}", path, exc.lineno) from None
        if isinstance(data, dict):
            data = data.get("data", data.get("rows", [data]))
        if not isinstance(data, list):
            raise DataError("expected a JSON array of objects", path)
        for i, row in enumerate(data, start=1):
            if not isinstance(row, dict):
                raise DataError("expected a JSON object", path, i)
            yield i, row
    elif suffix in ("csv", "tsv"):
        with open(path, "rb") as fh:
            text = _decode(fh.read(), path, 1)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t" if suffix == "tsv" else ",",
                            quoting=csv.QUOTE_NONE if suffix == "tsv" else csv.QUOTE_MINIMAL)
        try:
            header = next(reader)
        except StopIteration:
            return
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            if len(row) != len(header):
                raise DataError(f"expected {len(header)} columns ({', '.join(header)}), found {len(row)}", path, line)
            yield line, dict(zip(header, row, strict=True))
    elif suffix == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        for i, row in enumerate(table.to_pylist(), start=1):
            yield i, row
    else:
        raise DataError(f"unsupported file type '{path.suffix}' (expected one of {', '.join(TABLE_SUFFIXES)})", path)


def read_table(path: str | Path, text_column: str = "text", fmt: str | None = None) -> list[dict[str, Any]]:
    """All rows of a table file (see :func:`iter_table`)."""
    return [row for _, row in iter_table(path, text_column=text_column, fmt=fmt)]


def read_texts(
    path: str | Path, column: str = "text", skip_empty: bool = False
) -> list[str]:
    """One text column of a table file; an empty text is an error naming the line unless ``skip_empty``."""
    texts: list[str] = []
    for line, row in iter_table(path, text_column=column):
        if column not in row:
            raise DataError(f"missing column (found: {', '.join(map(str, row))})", path, line, column)
        value = row[column]
        if value is None or not str(value).strip():
            if skip_empty:
                continue
            raise DataError("empty text (use --skip-empty to skip empty rows)", path, line, column)
        texts.append(str(value))
    return texts
