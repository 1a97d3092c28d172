"""Placeholders for e-mails, URLs and phone numbers (Luxembourg and international formats)."""

from __future__ import annotations

import pytest

from luxembedder.text.placeholders import apply_placeholders


@pytest.mark.parametrize(("text", "expected"), [
    ("Rufft +352 621 123 456 un.", "Rufft [phone] un."),
    ("Tel. 26 12 34 56 oder 621 987 654", "Tel. [phone] oder [phone]"),
    ("Tel.: 22 33 44", "Tel.: [phone]"),
    ("Nummer 691123456 oder 00352 691 123 456.", "Nummer [phone] oder [phone]."),
    ("(+352) 4796-1 ass d'Nummer.", "(+352) 4796-1 ass d'Nummer."),  # too few digits: left alone
    ("+352 4 96 96 1 an 00352 26 12 34 56", "[phone] an [phone]"),
    ("Appelez le +33 1 23 45 67 89 ou le +49 30 1234567.", "Appelez le [phone] ou le [phone]."),
    ("Call +1 (555) 123-4567 now.", "Call [phone] now."),
    ("Mail un info@gemeng.lu oder jean.muller+news@post.lu.", "Mail un [email] oder [email]."),
    ("Kuckt www.rtl.lu/news an https://example.com/a?b=1.", "Kuckt [url] an [url]."),
    ("Op rtl.lu/sport steet et (https://x.lu/y).", "Op [url] steet et ([url])."),
])
def test_replaced(text: str, expected: str) -> None:
    assert apply_placeholders(text) == expected


@pytest.mark.parametrize("text", [
    "De Match war 3-1 an 2:0 den 12.06.2024.",
    "Et kascht 600 000 000 Euro an 1 500 Leit.",
    "Am Joer 2024 goufen 12 34 Leit gezielt.",
    "D'Inflatioun louch bei 2,5 Prozent, d.h. 0.3 Punkten.",
    "RTL.lu an d'Gemeng Esch/Uelzecht.",
])
def test_left_alone(text: str) -> None:
    assert apply_placeholders(text) == text


def test_switches() -> None:
    t = "info@gemeng.lu, www.gemeng.lu, +352 621 123 456"
    assert apply_placeholders(t, email=False) == "info@gemeng.lu, [url], [phone]"
    assert apply_placeholders(t, url=False, phone=False) == "[email], www.gemeng.lu, +352 621 123 456"
