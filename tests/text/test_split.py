"""Sentence splitting: Luxembourgish news cases (written for the project), plus English and French."""

from __future__ import annotations

import pytest

from luxembedder.text.split import fix_glued_periods, split_sentences

LB_CASES = [
    # abbreviations
    ("De Minister huet z. B. Kanner a Jonker ugeschwat. Den Ament gëtt am Hierscht gestëmmt.",
     ["De Minister huet z. B. Kanner a Jonker ugeschwat.", "Den Ament gëtt am Hierscht gestëmmt."]),
    ("Z. B. d'Gemeng Esch huet ca. 300 Leit agestallt. Dat kascht 3 Mio. Euro am Joer.",
     ["Z. B. d'Gemeng Esch huet ca. 300 Leit agestallt.", "Dat kascht 3 Mio. Euro am Joer."]),
    ("Den Dr. Weber an d'Mme. Schmit wunnen an der Nr. 5. Si sinn zefridden.",
     ["Den Dr. Weber an d'Mme. Schmit wunnen an der Nr. 5.", "Si sinn zefridden."]),
    ("De Budget läit bei 2 Mrd. Euro bzw. 8 Prozent vum PIB. D'Oppositioun kritiséiert dat.",
     ["De Budget läit bei 2 Mrd. Euro bzw. 8 Prozent vum PIB.", "D'Oppositioun kritiséiert dat."]),
    ("D'Stroossen zu St. Vith resp. Ëlwen goufen zougemaach. Et gouf keng Blesséiert.",
     ["D'Stroossen zu St. Vith resp. Ëlwen goufen zougemaach.", "Et gouf keng Blesséiert."]),
    ("De Maart verkeeft Äppel, Bieren asw. Den Dag drop war alles ausverkaf.",
     ["De Maart verkeeft Äppel, Bieren asw.", "Den Dag drop war alles ausverkaf."]),
    ("Et goufen Äppel, Bieren asw. um Stand verkaf.",
     ["Et goufen Äppel, Bieren asw. um Stand verkaf."]),
    # ordinals and dates
    ("Den Ament gëtt den 12. Juni gestëmmt. Dono geet et an d'Vakanz.",
     ["Den Ament gëtt den 12. Juni gestëmmt.", "Dono geet et an d'Vakanz."]),
    ("D'Konferenz fënnt de 16. Abrëll statt. Hie gouf den 1. Mee gebuer.",
     ["D'Konferenz fënnt de 16. Abrëll statt.", "Hie gouf den 1. Mee gebuer."]),
    ("Si ass um 3. Tour ausgeschidden. D'Nationalequipe spillt den 21. Mäerz zu Miersch.",
     ["Si ass um 3. Tour ausgeschidden.", "D'Nationalequipe spillt den 21. Mäerz zu Miersch."]),
    ("D'Gesetz gouf am Joer 2019. Dunn huet d'Chamber et geännert.",
     ["D'Gesetz gouf am Joer 2019.", "Dunn huet d'Chamber et geännert."]),
    ("Hien ass den 3. Sekretär vun der Partei ginn. Dat huet hie gefreet.",
     ["Hien ass den 3. Sekretär vun der Partei ginn.", "Dat huet hie gefreet."]),
    ("Um Samschdeg (29. September) war et nach waarm. De Sonndeg huet et gereent.",
     ["Um Samschdeg (29. September) war et nach waarm.", "De Sonndeg huet et gereent."]),
    ("”Dr. Weber, ech weess et net”, sot hien. Duerno ass hie gaangen.",
     ["”Dr. Weber, ech weess et net”, sot hien.", "Duerno ass hie gaangen."]),
    # scores and numbers
    ("De Match ass 3-1 ausgaangen. Den Trainer war zefridden.",
     ["De Match ass 3-1 ausgaangen.", "Den Trainer war zefridden."]),
    ("D'Fola huet 2:0 gewonnen. De Racing verléiert 3-1. Den Trainer gëtt entlooss.",
     ["D'Fola huet 2:0 gewonnen.", "De Racing verléiert 3-1.", "Den Trainer gëtt entlooss."]),
    ("D'Inflatioun louch bei 2,5 Prozent. De Präis vun 1.5 Liter Mëllech ass gestigen.",
     ["D'Inflatioun louch bei 2,5 Prozent.", "De Präis vun 1.5 Liter Mëllech ass gestigen."]),
    # quotes
    ("Hie sot: „Mir sinn zefridden.“ Duerno ass hien heem gaangen.",
     ["Hie sot: „Mir sinn zefridden.“", "Duerno ass hien heem gaangen."]),
    ("„Wou ass de Bus?“, freet eng Passagéierin. Keen huet eng Äntwert.",
     ["„Wou ass de Bus?“, freet eng Passagéierin.", "Keen huet eng Äntwert."]),
    ("D'Ministesch schwätzt vun engem «historeschen Dag». D'Gewerkschafte gesinn dat anescht.",
     ["D'Ministesch schwätzt vun engem «historeschen Dag».", "D'Gewerkschafte gesinn dat anescht."]),
    ('Hie schreift: "Et ass genuch!" D\'Membere klatzen.',
     ['Hie schreift: "Et ass genuch!"', "D'Membere klatzen."]),
    # initials, ellipsis, d'
    ("De J. Schmit an de Jean-Claude J. Muller si gewielt. Si fänken am Hierscht un.",
     ["De J. Schmit an de Jean-Claude J. Muller si gewielt.", "Si fänken am Hierscht un."]),
    ("Et war spéit... Den nächsten Dag huet et gereent. Ma dat war net alles…",
     ["Et war spéit...", "Den nächsten Dag huet et gereent.", "Ma dat war net alles…"]),
    ("Et war eng laang Nuecht… an dunn ass d'Sonn opgaangen.",
     ["Et war eng laang Nuecht… an dunn ass d'Sonn opgaangen."]),
    ("D'Regierung huet decidéiert. D'Mesure gëllt ab haut. 'T ass net ze fréi.",
     ["D'Regierung huet decidéiert.", "D'Mesure gëllt ab haut.", "'T ass net ze fréi."]),
    # glued periods, paragraphs, URLs
    ("D'Regierung.Den Ament kënnt viru Chamber.", ["D'Regierung.", "Den Ament kënnt viru Chamber."]),
    ("Informatiounen op www.Beispill.lu an um info@Gemeng.lu. Merci.",
     ["Informatiounen op www.Beispill.lu an um info@Gemeng.lu.", "Merci."]),
    ("Éischte Paragraph ouni Punkt\nZweete Paragraph.", ["Éischte Paragraph ouni Punkt", "Zweete Paragraph."]),
    ("Wat elo? Keen weess et! D'Chamber waart.", ["Wat elo?", "Keen weess et!", "D'Chamber waart."]),
    ("Wat elo?! Si waarden.", ["Wat elo?!", "Si waarden."]),
    ("D'Zuel vun de Leit (ca. 25 %) bleift stabil. Dat weisen d'Statistiken.",
     ["D'Zuel vun de Leit (ca. 25 %) bleift stabil.", "Dat weisen d'Statistiken."]),
]


@pytest.mark.parametrize(("text", "expected"), LB_CASES)
def test_luxembourgish(text: str, expected: list[str]) -> None:
    assert split_sentences(text, "lb") == expected


EN_CASES = [
    ("Mr. Smith went to Washington. He met Dr. Jones at 3 p.m. on Friday.",
     ["Mr. Smith went to Washington.", "He met Dr. Jones at 3 p.m. on Friday."]),
    ("The U.S. team won 2-0. The coach, e.g. Mr. Brown, was pleased.",
     ["The U.S. team won 2-0.", "The coach, e.g. Mr. Brown, was pleased."]),
    ('"Where is the bus?" asked a passenger. Nobody knew.',
     ['"Where is the bus?" asked a passenger.', "Nobody knew."]),
    ("Prices rose by 2.5 percent in 2023. Economists expect a slowdown.",
     ["Prices rose by 2.5 percent in 2023.", "Economists expect a slowdown."]),
]

FR_CASES = [
    ("M. Bettel a rencontré Mme Lenert. « C'est une bonne nouvelle », a-t-il dit. Le vote aura lieu le 1er mai.",
     ["M. Bettel a rencontré Mme Lenert.", "« C'est une bonne nouvelle », a-t-il dit.",
      "Le vote aura lieu le 1er mai."]),
    ("« C'est fini. » Le ministre est parti.", ["« C'est fini. »", "Le ministre est parti."]),
    ("Le projet coûte env. 3 millions d'euros. L'opposition critique le texte.",
     ["Le projet coûte env. 3 millions d'euros.", "L'opposition critique le texte."]),
    ("Le match s'est terminé 3-1. L'entraîneur était satisfait.",
     ["Le match s'est terminé 3-1.", "L'entraîneur était satisfait."]),
]


@pytest.mark.parametrize(("text", "expected"), EN_CASES)
def test_english(text: str, expected: list[str]) -> None:
    assert split_sentences(text, "en") == expected


@pytest.mark.parametrize(("text", "expected"), FR_CASES)
def test_french(text: str, expected: list[str]) -> None:
    assert split_sentences(text, "fr") == expected


def test_glued_period_fix_leaves_urls_numbers_abbreviations() -> None:
    assert fix_glued_periods("Regierung.Den") == "Regierung. Den"
    assert fix_glued_periods("gewonnen!Den Trainer") == "gewonnen! Den Trainer"
    for keep in ("www.Example.com", "jean.Muller@post.lu", "https://rtl.lu/News.Html", "z.B.Kanner",
                 "3.5", "RTL.lu", "Dokument.PDF", "[url].Den"):
        assert fix_glued_periods(keep) == keep
    assert split_sentences("D'Regierung.Den Ament.", "lb", glued_period_fix=False) == ["D'Regierung.Den Ament."]


def test_empty_and_whitespace() -> None:
    assert split_sentences("", "lb") == []
    assert split_sentences(" \n \n", "lb") == []
    assert split_sentences("Ouni Punkt um Enn", "lb") == ["Ouni Punkt um Enn"]
