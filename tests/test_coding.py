"""Issue 14: WCIO body part, laterality, spinal levels and ICD-10-CM codes of diagnoses and
decisions, diagnoses linked to decisions, and their evaluation. Synthetic text only."""

from __future__ import annotations

import csv
import json

import pytest

from imr_extract.normalize.coding import Coder, spinal_levels
from imr_extract.rules import packaged_rules

from conftest import ROOT, read_sample

RESOURCES = ROOT / "pipeline" / "imr_extract" / "resources"
WCIO_CODES = {  # the WCIO Part of Body list, exactly
    *map(str, range(10, 20)),
    *map(str, range(20, 27)),
    *map(str, range(30, 40)),
    *map(str, range(40, 50)),
    *map(str, range(50, 59)),
    *map(str, range(60, 67)),
    "90",
    "91",
    "99",
}


@pytest.fixture(scope="module")
def coder(nlp) -> Coder:
    """The coder of the built pipeline (its titles index comes from the code set)."""
    return nlp.get_pipe("imr_coding").coder


def test_the_wcio_list_is_whole_and_names_its_source():
    rows = packaged_rules("wcio_body_parts.csv")
    assert {r["code"] for r in rows} == WCIO_CODES
    assert all(r["name"] for r in rows)
    header = (RESOURCES / "wcio_body_parts.csv").read_text().splitlines()[0]
    assert header.startswith("# source: WCIO Part of Body")
    names = {r["code"]: r["name"] for r in rows}
    assert names["42"] == "Lower Back Area" and names["53"] == "Knee"


def test_every_term_and_map_code_is_known():
    wcio = {r["code"] for r in packaged_rules("wcio_body_parts.csv")}
    for row in packaged_rules("body_part_terms.csv"):
        assert row["code"] in wcio | {""}, row
    import simple_icd_10_cm as cm

    for row in packaged_rules("icd10cm_map.csv"):
        code = row["code"]
        if code and not code.startswith("="):
            assert cm.is_valid_item(code), row
            assert len(code.replace(".", "")) <= 6, row  # no 7th character


@pytest.mark.parametrize(
    "text, levels",
    [
        ("disc bulges at L4-L5 and L5/S1", ["L4-5", "L5-S1"]),
        ("C5-6 and C6-C7 foraminal narrowing", ["C5-6", "C6-7"]),
        ("L4/5 protrusion, radiculopathy at L5", ["L4-5", "L5"]),
        ("compression fracture at T10", ["T10"]),
        ("no levels in this one, 5-6 times a day", []),
    ],
)
def test_spinal_levels_are_normalised(text, levels):
    assert spinal_levels(text) == levels


@pytest.mark.parametrize(
    "text, part, side",
    [
        ("chronic low back pain", "42", ""),
        ("lumbar radiculopathy", "42", ""),
        ("left lumbar disc herniation", "43", "left"),
        ("cervical disc displacement", "22", ""),
        ("neck pain", "20", ""),
        ("pain in the thoracic spine", "41", ""),
        ("right carpal tunnel syndrome", "34", "right"),
        ("bilateral wrist and hand pain", "39", "bilateral"),
        ("left and right knee pain", "53", "bilateral"),
        ("pain in the right shoulder and right elbow", "30", "right"),
        ("neck and low back pain", "90", ""),
        ("major depressive disorder", "66", ""),
        ("hypertension", "91", ""),
        ("radiculopathy", "65", ""),
    ],
)
def test_body_part_and_laterality(coder, text, part, side):
    values = coder.code(text)
    assert (values["body_part_code"], values["laterality"]) == (part, side)
    assert values["body_part"] == coder.names[part]


@pytest.mark.parametrize(
    "text, code",
    [
        ("lumbar radiculopathy", "M54.16"),
        ("low back pain", "M54.50"),
        ("right shoulder pain", "M25.511"),
        ("sprain of the left knee", "S83.92"),
        ("lumbar sprain/strain", "S33.5"),  # a sprain/strain is the sprain code
        ("cervical muscle strain", "S16.1"),
        ("bilateral carpal tunnel syndrome", "G56.03"),
        ("radiculopathy", "M54.10"),
        # the title fallback: a diagnosis written as a code title
        ("contusion of left great toe without damage to nail", "S90.112"),
    ],
)
def test_icd10cm_codes(coder, text, code):
    values = coder.code(text)
    assert values["icd10cm"] == code
    assert values["icd10cm_category"] == code[:3]
    assert values["icd10cm_title"]


@pytest.mark.parametrize(
    "text",
    [
        "pain in the neck, left shoulder and low back",  # several sites: no one code
        "knee condition",  # no condition the map or a title knows
        "fracture of the fibula",  # a bone with its own codes: not its region's
        "strain of the back and the left knee",
        "contusion of the lesser toes",  # no exact title, and the map has no lesser-toe row
    ],
)
def test_the_fallback_does_not_guess(coder, text):
    assert coder.code(text)["icd10cm"] is None


def test_a_site_less_condition_takes_the_part_of_its_own_clause(coder):
    values = coder.code("fracture", context="X-ray of the left foot: \x00fracture\x00.")
    assert (values["body_part_code"], values["laterality"], values["icd10cm"]) == (
        "56",
        "left",
        "S92.902",
    )
    side = coder.code(
        "meniscal tearing", context="MRI of the right knee: \x00meniscal tearing\x00."
    )
    assert (side["body_part_code"], side["laterality"], side["icd10cm"]) == (
        "53",
        "right",
        "S83.206",
    )
    generic = coder.code("chronic pain", context="The knee hurts with \x00chronic pain\x00.")
    assert generic["body_part_code"] == "65"


def test_the_package_is_not_imported_when_the_pipeline_loads():
    import subprocess
    import sys

    code = (
        "import sys, imr_extract; nlp = imr_extract.load(); "
        "print('simple_icd_10_cm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("False")


def test_decisions_get_a_body_part_and_linked_diagnoses(nlp):
    from imr_extract.api import to_frames

    doc = nlp(read_sample("CM16-9900001.txt"))
    frames = to_frames([doc])
    decisions = frames["decisions"].set_index("decision_index")
    therapy = decisions.loc[3]  # Physical therapy for the cervical spine
    assert (therapy["body_part_code"], therapy["body_part_source"]) == ("20", "item")
    assert therapy["primary_icd10cm"] == "M54.12"
    assert "M54.12" in list(therapy["icd10cm"])
    assert "cervical radiculopathy" in list(therapy["diagnoses"])
    nerve = decisions.loc[2]  # NCV of the right upper extremity
    assert (nerve["body_part_code"], nerve["laterality"]) == ("30", "right")
    assert "G56.01" in list(nerve["icd10cm"])  # the right carpal tunnel syndrome
    cream = decisions.loc[0]  # a compound cream: no part written, no diagnosis in its block
    assert cream["body_part_source"] == "summary"
    entities = frames["entities"]
    summary = entities[(entities["label"] == "DIAGNOSIS") & entities["decision_index"].isna()]
    radiculopathy = summary[summary["text"] == "cervical radiculopathy"].iloc[0]
    assert radiculopathy["body_part_code"] == "20"
    assert radiculopathy["icd10cm"] == "M54.12"
    assert radiculopathy["icd10cm_title"] == "Radiculopathy, cervical region"
    assert radiculopathy["icd10cm_category"] == "M54"
    assert isinstance(radiculopathy["decision_indexes"], list)  # not a `;`-joined string
    assert "3" in radiculopathy["decision_indexes"]


def test_new_columns_are_exported_and_described():
    from imr_extract.export import DECISION_COLUMNS, ENTITY_COLUMNS

    new_entity = [
        "body_part_code",
        "body_part",
        "laterality",
        "spinal_levels",
        "icd10cm",
        "icd10cm_title",
        "icd10cm_category",
        "decision_indexes",
    ]
    new_decision = [
        "body_part_code",
        "body_part",
        "laterality",
        "spinal_levels",
        "body_part_source",
        "diagnoses",
        "icd10cm",
        "primary_icd10cm",
    ]
    assert all(c in ENTITY_COLUMNS for c in new_entity)
    assert all(c in DECISION_COLUMNS for c in new_decision)
    with open(RESOURCES / "columns.csv", newline="") as f:
        described = {(r["table"], r["column"]) for r in csv.DictReader(f)}
    assert all(("entities", c) in described for c in new_entity)
    assert all(("decisions", c) in described for c in new_decision)


# -- the evaluator ----------------------------------------------------------------------------


def _rows(**kwargs):
    return {"entities": kwargs.get("entities", []), "decisions": kwargs.get("decisions", [])}


def test_the_evaluator_scores_matched_spans_and_decisions():
    from collections import defaultdict

    from imr_extract.evaluate_codes import norm_code, score_decisions, score_diagnoses, summary

    gold = {
        "diagnoses": [
            {
                "start": 10,
                "end": 25,
                "body_part_code": "42",
                "laterality": "",
                "spinal_levels": [],
                "icd10cm": "M5450",
            },
            {
                "start": 40,
                "end": 55,
                "body_part_code": "53",
                "laterality": "right",
                "spinal_levels": [],
                "icd10cm": "M25.561",
            },
            {
                "start": 70,
                "end": 80,
                "body_part_code": "65",
                "laterality": "",
                "spinal_levels": [],
                "icd10cm": None,
            },
            {
                "start": 90,
                "end": 99,
                "body_part_code": "20",
                "laterality": "",
                "spinal_levels": [],
                "icd10cm": "M54.2",
            },
        ],
        "decisions": [
            {
                "decision_index": 0,
                "body_part_code": "42",
                "laterality": "",
                "body_part_source": "item",
            },
            {
                "decision_index": 1,
                "body_part_code": "53",
                "laterality": "right",
                "body_part_source": "summary",
            },
        ],
    }

    def ent(start, end, part, side, code):
        return {
            "label": "DIAGNOSIS",
            "start_char": start,
            "end_char": end,
            "body_part_code": part,
            "laterality": side,
            "spinal_levels": None,
            "icd10cm": code,
        }

    rows = _rows(
        entities=[
            ent(8, 25, "42", None, "M54.50"),  # overlaps the first gold span: right
            ent(40, 55, "53", "left", "M25.562"),  # wrong side, wrong code, right category
            ent(70, 80, "65", None, "M54.9"),  # a code where the gold has none
            # the fourth gold span is not found
        ],
        decisions=[
            {
                "decision_index": 0,
                "body_part_code": "42",
                "laterality": None,
                "body_part_source": "item",
            },
            {
                "decision_index": 1,
                "body_part_code": "90",
                "laterality": None,
                "body_part_source": "summary",
            },
        ],
    )
    stats = defaultdict(int)
    score_diagnoses(gold, rows, stats)
    score_decisions(gold, rows, stats)
    result = summary(stats)
    assert norm_code("m5416") == "M54.16" and norm_code(" M54.16") == "M54.16"
    assert result["diagnosis spans matched"] == 0.75
    assert result["diagnosis body part"] == 1.0
    assert result["laterality"] == pytest.approx(2 / 3)
    assert result["ICD-10-CM category"] == 1.0  # over the 2 matched spans the gold codes
    assert result["ICD-10-CM full code"] == 0.5
    assert result["uncoded (share)"] == 0.0
    assert result["code precision"] == pytest.approx(1 / 3)
    assert result["decision body part"] == 0.5
    assert result["decision laterality"] == 0.5


def test_agreement_of_two_coders(tmp_path):
    from imr_extract.evaluate_codes import agreement, cohen_kappa

    assert cohen_kappa([("a", "a"), ("b", "b")]) == 1.0
    assert cohen_kappa([("a", "b"), ("b", "a")]) == -1.0

    def write(path, codes):
        header = {"_source": "synthetic"}
        row = {
            "doc_id": "x",
            "source": "x.txt",
            "split": "test",
            "coder": "A",
            "diagnoses": [
                {
                    "start": i * 10,
                    "end": i * 10 + 5,
                    "text": "t",
                    "body_part_code": p,
                    "laterality": s,
                    "spinal_levels": [],
                    "icd10cm": c,
                    "note": "",
                }
                for i, (p, s, c) in enumerate(codes)
            ],
        }
        path.write_text(json.dumps(header) + "\n" + json.dumps(row) + "\n")

    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    write(
        first,
        [
            ("42", "", "M54.50"),
            ("53", "right", "M25.561"),
            ("20", "", "M54.2"),
            ("38", "left", "M25.512"),
        ],
    )
    write(
        second,
        [
            ("42", "", "M5450"),
            ("53", "left", "M25.562"),
            ("20", "", None),
            ("38", "left", "M25.512"),
        ],
    )
    result = agreement(first, second)
    assert result["shared spans"] == 4
    assert result["body part agreement"] == 1.0 and result["body part kappa"] == 1.0
    assert result["laterality agreement"] == 0.75
    assert result["ICD-10-CM full code agreement"] == 0.5
    assert result["ICD-10-CM category agreement"] == 0.75
