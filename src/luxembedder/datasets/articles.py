"""Article input: one news article per row, in JSONL, JSON (array), CSV, TSV or Parquet.

Fields (our names; map other column names with :class:`ArticleColumns`):

=============  ========  =====================================================================
field          required  notes
=============  ========  =====================================================================
``id``         yes       string (numbers are converted), unique per language across all files
``lang``       yes       ISO 639-1 (``lb``, ``en``, ``fr``, ``de``); ``ltz``/``ltz_Latn`` are normalised.
                         May be absent when ``default_lang`` is given.
``published``  yes       ISO 8601 date or datetime (``2024-06-12``, ``2024-06-12T08:30:00+02:00``);
                         the date part is kept
``title``      no        may be empty
``lead``       no        may be empty
``body``       yes       plain text or HTML; must not be empty
``url``        no
``category``   no
=============  ========  =====================================================================

Bad rows (malformed line, missing required field, unparsable date, duplicate id within a language, text
that is not valid UTF-8, a value of the wrong type) raise :class:`~luxembedder.errors.DataError` naming
the file, line and field. With ``lenient=True`` the row is quarantined in :attr:`ArticleLoad.rejected`
with the reason and loading goes on. Damage stays local (see :func:`luxembedder.utils.io.iter_records`):
a malformed JSONL line, a JSON array element that does not decode (the array is decoded element by
element and reading resumes at the next element), a CSV line whose stray quote would swallow the lines
after it (it is rejected alone), a record with invalid UTF-8; a UTF-8 byte-order mark is accepted.
Every input record ends up either in ``articles`` or in ``rejected``: per file,
``rows_read == loaded + rejected``.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from luxembedder.config import BaseConfig
from luxembedder.errors import ConfigError, DataError
from luxembedder.text.langcodes import to_iso639_1
from luxembedder.utils.io import iter_records, utf8_problem, write_jsonl

logger = logging.getLogger(__name__)

ARTICLE_FIELDS = ("id", "lang", "published", "title", "lead", "body", "url", "category")


@dataclass
class Article:
    """One news article; ``source`` is ``"file:line"`` of the input row."""

    id: str
    lang: str
    published: _dt.date
    title: str
    lead: str
    body: str
    url: str | None
    category: str | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready row in the toolkit's own article format (``published`` as ISO date)."""
        d = asdict(self)
        d["published"] = self.published.isoformat()
        return d


class ArticleColumns(BaseConfig):
    """Input column name for each article field (defaults: the field's own name).

    ``ArticleColumns.rtl()`` is the preset for RTL.lu-style exports, whose columns are ``public_date``
    (publication date), ``header`` (title) and ``text`` (body); the other columns keep their names.
    """

    id: str = "id"
    lang: str = "lang"
    published: str = "published"
    title: str = "title"
    lead: str = "lead"
    body: str = "body"
    url: str = "url"
    category: str = "category"

    @classmethod
    def rtl(cls) -> ArticleColumns:
        """Preset for RTL-style exports: ``public_date`` -> published, ``header`` -> title, ``text`` -> body."""
        return cls(published="public_date", title="header", body="text")

    @classmethod
    def preset(cls, name: str) -> ArticleColumns:
        """A named preset: ``default`` or ``rtl``."""
        if name == "default":
            return cls()
        if name == "rtl":
            return cls.rtl()
        raise ConfigError(f"unknown article column preset '{name}' (expected 'default' or 'rtl')")


@dataclass
class ArticleLoad:
    """Result of :func:`load_articles`.

    ``rejected`` rows are ``{file, line, field, reason, row}``; ``per_file`` counts the articles accepted
    from each file, ``per_lang`` per language; ``rows_read`` counts every input row seen per file
    (accepted + rejected). Built file by file with :meth:`add_file`.
    """

    articles: list[Article] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    per_file: dict[str, int] = field(default_factory=dict)
    rows_read: dict[str, int] = field(default_factory=dict)
    per_lang: dict[str, int] = field(default_factory=dict)
    first_seen: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    def add_file(self, part: FileLoad, lenient: bool = False) -> list[bool]:
        """Add one file's rows (the files in input order) with the duplicate-id check across files.

        Returns which of ``part.keys`` were loaded (the others are duplicates). Strict (not ``lenient``):
        the file's first bad row, duplicate or rejected by :func:`read_article_file`, raises
        :class:`DataError` naming the file, line and field. A duplicate's rejection holds its input row
        when ``part.rows`` does (``None`` for a :meth:`FileLoad.header`; the caller fills it in).
        """
        key = part.path
        self.per_file.setdefault(key, 0)
        self.rows_read[key] = self.rows_read.get(key, 0) + part.rows_read
        events = sorted([(n, 1, i) for i, (n, *_) in enumerate(part.keys)] +
                        [(n, 0, i) for i, (n, _) in enumerate(part.rejected)])
        kept = [False] * len(part.keys)
        for _, is_row, i in events:
            if not is_row:
                self._reject(part.rejected[i][1], lenient)
                continue
            _, lang, art_id, line = part.keys[i]
            first = self.first_seen.get((lang, art_id))
            if first is not None:
                self._reject({"file": key, "line": line, "field": part.id_column,
                              "reason": f"duplicate id '{art_id}' for language '{lang}' (first seen at {first})",
                              "row": part.rows[i] if part.rows is not None else None}, lenient)
                continue
            self.first_seen[(lang, art_id)] = f"{key}:{line}"  # the article's source
            kept[i] = True
            if part.articles is not None:
                self.articles.append(part.articles[i])
            self.per_file[key] += 1
            self.per_lang[lang] = self.per_lang.get(lang, 0) + 1
        logger.info("%s: %d records, %d articles loaded, %d rejected", key, self.rows_read[key],
                    self.per_file[key], self.rows_read[key] - self.per_file[key])
        return kept

    def _reject(self, rejection: dict[str, Any], lenient: bool) -> None:
        if not lenient:
            raise DataError(rejection["reason"], rejection["file"], rejection["line"], rejection["field"])
        self.rejected.append(rejection)
        logger.debug("rejected %s:%s (%s): %s", rejection["file"], rejection["line"], rejection["field"],
                     rejection["reason"])

    def by_lang(self) -> dict[str, list[Article]]:
        """Articles grouped by language, in input order."""
        out: dict[str, list[Article]] = {}
        for a in self.articles:
            out.setdefault(a.lang, []).append(a)
        return out

    def summary(self) -> dict[str, Any]:
        """Counts for a report: loaded/rejected per file and per language, rejection reasons."""
        reasons: dict[str, int] = {}
        for r in self.rejected:
            key = f"{r.get('field') or '-'}: {_reason_kind(r['reason'])}"
            reasons[key] = reasons.get(key, 0) + 1
        return {
            "loaded": sum(self.per_file.values()),
            "rejected": len(self.rejected),
            "per_file": dict(self.per_file),
            "rows_read": dict(self.rows_read),
            "per_lang": dict(self.per_lang),
            "rejection_reasons": reasons,
        }


def _reason_kind(reason: str) -> str:
    return re.split(r"[:(']", reason)[0].strip()


ARTICLE_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet")


# ------------------------------------------------------------------------------------------ validation

def _parse_date(value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 date string, got {type(value).__name__}")
    s = value.strip()
    try:
        if len(s) == 10:
            return _dt.date.fromisoformat(s)
        return _dt.datetime.fromisoformat(s).date()
    except ValueError:
        raise ValueError(f"unparsable date '{value}' (expected ISO 8601, e.g. 2024-06-12 or "
                         "2024-06-12T08:30:00+02:00)") from None


def _text(row: dict[str, Any], col: str, required: bool, fld: str) -> str:
    value = row.get(col)
    if value is None:
        if required:
            raise _FieldError(fld, col, "missing required field" if col not in row else "empty required field")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _FieldError(fld, col, f"expected text, got {type(value).__name__}")
    s = str(value)
    problem = utf8_problem(s)
    if problem:
        raise _FieldError(fld, col, problem)
    if required and not s.strip():
        raise _FieldError(fld, col, "empty required field")
    return s


class _FieldError(Exception):
    def __init__(self, fld: str, col: str, reason: str) -> None:
        super().__init__(reason)
        self.fld, self.col, self.reason = fld, col, reason


def _to_article(row: dict[str, Any], cols: ArticleColumns, default_lang: str | None, source: str) -> Article:
    art_id = _text(row, cols.id, True, "id").strip()
    lang_raw = row.get(cols.lang)
    if (lang_raw is None or (isinstance(lang_raw, str) and not lang_raw.strip())) and default_lang:
        lang_raw = default_lang
    lang_s = _text({cols.lang: lang_raw}, cols.lang, True, "lang")
    try:
        lang = to_iso639_1(lang_s)
    except ConfigError as exc:
        raise _FieldError("lang", cols.lang, str(exc)) from None
    if cols.published not in row or row[cols.published] is None or row[cols.published] == "":
        raise _FieldError("published", cols.published, "missing required field")
    try:
        published = _parse_date(row[cols.published])
    except ValueError as exc:
        raise _FieldError("published", cols.published, str(exc)) from None
    title = _text(row, cols.title, False, "title")
    lead = _text(row, cols.lead, False, "lead")
    body = _text(row, cols.body, True, "body")
    url = _text(row, cols.url, False, "url") or None
    category = _text(row, cols.category, False, "category") or None
    return Article(id=art_id, lang=lang, published=published, title=title, lead=lead, body=body,
                   url=url, category=category, source=source)


def article_file_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as an article file (unsupported type, missing), or None."""
    path = Path(path)
    if path.suffix.lower() not in ARTICLE_SUFFIXES:
        return (f"unsupported article file type '{path.suffix}' "
                "(expected .jsonl, .json, .csv, .tsv or .parquet)")
    if not path.is_file():
        return "file not found" if not path.exists() else "not a file"
    return None


@dataclass
class FileLoad:
    """One article file read and validated by :func:`read_article_file`, before the duplicate-id check
    that spans all files (:meth:`ArticleLoad.add_file`).

    ``keys`` are ``(record, lang, id, line)`` of the valid rows and ``rejected`` ``(record, rejection)``
    of the bad ones (``record``: the 0-based record number in the file), both in file order; ``articles``
    and ``rows`` (the input rows as read) go with ``keys``. :meth:`header` leaves them out (what a Ray task
    sends to the driver for the duplicate check; the texts stay with the workers).
    """

    path: str
    id_column: str
    rows_read: int = 0
    keys: list[tuple[int, str, str, int | None]] = field(default_factory=list)
    rejected: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    articles: list[Article] | None = field(default_factory=list)
    rows: list[dict[str, Any]] | None = field(default_factory=list)

    def header(self) -> FileLoad:
        return replace(self, articles=None, rows=None)


def read_article_file(
    path: str | Path,
    columns: ArticleColumns | None = None,
    default_lang: str | None = None,
    stop_at_error: bool = False,
) -> FileLoad:
    """Read and validate the rows of one article file (no duplicate-id check: that spans the files).

    Every record ends up in ``keys``/``articles`` or in ``rejected``. ``stop_at_error`` (strict loading)
    stops at the first bad record: the load then fails there unless an earlier duplicate id fails first.
    """
    cols = columns or ArticleColumns()
    if default_lang is not None:
        default_lang = to_iso639_1(default_lang)
    path = Path(path)
    problem = article_file_problem(path)
    if problem:
        raise DataError(problem, path)
    out = FileLoad(str(path), cols.id)

    def reject(n: int, line: int | None, fld: str | None, reason: str, row: Any) -> None:
        out.rejected.append((n, {"file": str(path), "line": line, "field": fld, "reason": reason, "row": row}))

    for n, rec in enumerate(iter_records(path)):  # every record: valid or rejected, nothing else
        out.rows_read += 1
        if rec.row is None:
            reject(n, rec.line, rec.field, rec.error or "unreadable record", {"raw": rec.raw})
        else:
            source = f"{path}:{rec.line}"
            try:
                art = _to_article(rec.row, cols, default_lang, source)
            except _FieldError as exc:
                reject(n, rec.line, exc.col, exc.reason, rec.row)
            else:
                out.keys.append((n, art.lang, art.id, rec.line))
                out.articles.append(art)  # type: ignore[union-attr]
                out.rows.append(rec.row)  # type: ignore[union-attr]
                continue
        if stop_at_error:
            break
    return out


def load_articles(
    paths: list[Path] | list[str],
    columns: ArticleColumns | None = None,
    lenient: bool = False,
    default_lang: str | None = None,
) -> ArticleLoad:
    """Read and validate articles from several files (any mix of formats).

    Strict (default): the first bad row raises :class:`DataError` with file, line and field.
    ``lenient=True``: bad rows go to ``rejected`` with the reason, the rest is loaded.
    ``default_lang`` fills a missing or empty ``lang`` (e.g. one file per language).
    """
    out = ArticleLoad()
    for p in paths:
        out.add_file(read_article_file(p, columns, default_lang, stop_at_error=not lenient), lenient)
    return out


def write_rejected(path: str | Path, rejected: list[dict[str, Any]]) -> Path:
    """Write quarantined rows as JSON lines (atomically); dates and other values become strings."""
    return write_jsonl(path, rejected)


def write_articles(path: str | Path, articles: list[Article]) -> Path:
    """Write articles in the toolkit's own JSONL format (atomically)."""
    return write_jsonl(path, [a.to_dict() for a in articles])
