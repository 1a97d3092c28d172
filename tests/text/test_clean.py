"""Cleaning: HTML to text, mojibake repair, whitespace normalisation."""

from __future__ import annotations

from luxembedder.text.clean import clean_text, fix_mojibake, looks_like_html


def test_html_paragraphs_lists_links_and_scripts() -> None:
    html = (
        "<div class='article'><h2>Nei Mesuren</h2><p>D'Regierung huet <a href='/x'>haut</a> e "
        "<strong>Pak</strong> presentéiert.</p><script>var tracking = 1;</script><style>p{color:red}</style>"
        "<ul><li>méi Wunnengen</li><li>manner Stau</li></ul><p>Éischt Zeil<br/>zweet Zeil</p></div>"
    )
    assert clean_text(html) == (
        "Nei Mesuren\nD'Regierung huet haut e Pak presentéiert.\nméi Wunnengen\nmanner Stau\n"
        "Éischt Zeil\nzweet Zeil"
    )


def test_html_entities_and_plain_text_with_angle_brackets() -> None:
    assert clean_text("Caf&eacute; &amp; Restaurant&nbsp;am Duerf") == "Café & Restaurant am Duerf"
    plain = "De Wäert ass 3 < 5 an 7 > 2, Tom & Jerry."
    assert not looks_like_html(plain)
    assert clean_text(plain) == plain


def test_mojibake_is_repaired_but_quotes_stay() -> None:
    assert fix_mojibake("LÃ«tzebuerg") == "Lëtzebuerg"
    assert clean_text("Ã„nnerungen an der Ã©cole zu LÃ«tzebuerg") == "Ännerungen an der école zu Lëtzebuerg"
    assert clean_text("Hie sot: â€žMir sinn zefriddenâ€œ.") == "Hie sot: „Mir sinn zefridden“."
    correct = "„Mir sinn zefridden“, sot d'Ministesch zu Lëtzebuerg – ’t ass gutt."
    assert clean_text(correct) == correct  # already correct text is not touched


def test_whitespace_normalisation() -> None:
    text = "  Éischt\u00a0Zeil   mat  Plazen \r\n\r\n\n  zweet\tZeil\u200b \n\n"
    assert clean_text(text) == "Éischt Zeil mat Plazen\nzweet Zeil"
    assert clean_text("") == ""
    assert clean_text("Stra\u00dfe") == "Straße"
    assert clean_text("e\u0301cole") == "école"  # NFC
