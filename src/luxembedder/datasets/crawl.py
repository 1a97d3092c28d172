"""Articles from crawled news: saved HTML pages, WARC files and RSS/Atom feeds -> ``articles.jsonl``.

The output is the toolkit's own article format (``id``, ``lang``, ``published``, ``title``, ``lead``,
``body``, ``url``, ``category``; see :mod:`luxembedder.datasets.articles`), read by
``luxembedder mine --articles``. Text, title and publication date of a page come from trafilatura
(boilerplate removal; the date from the page's metadata, ``<time>`` elements or its URL, never guessed from
the running text); WARC files are read with warcio; feeds with feedparser (an entry's content or summary,
its ``published``/``updated`` date in the feed's own time zone).

Pages without a publication date or without text, duplicates and HTTP errors are rejected with the
reason: they are counted and written to ``<out>.rejected.jsonl`` beside the output. Records of a WARC that
are not HTML responses (requests, metadata, images, ...) are counted as skipped.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luxembedder.errors import ConfigError, DataError
from luxembedder.text.clean import clean_text
from luxembedder.text.langcodes import to_iso639_1
from luxembedder.utils.io import write_jsonl

logger = logging.getLogger(__name__)

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
DATE_PARAMS = {"extensive_search": False, "original_date": True}
"""htmldate settings: the publication (not the last-modified) date, from metadata, ``<time>`` and the URL
only; the extensive search would take any date-like string of the text (e.g. "Fréijoer 2025")."""


@dataclass
class Page:
    """One crawled item before extraction: raw HTML (pages, WARC responses) or ready fields (feed entries)."""

    source: str
    html: bytes | None = None
    url: str | None = None
    title: str | None = None
    date: str | None = None
    text: str | None = None
    status: int | None = None


@dataclass
class CrawlResult:
    """The output files and the counts: pages read, articles written, rejections and skips by reason."""

    out: Path
    rejected_path: Path
    read: int = 0
    written: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    per_input: dict[str, dict[str, int]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"read": self.read, "written": self.written, "rejected": sum(self.rejected.values()),
                "rejection_reasons": dict(self.rejected), "skipped": dict(self.skipped),
                "per_input": self.per_input}


def _require(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"crawl input needs the Python package '{module}': pip install 'luxembedder[crawl]'") \
            from None


# ------------------------------------------------------------------------------------------ readers


def iter_html_dir(folder: str | Path) -> Iterator[Page]:
    """Every ``*.html``/``*.htm`` file under ``folder`` (sorted; hidden files skipped)."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError("HTML folder not found", root)
    for f in sorted(root.rglob("*")):
        rel = f.relative_to(root)
        if f.is_file() and f.suffix.lower() in HTML_SUFFIXES and not any(p.startswith(".") for p in rel.parts):
            yield Page(source=rel.as_posix(), html=f.read_bytes())


def iter_warc(path: str | Path, skipped: dict[str, int]) -> Iterator[Page]:
    """HTML responses of a WARC file (gzipped or not); other records are counted in ``skipped``."""
    warcio = _require("warcio.archiveiterator")
    p = Path(path)
    if not p.is_file():
        raise DataError("WARC file not found", p)
    with open(p, "rb") as fh:
        head = fh.read(2)
        fh.seek(0)
        if head == b"\x1f\x8b":
            import gzip

            with gzip.open(p) as gz:
                try:
                    head = gz.read(5)
                except OSError:
                    head = b""
        else:
            head = fh.read(5)
            fh.seek(0)
        if head != b"WARC/":
            raise DataError("not a WARC file (it does not start with a WARC/1.x record)", p)
        try:
            for i, rec in enumerate(warcio.ArchiveIterator(fh), start=1):
                if rec.rec_type != "response":
                    skipped[f"warc {rec.rec_type} record"] = skipped.get(f"warc {rec.rec_type} record", 0) + 1
                    continue
                ctype = (rec.http_headers.get_header("Content-Type") or "") if rec.http_headers else ""
                if "html" not in ctype.lower():
                    key = f"not HTML ({ctype.split(';')[0].strip() or 'no content type'})"
                    skipped[key] = skipped.get(key, 0) + 1
                    continue
                status = int(rec.http_headers.get_statuscode() or 0) if rec.http_headers else None
                yield Page(source=f"{p.name}#{i}", html=rec.content_stream().read(),
                           url=rec.rec_headers.get_header("WARC-Target-URI"), status=status)
        except warcio.ArchiveLoadFailed as exc:
            raise DataError(f"not a readable WARC file: {exc}", p) from None


def _entry_date(entry: Any) -> str | None:
    """An entry's publication date in the feed's own time zone (``published``, else ``updated``)."""
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if not raw:
            continue
        try:
            return email.utils.parsedate_to_datetime(raw).date().isoformat()  # RSS: RFC 822
        except (TypeError, ValueError, IndexError):
            pass
        try:
            return _dt.datetime.fromisoformat(raw.strip()).date().isoformat()  # Atom: RFC 3339
        except ValueError:
            pass
        parsed = entry.get(f"{key}_parsed")  # feedparser's own parse (UTC)
        if parsed:
            return _dt.date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday).isoformat()
    return None


def iter_feed(path: str | Path) -> Iterator[Page]:
    """Entries of an RSS or Atom file: title, link, date, and the text of their content (or summary)."""
    feedparser = _require("feedparser")

    p = Path(path)
    if not p.is_file():
        raise DataError("feed file not found", p)
    feed = feedparser.parse(p.read_bytes())  # bytes: parsed as a document, never fetched
    if feed.bozo and not feed.entries:
        raise DataError(f"not a readable RSS/Atom feed: {feed.get('bozo_exception')}", p)
    if feed.bozo:
        logger.warning("%s: feed is not well-formed (%s); %d entries read", p, feed.get("bozo_exception"),
                       len(feed.entries))
    for i, e in enumerate(feed.entries, start=1):
        content = e.get("content")
        html = content[0].get("value") if content else e.get("summary") or e.get("description") or ""
        yield Page(source=f"{p.name}#{i}", url=e.get("link") or e.get("id"), title=e.get("title"),
                   date=_entry_date(e), text=clean_text(html))


# ---------------------------------------------------------------------------------------- extraction


def extract(page: Page, min_chars: int) -> tuple[dict[str, Any] | None, str, str]:
    """``(fields, reason, detail)``: the page's url, title, date and text, or None with the reason."""
    if page.status is not None and not 200 <= page.status < 300:
        return None, "http status", f"HTTP {page.status}"
    if page.html is not None:
        trafilatura = _require("trafilatura")
        doc = trafilatura.bare_extraction(page.html, url=page.url, with_metadata=True, include_comments=False,
                                          date_extraction_params=DATE_PARAMS)
        if doc is None:
            return None, "no text", "trafilatura found no main text"
        page.title, page.date, page.text = doc.title, doc.date, doc.text
        page.url = page.url or doc.url
    text = _strip_title(page.text or "", page.title or "")
    if len(text.strip()) < min_chars:
        return None, "no text", f"{len(text.strip())} characters of main text (at least {min_chars} needed)"
    if not page.date:
        return None, "no date", ("no publication date in the metadata, <time> elements or URL" if page.html
                                 is not None else "no published or updated date in the feed entry")
    return {"url": page.url, "title": (page.title or "").strip(), "date": page.date, "text": text.strip()}, "", ""


def _strip_title(text: str, title: str) -> str:
    """The main text without a first line repeating the title (trafilatura keeps the page's ``<h1>``)."""
    first, _, rest = text.partition("\n")
    return rest if title and first.strip() == title.strip() else text


def crawl_articles(
    out: str | Path,
    lang: str,
    html_dirs: Iterable[str | Path] = (),
    warcs: Iterable[str | Path] = (),
    feeds: Iterable[str | Path] = (),
    min_chars: int = 50,
) -> CrawlResult:
    """Extract articles from HTML folders, WARC files and feeds into ``out`` (JSONL, written atomically).

    ``lang`` is the language of every article (ISO 639-1/3, normalised to ``lb``, ``fr``, ...).
    ``min_chars``: a page with less main text is rejected as ``no text``. Rejected pages go to
    ``<out stem>.rejected.jsonl`` with the reason (the file is written even when empty).
    """
    inputs = [("html", Path(p)) for p in html_dirs] + [("warc", Path(p)) for p in warcs] + \
        [("rss", Path(p)) for p in feeds]
    if not inputs:
        raise ConfigError("no input: give --html DIR, --warc FILE or --rss FILE")
    lang = to_iso639_1(lang)  # ConfigError for an unknown code
    out = Path(out)
    res = CrawlResult(out, out.with_name(f"{out.with_suffix('').name}.rejected.jsonl"))
    rows: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for kind, path in inputs:
        pages = iter_html_dir(path) if kind == "html" else iter_warc(path, res.skipped) if kind == "warc" \
            else iter_feed(path)
        counts = res.per_input.setdefault(path.name, {"read": 0, "written": 0, "rejected": 0})
        for page in pages:
            res.read += 1
            counts["read"] += 1
            fields, reason, detail = extract(page, min_chars)
            art_id = (fields or {}).get("url") or page.url or f"{path.name}/{page.source}"
            if fields is not None and art_id in seen:
                fields, reason, detail = None, "duplicate", f"same id as {seen[art_id]}"
            if fields is None:
                res.rejected[reason] = res.rejected.get(reason, 0) + 1
                counts["rejected"] += 1
                rejected.append({"input": path.name, "source": page.source, "url": page.url,
                                 "title": page.title, "reason": reason, "detail": detail})
                continue
            seen[art_id] = page.source
            rows.append({"id": art_id, "lang": lang, "published": fields["date"], "title": fields["title"],
                         "lead": "", "body": fields["text"], "url": fields["url"], "category": None,
                         "source": f"{path.name}:{page.source}" if kind == "html" else page.source})
            counts["written"] += 1
    write_jsonl(out, rows)
    write_jsonl(res.rejected_path, rejected)
    res.written = len(rows)
    logger.info("%d pages read, %d articles written to %s, %d rejected %s, skipped %s", res.read, res.written,
                out, len(rejected), res.rejected, res.skipped)
    return res
