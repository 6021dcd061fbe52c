"""citations.csv `sections` and `section_key`, decisions.csv
`same_guideline_as_claims_administrator` and `maximus_sections` (issue 15). Synthetic text."""

import pytest

from imr_extract.export import CITATION_COLUMNS, DECISION_COLUMNS, same_guideline
from imr_extract.normalize.guideline_sections import SectionRules, section_key, split_sections
from imr_extract.rules import packaged_rules

RULES = SectionRules.from_rules(
    packaged_rules("section_rules.jsonl"), ["Hip and Pelvis", "Low Back", "Head"]
)


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (
            "Diagnostic Criteria, Special Studies, Summary",
            ["Diagnostic Criteria", "Special Studies", "Summary"],
        ),
        (
            "Opioids, specific drug list; Weaning of Medications",
            ["Opioids, specific drug list", "Weaning of Medications"],
        ),
        ("Ultrasound, therapeutic", ["Ultrasound, therapeutic"]),
        (
            "TENS, chronic pain (transcutaneous electrical nerve stimulation)",
            ["TENS, chronic pain (transcutaneous electrical nerve stimulation)"],
        ),
        (
            "NSAIDs, GI symptoms & cardiovascular risk, Proton Pump Inhibitors (PPIs)",
            ["NSAIDs, GI symptoms & cardiovascular risk", "Proton Pump Inhibitors (PPIs)"],
        ),
        ("Naproxen (Naprosyn, Anaprox), NSAIDs", ["Naproxen (Naprosyn, Anaprox)", "NSAIDs"]),
        ("Forearm, Wrist, & Hand", ["Forearm, Wrist, & Hand"]),
        # the garbled sections of the issue
        ("section, Physical therapy", ["Physical therapy"]),
        (
            "& Thoracic : Preoperative lab testing and Preoperative testing, general",
            ["Preoperative lab testing", "Preoperative testing, general"],
        ),
        ("(Durable medical equipment (DME))", ["Durable medical equipment (DME)"]),
        (
            "Cornerstones of Disability Prevention and Management",
            ["Cornerstones of Disability Prevention and Management"],
        ),
        (
            "Epidural injections and Other Medical Treatment Guidelines www.example.org",
            ["Epidural injections"],
        ),
        ("Hips & Pelvis , X-Ray", ["X-Ray"]),  # an ODG chapter beside a topic
        ("326, Diagnostic Criteria", ["Diagnostic Criteria"]),  # a page number
        (
            "1.2 Opioids: Use, With Care, 2.1 Tapering: When",
            ["1.2 Opioids: Use, With Care", "2.1 Tapering: When"],
        ),
        ("Summary, Summary", ["Summary"]),
        ("", []),
        (None, []),
    ],
)
def test_sections_of_one_citation(section, expected):
    assert (
        split_sections(section, RULES, ("Knee Complaints", "MTUS ACOEM Practice Guidelines"))
        == expected
    )


def test_a_chapter_name_alone_is_kept_and_no_citation_has_no_section():
    assert split_sections("Low Back", RULES) == ["Low Back"]
    assert split_sections(
        "Official Disability Guidelines (ODG), Low Back",
        RULES,
        ("", "Official Disability Guidelines (ODG)"),
    ) == ["Low Back"]
    assert split_sections("Anything", RULES, (), "No citation") == []


def test_section_key_tells_chapters_apart():
    low_back = section_key(
        "Special Studies", "Low Back Complaints", "MTUS ACOEM Practice Guidelines"
    )
    knee = section_key("Special Studies", "Knee Complaints", "MTUS ACOEM Practice Guidelines")
    assert low_back == "low back complaints > special studies" != knee
    assert section_key("Opioids", None, "MTUS Chronic Pain Medical Treatment Guidelines") == (
        "mtus chronic pain medical treatment guidelines > opioids"
    )
    assert (
        section_key("Initial Care & Follow-up", "Knee", None) == "knee > initial care and follow up"
    )


def _row(source, guideline, known=True, raw="x"):
    return {"source": source, "guideline": guideline, "known_title": known, "raw": raw}


def test_same_guideline_as_claims_administrator():
    mtus = "MTUS Chronic Pain Medical Treatment Guidelines"
    odg = "Official Disability Guidelines (ODG)"
    assert same_guideline([_row("claims_administrator", mtus), _row("maximus", mtus)]) is True
    assert (
        same_guideline(
            [_row("claims_administrator", odg), _row("maximus", mtus), _row("maximus", odg)]
        )
        is True
    )
    assert same_guideline([_row("claims_administrator", odg), _row("maximus", mtus)]) is False
    assert (
        same_guideline([_row("claims_administrator", "No citation"), _row("maximus", mtus)])
        is False
    )
    assert same_guideline([_row("maximus", mtus)]) is None  # no claims administrator line
    assert same_guideline([]) is None
    unknown = [
        _row("claims_administrator", "Unknown title", False, "A Book"),
        _row("maximus", "Unknown title", False, "B Book"),
    ]
    assert same_guideline(unknown) is False


LETTER = """\
HOW THE IMR FINAL DETERMINATION WAS MADE
MAXIMUS Federal Services sent the complete case file to a Medical Doctor.
State(s) of Licensure: California
Certification(s)/Specialty: Internal Medicine
CLINICAL CASE SUMMARY
The patient is a 50 year old male with low back pain.
IMR ISSUES, DECISIONS AND RATIONALES
The Final Determination was based on decisions for the disputed items/services set forth below:
MRI of the lumbar spine: Upheld
Claims Administrator guideline: Decision based on MTUS ACOEM Low Back Complaints 2004,
Section(s): Special Studies.
MAXIMUS guideline: Decision based on MTUS ACOEM Low Back Complaints 2004,
Section(s): Diagnostic Criteria, Special Studies, Summary.
Decision rationale: There are no red flags. The request is not medically necessary.
Physical therapy for the knee, six sessions: Upheld
Claims Administrator guideline: The Claims Administrator did not cite any medical evidence for its
decision.
MAXIMUS guideline: Decision based on MTUS ACOEM Knee Complaints 2004, Section(s):
Special Studies.
Decision rationale: The request is not medically necessary.
"""


def test_rows_of_a_synthetic_letter(nlp):
    import pandas as pd

    from imr_extract.export import doc_rows
    from imr_extract.ingest import SourceDocument

    assert {"sections", "section_key"} <= set(CITATION_COLUMNS)
    assert "same_guideline_as_claims_administrator" in DECISION_COLUMNS
    rows = doc_rows(nlp(LETTER), SourceDocument(doc_id="x", path="x", text=LETTER))
    cites = pd.DataFrame(rows["citations"])
    mine = cites[cites.source == "maximus"].set_index("decision_index")
    assert mine.loc[0, "section"] == "Diagnostic Criteria, Special Studies, Summary"  # as written
    assert mine.loc[0, "sections"] == "Diagnostic Criteria;Special Studies;Summary"
    assert mine.loc[0, "section_key"].split(";")[1] == "low back complaints > special studies"
    assert mine.loc[1, "section_key"] == "knee complaints > special studies"
    none = cites[cites.guideline == "No citation"]
    assert len(none) == 1 and none.iloc[0]["sections"] == ""
    decisions = pd.DataFrame(rows["decisions"]).set_index("decision_index")
    assert decisions.loc[0, "maximus_sections"] == "Diagnostic Criteria;Special Studies;Summary"
    assert decisions.same_guideline_as_claims_administrator.tolist() == [True, False]
    assert "No citation" not in ";".join(decisions.maximus_sections)
