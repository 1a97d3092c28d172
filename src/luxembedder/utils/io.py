"""File helpers shared by every stage: atomic writes, hashing, and one table reader for all formats.

Supported table formats: ``.jsonl``, ``.json`` (an array of objects), ``.csv``, ``.tsv``, ``.parquet`` and
``.txt`` (one text per line, in a column named by ``text_column``). Every record comes with the 1-based
line where it starts (the row number for Parquet) so that errors can name the file, line and field.
:func:`iter_records` yields every record with its status (damage stays local, see there);
:func:`iter_table` is the strict reader (the first damaged record raises :class:`DataError`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from luxembedder.errors import DataError

logger = logging.getLogger(__name__)

TABLE_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet", ".txt")


@lru_cache(maxsize=4096)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes (the toolkit's one file hash), memoised on (path, size, mtime)."""
    p = Path(path).resolve()
    st = p.stat()
    return _sha256_cached(str(p), st.st_size, st.st_mtime_ns)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_files(files: Iterable[str | Path], root: str | Path | None = None, salt: str = "") -> str:
    """One hex sha256 over several files, in the order given: ``salt``, then for each file its path relative
    to ``root`` (POSIX form; left out without ``root``) and the :func:`sha256_file` of its bytes."""
    h = hashlib.sha256(salt.encode())
    for f in files:
        if root is not None:
            h.update(Path(f).relative_to(root).as_posix().encode())
        h.update(sha256_file(f).encode())
    return h.hexdigest()


def sha256_dir(path: str | Path) -> str:
    """Hex sha256 of a folder: every file under it, sorted, by relative name and content
    (:func:`sha256_files`); the same for a copy of the folder anywhere else."""
    root = Path(path)
    return sha256_files(sorted(p for p in root.rglob("*") if p.is_file()), root=root)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _owner_tag() -> str:
    """``host-pid`` of this process, part of every temporary name so a later run can tell stale ones."""
    return f"{socket.gethostname().replace('.', '_')}-{os.getpid()}"


_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.(?P<host>[^.]+)-(?P<pid>\d+)-[^.]*\.(?:partial|tmp)$")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_stale(name: str) -> bool:
    """A temporary file or folder left by a process of this machine that is gone (or of an older version)."""
    m = _TEMP_NAME.match(name)
    if m is None:
        return True  # written before temporary names carried their owner
    if m["host"] != socket.gethostname().replace(".", "_"):
        return False  # another machine's (shared folder): cannot tell, keep
    return not _pid_alive(int(m["pid"]))


def remove_stale_partials(directory: str | Path, target: str | None = None) -> list[Path]:
    """Remove ``.NAME.*.partial`` folders and ``.NAME.*.tmp`` files left in ``directory`` by interrupted
    runs (``kill -9``, power loss) whose process is gone; only those of ``target`` when given. Returns
    what was removed."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    removed = []
    prefix = f".{target}." if target is not None else "."
    for entry in directory.iterdir():
        name = entry.name
        if not name.startswith(prefix) or not name.endswith((".partial", ".tmp")) or not _is_stale(name):
            continue
        if target is not None and (m := _TEMP_NAME.match(name)) is not None and m["target"] != target:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        logger.info("removed %s left by an interrupted run", entry)
        removed.append(entry)
    return removed


def atomic_write_bytes(path: str | Path, data: bytes, skip_if_same: bool = False) -> Path:
    """Write to a temp file in the same directory, then rename: readers never see half a file.

    The file gets the permissions a plain ``open()`` would give (0666 less the umask). ``skip_if_same``:
    leave an existing file with the same bytes untouched (a no-op rerun writes nothing).
    """
    path = Path(path)
    if skip_if_same and path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{_owner_tag()}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.filename is None and exc.errno is not None:  # a full disk during write(): name the file
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str, skip_if_same: bool = False) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), skip_if_same=skip_if_same)


def atomic_write_json(path: str | Path, obj: Any, skip_if_same: bool = False) -> Path:
    return atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n",
                             skip_if_same=skip_if_same)


def atomic_write_npy(path: str | Path, array: Any) -> Path:
    """One array as ``.npy`` (float arrays kept in their dtype), atomically."""
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array))
    return atomic_write_bytes(path, buf.getvalue())


def atomic_write_npz(path: str | Path, arrays: dict[str, Any]) -> Path:
    """Named arrays as an uncompressed ``.npz``, atomically."""
    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return atomic_write_bytes(path, buf.getvalue())


def write_jsonl(path: str | Path, rows: list[dict[str, Any]], skip_if_same: bool = False) -> Path:
    """Write rows as JSON lines, atomically."""
    return atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows),
                             skip_if_same=skip_if_same)


@contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling directory; on success it replaces ``target`` in one rename.

    The directory gets the permissions a plain ``mkdir`` would give (0777 less the umask), not
    ``mkdtemp``'s 0700. Temporary siblings of ``target`` left by interrupted runs are removed first.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(target.parent, target.name)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.{_owner_tag()}-", suffix=".partial"))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# ------------------------------------------------------------------------------------------- records

@dataclass(frozen=True)
class Record:
    """One input record and its status: a row that was read (``row``) or a damaged record (``error``).

    ``line`` is the 1-based line where the record starts (the element number for a JSON array, the row
    number for Parquet); ``raw`` is the record's text when it could not be read, so nothing is lost.
    ``fatal`` marks a record after which the rest of the file could not be read (its text is in ``raw``).
    """

    line: int | None
    row: dict[str, Any] | None = None
    error: str | None = None
    raw: str | None = None
    field: str | None = None
    fatal: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


_SURROGATE = re.compile("[\udc80-\udcff]")


def utf8_problem(text: str) -> str | None:
    """For text decoded with ``surrogateescape``: describe the first invalid UTF-8 byte, or ``None``."""
    m = _SURROGATE.search(text)
    return None if m is None else f"not valid UTF-8 (byte 0x{ord(m.group()) - 0xDC00:02x} at character {m.start()})"


def _printable(text: str) -> str:
    """Text with invalid bytes shown as U+FFFD (for error records written as JSON)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _read_text(path: Path) -> str:
    """The whole file as text; invalid UTF-8 bytes kept as lone surrogates; a leading BOM dropped."""
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    return text[1:] if text.startswith("\ufeff") else text


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Physical lines (1-based, line ending kept) decoded with ``surrogateescape``; BOM dropped."""
    with open(path, "rb") as fh:
        for i, raw in enumerate(fh, start=1):
            text = raw.decode("utf-8", errors="surrogateescape")
            if i == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield i, text


def _records_txt(path: Path, text_column: str) -> Iterator[Record]:
    for i, text in _lines(path):
        text = text.rstrip("\r\n")
        problem = utf8_problem(text)
        if problem:
            yield Record(i, error=problem, raw=_printable(text), field=text_column)
        else:
            yield Record(i, {text_column: text})


def _records_jsonl(path: Path) -> Iterator[Record]:
    for i, text in _lines(path):
        text = text.strip()
        if not text:
            continue
        problem = utf8_problem(text)
        if problem:
            yield Record(i, error=problem, raw=_printable(text))
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Record(i, error=f"malformed JSON: {exc.msg} (column {exc.colno})", raw=text)
            continue
        if not isinstance(row, dict):
            yield Record(i, error=f"expected a JSON object, found {type(row).__name__}", raw=text)
            continue
        yield Record(i, row)


_WS = re.compile(r"[ \t\n\r]*")
_NEXT_ELEMENT = re.compile(r",[ \t\n\r]*(?=\{)")


def _json_array_records(path: Path) -> Iterator[Record]:
    """Elements of a JSON array decoded one by one: a damaged element is rejected alone.

    After an element that does not decode, reading resumes at the next ``, {`` where an object decodes and
    is followed by ``,`` or ``]`` (the start of the next element); everything skipped is the rejected
    element's ``raw`` text. ``line`` is the line where the element starts; reasons name the element.
    """
    text = _read_text(path)
    dec = json.JSONDecoder()
    n = len(text)

    def skip_ws(i: int) -> int:
        return _WS.match(text, i).end()  # type: ignore[union-attr]

    pos_line = [0, 1]  # (position, line) of the last lookup: positions only grow, so counting is linear

    def line_of(i: int) -> int:
        if i < pos_line[0]:
            return text.count("\n", 0, i) + 1
        pos_line[1] += text.count("\n", pos_line[0], i)
        pos_line[0] = i
        return pos_line[1]

    def element_end(i: int) -> int | None:
        """End of an object decoded at ``i`` that is followed by ',' or ']', else None."""
        try:
            _, end = dec.raw_decode(text, i)
        except json.JSONDecodeError:
            return None
        j = skip_ws(end)
        return end if j < n and text[j] in ",]" else None

    def resync(after: int) -> int | None:
        for m in _NEXT_ELEMENT.finditer(text, after):
            if element_end(m.end()) is not None:
                return m.end()
        return None

    i = skip_ws(0)
    if i >= n:
        return
    if text[i] == "{":  # an object wrapping the rows: {"data": [...]} or a single object
        problem = utf8_problem(text)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Record(1, error=f"malformed JSON: {exc.msg} (line {exc.lineno})", raw=_printable(text), fatal=True)
            return
        rows = data.get("data", data.get("rows", [data])) if isinstance(data, dict) else data
        if not isinstance(rows, list):
            yield Record(1, error="expected a JSON array of objects", raw=_printable(text), fatal=True)
            return
        for k, row in enumerate(rows, start=1):
            if problem and utf8_problem(json.dumps(row, ensure_ascii=False)):
                yield Record(k, error=utf8_problem(json.dumps(row, ensure_ascii=False)),
                             raw=_printable(json.dumps(row, ensure_ascii=False)))
            elif not isinstance(row, dict):
                yield Record(k, error=f"element {k}: expected a JSON object, found {type(row).__name__}",
                             raw=json.dumps(row))
            else:
                yield Record(k, row)
        return
    if text[i] != "[":
        yield Record(1, error="expected a JSON array of objects", raw=_printable(text), fatal=True)
        return
    i = skip_ws(i + 1)
    k = 0
    if i < n and text[i] == "]":
        i = skip_ws(i + 1)
    else:
        while True:
            if i >= n:
                yield Record(line_of(n), error=f"malformed JSON: the array is not closed after element {k} "
                             "(file truncated?)", raw="", fatal=True)
                return
            k += 1
            start = i
            try:
                value, end = dec.raw_decode(text, i)
            except json.JSONDecodeError as exc:
                nxt = resync(start + 1)
                line = line_of(start)
                reason = f"malformed JSON in element {k}: {exc.msg} (line {exc.lineno} column {exc.colno}"
                if nxt is None:
                    yield Record(line, error=f"{reason}; file not read past this point)",
                                 raw=_printable(text[start:]), fatal=True)
                    return
                yield Record(line, error=f"{reason}; reading resumed at line {line_of(nxt)})",
                             raw=_printable(text[start:nxt].rstrip().rstrip(",")))
                i = nxt
                continue
            chunk = text[start:end]
            line = line_of(start)
            problem = utf8_problem(chunk)
            if problem:
                yield Record(line, error=f"element {k}: {problem}", raw=_printable(chunk))
            elif not isinstance(value, dict):
                yield Record(line, error=f"element {k}: expected a JSON object, found {type(value).__name__}",
                             raw=chunk)
            else:
                yield Record(line, value)
            j = skip_ws(end)
            if j < n and text[j] == "]":
                i = skip_ws(j + 1)
                break
            if j < n and text[j] == ",":
                i = skip_ws(j + 1)
                if i < n and text[i] == "]":
                    k += 1
                    yield Record(line_of(j), error=f"malformed JSON: trailing comma after element {k - 1}",
                                 raw=",")
                    i = skip_ws(i + 1)
                    break
                continue
            # no separator after a good element: report the gap, go on at the next element
            k += 1
            if j < n and text[j] == "{":
                yield Record(line_of(j), error=f"malformed JSON: missing ',' after element {k - 1}", raw="")
                i = j
                continue
            nxt = resync(j)
            if nxt is None:
                yield Record(line_of(j), error=f"malformed JSON: expected ',' or ']' after element {k - 1} "
                             "(file not read past this point)", raw=_printable(text[j:]), fatal=True)
                return
            yield Record(line_of(j), error=f"malformed JSON: expected ',' or ']' after element {k - 1} "
                         f"(reading resumed at line {line_of(nxt)})",
                         raw=_printable(text[j:nxt].rstrip().rstrip(",")))
            i = nxt
    if i < n:
        yield Record(line_of(i), error="malformed JSON: extra data after the array",
                     raw=_printable(text[i:]), fatal=True)


class _LineFeed:
    """Physical lines fed to :mod:`csv` one at a time, from a position that can be moved back."""

    def __init__(self, lines: list[str]) -> None:
        self.lines, self.pos = lines, 0

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


def _delimited_records(path: Path, delimiter: str) -> Iterator[Record]:
    """CSV/TSV records with their first line number; quoted CSV fields may span lines.

    A record that spans several lines is kept only if it is well-formed under strict CSV rules (every
    quoted field closed and followed by a delimiter or the line end) and has the header's column count.
    Otherwise its first line is rejected alone and reading resumes on the next line, so a stray quote
    never swallows the rows after it.
    """
    lines = io.StringIO(_read_text(path), newline="").readlines()
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    feed = _LineFeed(lines)
    reader = csv.reader(feed, delimiter=delimiter, quoting=quoting)
    header: list[str] | None = None
    while feed.pos < len(lines):
        start = feed.pos
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row, error = None, f"malformed CSV: {exc}"
        else:
            error = None
        if feed.pos - start > 1 and error is None:
            try:
                strict = next(csv.reader(lines[start:feed.pos], delimiter=delimiter, quoting=quoting,
                                         strict=True))
            except csv.Error as exc:
                error = f"malformed CSV: a quote opened on this line is not closed properly ({exc})"
            else:
                if header is not None and len(strict) != len(header):
                    error = (f"malformed CSV: a quote opened on this line takes in lines {start + 2}-"
                             f"{feed.pos} and leaves {len(strict)} columns instead of {len(header)}")
        elif error is None and '"' in lines[start] and quoting != csv.QUOTE_NONE:
            try:  # a single line whose quote is never closed (at the end of the file)
                next(csv.reader(lines[start:feed.pos], delimiter=delimiter, quoting=quoting, strict=True))
            except csv.Error as exc:
                if "end of data" in str(exc):
                    error = f"malformed CSV: a quote opened on this line is never closed ({exc})"
        if error is not None:
            feed.pos = start + 1  # reject this line alone, resume on the next one
            raw = lines[start].rstrip("\r\n")
            if header is None:
                yield Record(start + 1, error=f"header: {error}", raw=_printable("".join(lines)), fatal=True)
                return
            yield Record(start + 1, error=error, raw=_printable(raw))
            continue
        assert row is not None
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        line = start + 1
        if header is None:
            problem = utf8_problem("".join(row))
            if problem:
                yield Record(line, error=f"header {problem}", raw=_printable("".join(lines)), fatal=True)
                return
            header = row
            continue
        joined = delimiter.join(row)
        problem = utf8_problem(joined)
        if problem:
            yield Record(line, error=problem, raw=_printable(joined))
        elif len(row) != len(header):
            yield Record(line, error=f"malformed row: expected {len(header)} columns ({', '.join(header)}), "
                         f"found {len(row)}", raw=joined)
        else:
            yield Record(line, dict(zip(header, row, strict=True)))


def _parquet_records(path: Path) -> Iterator[Record]:
    import pyarrow.parquet as pq

    k = 0
    try:
        pf = pq.ParquetFile(path)
        for batch in pf.iter_batches():
            for row in batch.to_pylist():
                k += 1
                yield Record(k, row)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        yield Record(k + 1 if k else None, error=f"cannot read parquet file: {exc}", raw=None, fatal=True)


def table_format(path: str | Path, fmt: str | None = None) -> str:
    """The table format of a file (its suffix without the dot, or ``fmt``); raises for an unknown one."""
    path = Path(path)
    suffix = (fmt or path.suffix).lower().lstrip(".")
    if "." + suffix not in TABLE_SUFFIXES:
        raise DataError(f"unsupported file type '{path.suffix}' (expected one of {', '.join(TABLE_SUFFIXES)})",
                        path)
    return suffix


def iter_records(path: str | Path, text_column: str = "text", fmt: str | None = None) -> Iterator[Record]:
    """Every record of a table file with its status (see :class:`Record`), in file order.

    Damage stays local: a malformed JSONL line, a JSON array element that does not decode, a CSV line
    whose stray quote would swallow the following lines, a line with invalid UTF-8 are each one error
    record and the records around them are read. A UTF-8 byte-order mark is accepted in every text format.
    Only damage that makes the rest unreadable (a broken CSV header, an unreadable Parquet file, JSON that
    is not an array) gives a record with ``fatal=True`` holding the rest of the file. Blank lines are not
    records (except in ``.txt``, where every line is one).
    """
    path = Path(path)
    suffix = table_format(path, fmt)
    if not path.is_file():
        raise DataError("file not found" if not path.exists() else "not a file", path)
    if suffix == "txt":
        yield from _records_txt(path, text_column)
    elif suffix == "jsonl":
        yield from _records_jsonl(path)
    elif suffix == "json":
        yield from _json_array_records(path)
    elif suffix in ("csv", "tsv"):
        yield from _delimited_records(path, "\t" if suffix == "tsv" else ",")
    else:
        yield from _parquet_records(path)


def iter_table(
    path: str | Path, text_column: str = "text", fmt: str | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, row)`` from a table file of any supported format (strict).

    The first damaged record raises :class:`DataError` naming the file and line; readers that must
    quarantine bad records and go on use :func:`iter_records`.
    """
    for rec in iter_records(path, text_column=text_column, fmt=fmt):
        if rec.error is not None:
            raise DataError(rec.error, path, rec.line, rec.field)
        yield rec.line, rec.row  # type: ignore[misc]


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
