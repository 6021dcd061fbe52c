"""Guideline citation parsing: page lists, both letter styles, and the component."""

import pytest

from imr_extract.components.citations import GuidelineCitations
from imr_extract.normalize.citations import (
    NO_CITATION,
    UNKNOWN_TITLE,
    CitationRules,
    parse_citations,
)
from imr_extract.normalize.pages import parse_pages
from imr_extract.rules import packaged_rules

from conftest import read_sample

RULES = CitationRules.from_rules(
    packaged_rules("citations.jsonl"), packaged_rules("guidelines.csv")
)


@pytest.mark.parametrize(
    ("text", "pages"),
    [
        ("74-96", list(range(74, 97))),
        ("11, 13, 14, 79-81", [11, 13, 14, 79, 80, 81]),
        ("75 & 78", [75, 78]),
        ("41-42, 63-66.", [41, 42, 63, 64, 65, 66]),
        ("308", [308]),
        ("12 and 14", [12, 14]),
        ("96-74", [96, 74]),  # a reversed range is kept as its two pages, not expanded
    ],
)
def test_parse_pages(text, pages):
    assert parse_pages(text) == pages


def fields(citation):
    return (
        citation.family,
        citation.guideline,
        citation.edition,
        citation.chapter,
        citation.section,
        citation.pages,
    )


def test_2014_style_with_two_titles_and_an_odg_statement():
    text = (
        "Decision based on MTUS ACOEM Chapter 12 Low Back Complaints Page(s): 301,Chronic Pain "
        "Treatment Guidelines NSAIDS Page(s): 67-68. Decision based on Non-MTUS Citation Official "
        "Disability Guidelines (ODG) Pain, NSAIDs for back pain."
    )
    got = [fields(c) for c in parse_citations(text, RULES)]
    assert got == [
        ("MTUS", "MTUS ACOEM Practice Guidelines", None, "Low Back Complaints", None, [301]),
        ("MTUS", "MTUS Chronic Pain Medical Treatment Guidelines", None, None, "NSAIDS", [67, 68]),
        ("ODG", "Official Disability Guidelines (ODG)", None, "Pain", "NSAIDs for back pain", []),
    ]


def test_2016_style_sections_joined_by_and():
    text = (
        "Decision based on MTUS Knee Complaints 2004, Section(s): Special Studies, and Chronic "
        "Pain Medical Treatment 2016, Section(s): Ultrasound, therapeutic."
    )
    got = [fields(c) for c in parse_citations(text, RULES)]
    assert got == [
        (
            "MTUS",
            "MTUS ACOEM Practice Guidelines",
            "2004",
            "Knee Complaints",
            "Special Studies",
            [],
        ),
        (
            "MTUS",
            "MTUS Chronic Pain Medical Treatment Guidelines",
            "2016",
            None,
            "Ultrasound, therapeutic",
            [],
        ),
    ]


def test_odg_chapter_variants_and_preamble():
    text = (
        "The Expert Reviewer based their decision on recommendation(s) outside of the MTUS "
        "Guidelines. Decision based on Non-MTUS Citation Official Disability Guidelines (ODG), "
        "Knee & Leg (Acute & Chronic) Chapter (updated 10/1/16), Continuous passive motion (CPM)."
    )
    (c,) = parse_citations(text, RULES)
    assert fields(c) == (
        "ODG",
        "Official Disability Guidelines (ODG)",
        None,
        "Knee and Leg",
        "Continuous passive motion (CPM)",
        [],
    )


def test_no_citation():
    (c,) = parse_citations(
        "The Claims Administrator did not cite any medical evidence for its decision.", RULES
    )
    assert (c.family, c.guideline) == ("none", NO_CITATION)


def test_unknown_source_is_reported_not_guessed():
    (c,) = parse_citations(
        "Decision based on Non-MTUS Citation Journal of Hand Therapy 2015; 28(2): 100-110.", RULES
    )
    assert (c.family, c.guideline, c.known_title) == ("Non-MTUS other", UNKNOWN_TITLE, False)
    assert c.section.startswith("Journal of Hand Therapy")


def test_offsets_point_at_the_citation_text():
    text = (
        "Decision based on MTUS Acupuncture Treatment 2007. Decision based on Non-MTUS "
        "Citation UpToDate, Acupuncture."
    )
    first, second = parse_citations(text, RULES)
    assert text[first.start : first.end] == "Acupuncture Treatment 2007"
    assert text[second.start : second.end] == "UpToDate, Acupuncture"
    assert (second.family, second.guideline, second.section) == (
        "Non-MTUS other",
        "UpToDate",
        "Acupuncture",
    )


def test_component_on_sample_letter(nlp):
    assert isinstance(nlp.get_pipe("imr_citations"), GuidelineCitations)
    doc = nlp(read_sample("sample_2014_seed_style.txt"))
    rows = [
        (s._.imr_decision_index, s._.imr_citation["source"], s._.imr_citation["pages"])
        for s in doc.spans["imr_citations"]
    ]
    assert rows[:2] == [
        (0, "claims_administrator", list(range(74, 97))),
        (0, "maximus", [76, 77, 78, 79, 80, 91]),
    ]
    assert all(s.label_ == "GUIDELINE_CITATION" for s in doc.spans["imr_citations"])
    # every citation lies inside its guideline part, in the normalised text
    for span in doc.spans["imr_citations"]:
        assert span.text.replace("\n", " ").startswith(span._.imr_citation["raw"][:20])


def test_titles_found_in_one_scan_give_what_each_title_finds():
    """Speed (issue 17): the catalog's titles are matched in one scan from where their literal
    prefixes start (`PatternSet(word_starts=False)`), against each title's own `finditer`:
    the same citations from statements built of every title, glued, cut and chained."""
    import itertools
    import re

    plain = CitationRules.from_rules(
        packaged_rules("citations.jsonl"), packaged_rules("guidelines.csv"), fast=False
    )
    assert RULES.title_scan.scanner is not None and not RULES.title_scan.alone
    titles = [r for r in packaged_rules("guidelines.csv") if r["kind"] == "title"]
    names = [re.sub(r"\(\?:([^()|]*)\)\?", r"\1", r["pattern"]).split("|")[0] for r in titles]
    names = [re.sub(r"[\\?()\[\]]|\(\?=.*", "", n).replace("d+", "9") for n in names]
    joins = [", ", "; ", " and ", ". ", " ", "", "\n"]
    statements = []
    for (a, b), join in itertools.product(itertools.pairwise(names + names[:1]), joins):
        statements.append(f"Decision based on MTUS {a}, Page(s): 74-96{join}{b} Page(s): 8.")
        statements.append(f"{a}{join}{b}{join}ACOEM Chapter 8 {b[:12]}")
    statements += [f"Decision based on {' '.join(names)}", "Chapter 8 Neck ACOEM ACOEM Knee"]
    for statement in statements:
        fields = [vars(c) for c in parse_citations(statement, RULES)]
        assert fields == [vars(c) for c in parse_citations(statement, plain)], statement
