"""Drugs (issues 14 and 15): DrugBank/MeSH ids, route-aware classes, amounts as numbers, MME
with a note when it cannot be computed, one strength per drug, and the MME evaluator.
Every letter here is synthetic."""

from __future__ import annotations

import csv
import json
import re

import pytest

from imr_extract.normalize.amounts import number_value, parse_amounts
from imr_extract.normalize.mme import doses_per_day, mme_with_note, units_per_dose
from test_qa_flags import HEAD, item, rows

from conftest import ROOT

RESOURCES = ROOT / "pipeline" / "imr_extract" / "resources"


def decisions_of(nlp, *lines: str) -> list[dict]:
    return rows(nlp, "".join(item(f"{line}: Upheld") for line in lines))["decisions"]


def medications_of(nlp, *lines: str) -> list[dict]:
    out = rows(nlp, "".join(item(f"{line}: Upheld") for line in lines))
    return [e for e in out["entities"] if e["label"] == "MEDICATION"]


# --- A: ids and route-aware classes -------------------------------------------------------


def test_medications_carry_drugbank_and_mesh_ids_in_ingredient_order(nlp):
    norco, cream = medications_of(nlp, "Norco 10/325mg #60", "Capsaicin 0.025% cream #1")
    assert norco["normalized"] == "hydrocodone;acetaminophen"
    assert norco["drugbank_id"] == "DB00956;DB00316"
    assert len(norco["mesh_id"].split(";")) == 2
    assert cream["drugbank_id"] == "DB06774"
    (decision, _) = decisions_of(nlp, "Norco 10/325mg #60", "Capsaicin 0.025% cream #1")
    assert (decision["drugbank_id"], decision["mesh_id"]) == (
        norco["drugbank_id"],
        norco["mesh_id"],
    )


def test_ids_keep_an_empty_element_where_the_dictionary_gives_none(nlp):
    (terocin,) = medications_of(nlp, "Terocin lotion 120ml #1")
    ingredients = terocin["normalized"].split(";")
    ids = terocin["drugbank_id"].split(";")
    assert len(ids) == len(ingredients) == 4
    assert ids[ingredients.index("lidocaine")] == "DB00281"


@pytest.mark.parametrize(
    "line, drug_class, route",
    [
        (
            "Retrospective injection 5cc of lidocaine 1% to the knee",
            "local anesthetic",
            "injection",
        ),
        ("Trigger point injections with lidocaine x4", "local anesthetic", "injection"),
        ("Lidocaine 5% patch #30", "topical analgesic", "topical"),
        ("Lidoderm #30", "topical analgesic", "topical"),
        ("Flector #30", "topical NSAID", "topical"),
        ("Voltaren gel 1% 100 grams", "topical NSAID", "topical"),
        ("Diclofenac 3% #1", "topical NSAID", "topical"),
        ("Diclofenac sodium 1.5% topical solution 150ml", "topical NSAID", "topical"),
        ("Pennsaid 2% #1", "topical NSAID", "topical"),
        ("Diclofenac sodium ER 100mg #60", "NSAID", None),
        ("Voltaren 75mg tablets #60", "NSAID", "oral"),
        ("Flurbiprofen 20% cream 180 grams", "topical NSAID", "topical"),
    ],
)
def test_drug_class_depends_on_the_route(nlp, line, drug_class, route):
    med = medications_of(nlp, line)[0]
    assert (med["drug_class"], med["route"]) == (drug_class, route)
    assert decisions_of(nlp, line)[0]["drug_class"] == drug_class


def test_route_rules_and_classes_are_data():
    routes = list(
        csv.DictReader(line for line in open(RESOURCES / "drug_routes.csv") if line[0] != "#")
    )
    assert {r["route"] for r in routes} == {"topical", "oral", "injection"}
    classes = list(
        csv.DictReader(line for line in open(RESOURCES / "drug_classes.csv") if line[0] != "#")
    )
    by_route = {(r["ingredient"], r["route"]): r["drug_class"] for r in classes}
    assert by_route[("lidocaine", "injection")] == "local anesthetic"
    assert by_route[("diclofenac", "topical")] == "topical NSAID"
    assert by_route[("diclofenac", "")] == "NSAID"


def all_classes() -> set[str]:
    found = set()
    for name, column in (("drug_classes.csv", "drug_class"), ("medications_wc.csv", "drug_class")):
        with open(RESOURCES / name) as fh:
            found |= {
                r[column]
                for r in csv.DictReader(line for line in fh if line[0] != "#")
                if r[column]
            }
    return found


def test_readme_states_every_drug_class():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Drug classes", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([^`]+)` \|", section, re.M))
    assert listed == all_classes()


# --- B: amounts as numbers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Eight physical therapy sessions", (8, None, None, None)),
        ("Physical therapy 2x6", (12, 2, 6, None)),
        ("Chiropractic 2 times 6", (12, 2, 6, None)),
        ("Ultrasound 1 times 8", (8, 1, 8, None)),
        ("Aquatic therapy 2 times weekly for 6 weeks", (12, 2, 6, None)),
        ("Acupuncture three times weekly", (None, 3, None, None)),
        ("Physical therapy 12 visits over 6 weeks", (12, None, 6, None)),
        ("Twelve acupuncture visits, 2 times weekly for 6 weeks", (12, 2, 6, None)),
        ("Cold therapy unit 30 day rental", (None, None, None, 30)),
        ("TENS unit rental for 14 days", (None, None, None, 14)),
        ("6-8 sessions of psychotherapy", (8, None, None, None)),
        ("Norco 10/325mg #60 x 2 refills", (None, None, None, None)),
        ("MRI of the wrist, 2x2 cm lesion", (None, None, None, None)),
    ],
)
def test_amounts_of_an_item(text, expected):
    found = parse_amounts(text)
    columns = ("sessions", "times_per_week", "duration_weeks", "rental_days")
    assert tuple(found[c] for c in columns) == expected


def test_number_words_are_data():
    assert number_value("eight") == 8 and number_value("twenty-four") == 24
    assert number_value("6-8") == 8 and number_value("one to two") == 2
    words = (RESOURCES / "number_words.csv").read_text()
    assert "\ntwelve,12\n" in words


def test_decision_rows_get_the_amounts_and_the_frequency_as_written(nlp):
    pt, chiro, dme, norco = decisions_of(
        nlp,
        "Physical therapy 2 times weekly for 6 weeks",
        "Chiropractic therapy 2x6",
        "Cold therapy unit 30 day rental",
        "Norco 5/325mg #60, take 1-2 tablets every 4-6 hrs as needed",
    )
    assert (pt["frequency"], pt["sessions"], pt["times_per_week"], pt["duration_weeks"]) == (
        "2 times weekly for 6 weeks",
        12,
        2,
        6,
    )
    assert (chiro["frequency"], chiro["sessions"]) == ("2x6", 12)
    assert dme["rental_days"] == 30 and dme["doses_per_day"] is None
    assert norco["frequency"] == "every 4-6 hrs as needed"
    assert norco["doses_per_day"] == 6.0 and pt["doses_per_day"] is None


# --- C: MME ---------------------------------------------------------------------------------


def test_doses_and_units_at_the_most_the_sig_allows():
    assert doses_per_day("every 4-6 hrs as needed") == 6.0
    assert doses_per_day("q4-6h") == 6.0
    assert doses_per_day("1-2 times a day") == 2.0
    assert doses_per_day("3 times daily") == 3.0
    assert doses_per_day("2 times weekly") is None and doses_per_day("as needed") is None
    assert units_per_dose("take 1-2 tablets every 4-6 hrs") == 2.0
    assert units_per_dose("one to two tablets twice daily") == 2.0
    assert units_per_dose("Norco 10/325mg #60") == 1.0


def test_mme_cdc_example_and_notes():
    opioid = ["hydrocodone", "acetaminophen"]
    mme = mme_with_note(opioid, "5 mg + 325 mg", "every 4-6 hrs", "1-2 tabs every 4-6 hrs")
    assert (mme["mme_per_day"], mme["mme_note"]) == (60.0, None)
    assert "x 2 per dose x 6 doses/day" in mme["mme_inputs"]
    none = mme_with_note(opioid, "10 mg + 325 mg", None, "Norco 10/325mg #180")
    assert (none["mme_per_day"], none["mme_note"]) == (None, "no frequency in the item")
    prn = mme_with_note(["tramadol"], "50 mg", "as needed", "Ultram 50mg as needed")
    assert prn["mme_per_day"] is None and "gives no doses per day" in prn["mme_note"]
    assert mme_with_note(opioid, None, "BID", "Norco #60")["mme_note"] == "no strength in the item"
    patch = mme_with_note(["fentanyl"], "25 mcg/hr", None, "Fentanyl 25mcg/hr patch #10")
    assert patch["mme_per_day"] == 60.0
    assert mme_with_note(["naproxen"], "500 mg", "BID", "") == dict.fromkeys(patch, None)


def test_opioid_decisions_get_mme_or_a_note(nlp):
    sig, bare, tram, nsaid = decisions_of(
        nlp,
        "Norco 5/325mg #60, take 1-2 tablets every 4-6 hrs as needed",
        "Percocet 10/325mg #90",
        "Ultram (tramadol) 50mg #90, one tablet three times daily",
        "Naproxen 550mg #60",
    )
    assert (sig["mme_per_day"], sig["mme_note"]) == (60.0, None)
    assert (bare["mme_per_day"], bare["mme_note"]) == (None, "no frequency in the item")
    assert (tram["mme_per_day"], tram["strength"]) == (30.0, "50 mg")
    assert (nsaid["mme_per_day"], nsaid["mme_note"]) == (None, None)


# --- D: strength list -----------------------------------------------------------------------


def test_one_strength_per_drug_in_ingredient_order_never_deduplicated(nlp):
    cream, norco, mixed = decisions_of(
        nlp,
        "Dextromethorphan 5%/Amitriptyline 5%/Capsaicin 0.025%, 120grams #1",
        "Norco 10/325mg #90",
        "Flurbiprofen 10%/Lidocaine/Capsaicin 0.025%, 120grams #1",
    )
    assert cream["ingredients"] == "dextromethorphan;amitriptyline;capsaicin"
    assert cream["strength"] == "5 %;5 %;0.025 %"
    assert (norco["ingredients"], norco["strength"]) == (
        "hydrocodone;acetaminophen",
        "10 mg + 325 mg",
    )
    assert mixed["strength"] == "10 %;;0.025 %"  # lidocaine states none: an empty element
    assert len(mixed["strength"].split(";")) == len(mixed["ingredients"].split(";"))


# --- the MME evaluator ----------------------------------------------------------------------


def test_mme_evaluator_on_a_synthetic_gold(tmp_path, capsys):
    from imr_extract.evaluate_mme import evaluate_mme, print_mme

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    body = "".join(
        item(f"{line}: Upheld")
        for line in (
            "Norco 5/325mg #60, take 1-2 tablets every 4-6 hrs as needed",
            "Oxycodone 10mg #90, one tablet three times daily",
            "Norco 10/325mg #180",
            "Naproxen 550mg #60",
        )
    )
    (corpus / "letter.txt").write_text(HEAD + body)
    gold = [
        {"_source": "synthetic", "_date": "2026-12-01"},
        {
            "doc_id": "letter",
            "source": "letter.txt",
            "split": "dev",
            "decisions": [
                {"decision_index": 0, "mme_per_day": 60, "mme_note": None},
                {"decision_index": 1, "mme_per_day": 30, "mme_note": None},  # tool: 45
                {"decision_index": 2, "mme_per_day": None, "mme_note": "no frequency"},
                {"decision_index": 3, "mme_per_day": None, "mme_note": None},
            ],
        },
    ]
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(g) for g in gold) + "\n")
    stats, misses = evaluate_mme(path, corpus)
    assert stats["dev"] == {
        "gold_mme": 2,
        "given": 2,
        "agree": 1,
        "extra": 0,
        "gold_note": 1,
        "note_kept_empty": 1,
    }
    assert stats["all"] == stats["dev"] and len(misses) == 1
    print_mme(stats, misses)
    out = capsys.readouterr().out
    assert "gold opioid decisions with MME" in out and "gold 30, tool 45.0" in out


def test_eval_command_takes_the_items_gold():
    from imr_extract.cli import _parser

    args = _parser().parse_args(["eval"])
    assert args.items == "annotations/items.jsonl"


def test_new_columns_are_in_the_tables_and_in_columns_csv():
    from imr_extract.export import DECISION_COLUMNS, ENTITY_COLUMNS

    new = {
        "decisions": [
            "sessions",
            "times_per_week",
            "duration_weeks",
            "rental_days",
            "doses_per_day",
            "mme_note",
            "drugbank_id",
            "mesh_id",
        ],
        "entities": ["drugbank_id", "mesh_id", "route"],
    }
    with open(RESOURCES / "columns.csv") as fh:
        rows = {(r["table"], r["column"]): r for r in csv.DictReader(fh)}
    for table, columns in new.items():
        declared = DECISION_COLUMNS if table == "decisions" else ENTITY_COLUMNS
        first_added = declared.index("authorized" if table == "decisions" else "decision_part")
        assert set(columns) <= set(declared[first_added:])  # by name, not position
        for column in columns:
            assert rows[(table, column)]["description"]
    assert rows[("decisions", "strength")]["list"] == "true"
    assert rows[("decisions", "sessions")]["type"] == "integer"
    assert rows[("entities", "route")]["values"] == "topical|oral|injection"
