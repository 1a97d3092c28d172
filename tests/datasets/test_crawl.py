"""Crawl input: saved HTML pages, a WARC (written here with warcio) and RSS/Atom feeds -> articles.jsonl that
``luxembedder mine --articles`` reads; pages without a date or text rejected with the reason and counted."""

from __future__ import annotations

import gzip
import io
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from luxembedder.datasets.articles import load_articles
from luxembedder.datasets.crawl import crawl_articles
from luxembedder.errors import ConfigError, DataError

CRAWL = Path(__file__).resolve().parents[1] / "fixtures" / "crawl"


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def test_html_pages(tmp_path: Path) -> None:
    res = crawl_articles(tmp_path / "articles.jsonl", "ltz", html_dirs=[CRAWL / "html"])
    assert (res.read, res.written, res.rejected) == (4, 2, {"no text": 1, "no date": 1})
    rows = {r["title"]: r for r in _rows(res.out)}
    tram = rows["Nei Tram-Linn bis op Belair"]
    assert tram["published"] == "2024-03-05" and tram["lang"] == "lb"  # article:published_time
    assert tram["id"] == tram["url"] == "https://zeitung.example.lu/stad/tram-belair"  # the canonical URL
    assert tram["body"].startswith("D'Stad Lëtzebuerg huet e Méindeg") and "Impressum" not in tram["body"]
    assert "Doheem" not in tram["body"] and "Fréijoer 2025" in tram["body"]  # no nav; not taken as the date
    school = rows["Ettelbréck kritt eng nei Grondschoul"]
    assert school["published"] == "2024-03-06" and school["url"] is None  # from <time datetime>
    assert school["id"] == "html/2024/schoul-ettelbruck.html"
    rejected = {r["source"]: r for r in _rows(tmp_path / "articles.rejected.jsonl")}
    assert rejected["misc/ouni-datum.html"]["reason"] == "no date"
    assert rejected["misc/index.html"]["reason"] == "no text"
    assert res.summary()["rejected"] == 2


def test_feeds_use_the_entry_date_in_its_own_time_zone(tmp_path: Path) -> None:
    res = crawl_articles(tmp_path / "a.jsonl", "lb", feeds=[CRAWL / "feed.rss", CRAWL / "feed.atom"])
    rows = {r["title"]: r for r in _rows(res.out)}
    assert rows["Wäilies fänkt méi fréi un"]["published"] == "2024-03-07"  # 00:30 +0100 (UTC: 6 March)
    assert rows["Eschen Handballer gewannen den Derby"]["published"] == "2024-03-10"  # 00:15+01:00, not updated
    assert rows["Nei Fähr tëscht Schengen an Perl"]["body"].startswith("Vum Mee u fiert")  # HTML description
    assert "<p>" not in rows["Wäilies fänkt méi fréi un"]["body"]
    assert res.rejected == {"no date": 1}
    assert _rows(tmp_path / "a.rejected.jsonl")[0]["title"] == "Concert um Kai"


def write_warc(path: Path) -> Path:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    tram = (CRAWL / "html" / "2024" / "tram-belair.html").read_bytes()
    nodate = (CRAWL / "html" / "misc" / "ouni-datum.html").read_bytes()
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)

        def response(url: str, body: bytes, status: str = "200 OK", ctype: str = "text/html; charset=utf-8"):
            headers = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers))

        req = StatusAndHeaders("GET /stad/tram-belair HTTP/1.1", [("Host", "zeitung.example.lu")], is_http_request=True)
        w.write_record(w.create_warc_record("https://zeitung.example.lu/stad/tram-belair", "request",
                                            payload=io.BytesIO(b""), http_headers=req))
        response("https://zeitung.example.lu/stad/tram-belair", tram)
        response("https://zeitung.example.lu/2024/03/08/stauséi-wee", nodate)  # the date is in the URL
        response("https://zeitung.example.lu/al", b"<html><body>Not found</body></html>", "404 Not Found")
        response("https://zeitung.example.lu/logo.png", b"\x89PNG\r\n", ctype="image/png")
    return path


def test_warc(tmp_path: Path) -> None:
    warc = write_warc(tmp_path / "crawl.warc.gz")
    res = crawl_articles(tmp_path / "w.jsonl", "lb", warcs=[warc])
    assert (res.read, res.written, res.rejected) == (3, 2, {"http status": 1})
    assert res.skipped == {"warc request record": 1, "not HTML (image/png)": 1}
    rows = {r["id"]: r for r in _rows(res.out)}
    assert rows["https://zeitung.example.lu/stad/tram-belair"]["published"] == "2024-03-05"
    assert rows["https://zeitung.example.lu/2024/03/08/stauséi-wee"]["published"] == "2024-03-08"
    assert _rows(tmp_path / "w.rejected.jsonl")[0]["detail"] == "HTTP 404"
    with gzip.open(warc) as fh:  # an uncompressed WARC reads the same
        (tmp_path / "plain.warc").write_bytes(fh.read())
    assert crawl_articles(tmp_path / "p.jsonl", "lb", warcs=[tmp_path / "plain.warc"]).written == 2


def test_output_is_read_by_mine_and_duplicates_are_rejected(tmp_path: Path) -> None:
    warc = write_warc(tmp_path / "crawl.warc.gz")
    shutil.copytree(CRAWL / "html", tmp_path / "copy")
    res = crawl_articles(tmp_path / "all.jsonl", "lb", html_dirs=[CRAWL / "html", tmp_path / "copy"], warcs=[warc],
                         feeds=[CRAWL / "feed.rss", CRAWL / "feed.atom"])
    # the tram page is in both HTML folders and in the WARC: kept once
    assert res.rejected["duplicate"] == 2 and res.written == 2 + 1 + 1 + 2 + 1
    load = load_articles([res.out])  # strict: the loader of `luxembedder mine --articles`
    assert len(load.articles) == res.written and {a.lang for a in load.articles} == {"lb"}
    assert sum(1 for _ in open(tmp_path / "all.rejected.jsonl", encoding="utf-8")) == sum(res.rejected.values())


def test_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no input"):
        crawl_articles(tmp_path / "a.jsonl", "lb")
    with pytest.raises(ConfigError, match="unknown language code"):
        crawl_articles(tmp_path / "a.jsonl", "luxembourgish", feeds=[CRAWL / "feed.rss"])
    (tmp_path / "bad.warc").write_bytes(b"this is not a warc file\n" * 3)
    with pytest.raises(DataError, match=r"bad\.warc: not a WARC file"):
        crawl_articles(tmp_path / "a.jsonl", "lb", warcs=[tmp_path / "bad.warc"])
    (tmp_path / "bad.rss").write_text("not a feed at all")
    with pytest.raises(DataError, match=r"bad\.rss: not a readable RSS/Atom feed"):
        crawl_articles(tmp_path / "a.jsonl", "lb", feeds=[tmp_path / "bad.rss"])
    (tmp_path / "cut.rss").write_text("<rss><channel><item><title>x</title>")  # truncated: what is there counts
    assert crawl_articles(tmp_path / "a.jsonl", "lb", feeds=[tmp_path / "cut.rss"]).rejected == {"no text": 1}
    with pytest.raises(DataError, match="HTML folder not found"):
        crawl_articles(tmp_path / "a.jsonl", "lb", html_dirs=[tmp_path / "none"])


def test_cli(tmp_path: Path) -> None:
    from luxembedder.cli.main import app

    out = tmp_path / "articles.jsonl"
    r = CliRunner().invoke(app, ["datasets", "articles", "--html", str(CRAWL / "html"), "--rss", str(CRAWL / "feed.rss"),
                                 "--lang", "lb", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert r.output.strip().splitlines()[-1] == str(out) and len(_rows(out)) == 4
    assert "no date" in r.output and (tmp_path / "articles.rejected.jsonl").is_file()
