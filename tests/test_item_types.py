"""item_type: the DWC-aligned taxonomy (issue 15), its rules, the README table, the evaluator."""

import csv
import json
import re

import pytest

from imr_extract.evaluate_item_types import evaluate_item_types, print_item_types, summary
from imr_extract.normalize.item_types import ITEM_TYPES, classify_item, compile_rules
from imr_extract.rules import packaged_rules

from conftest import ROOT, SAMPLES

RESOURCES = ROOT / "pipeline" / "imr_extract" / "resources"
ISSUE_TYPES = [
    "pharmaceutical",
    "DMEPOS",
    "imaging",
    "electrodiagnostic",
    "lab",
    "physical_medicine",
    "injection",
    "surgery",
    "evaluation_management",
    "behavioral_health",
    "home_health",
    "program",
    "transportation",
    "other",
]
RULES = compile_rules(packaged_rules("item_type_rules.csv"))


def kind(item: str, *entities: tuple[str, str | None]) -> str:
    return classify_item(item, entities, RULES)


def test_the_taxonomy_file_holds_exactly_the_issue_values_with_a_source():
    text = (RESOURCES / "item_types.csv").read_text(encoding="utf-8")
    assert text.startswith("# source:") and "dir.ca.gov/dwc/IMR" in text
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    assert [r["code"] for r in rows] == ISSUE_TYPES == ITEM_TYPES
    assert all(r["definition"] and r["source"].startswith("DWC: ") for r in rows)


def test_readme_table_is_the_taxonomy_file():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Item types", 1)[1].split("\n#", 1)[0]
    listed = re.findall(r"^\| `(\w+)` \| (.+) \| (.+) \|$", section, re.M)
    expected = [(r["code"], r["definition"], r["source"]) for r in packaged_rules("item_types.csv")]
    assert listed == expected


def test_every_rule_and_procedure_names_a_type_of_the_taxonomy():
    assert {r["item_type"] for r in packaged_rules("item_type_rules.csv")} - {""} <= set(ITEM_TYPES)
    assert {r["item_type"] for r in packaged_rules("procedures.csv")} <= set(ITEM_TYPES)
    with pytest.raises(ValueError):
        compile_rules([{"item_type": "drug", "pattern": "x"}])


@pytest.mark.parametrize(
    ("item", "expected"),
    [  # the misclassifications listed in issue 15, in synthetic items
        ("Ultrasound 1 times 8", "physical_medicine"),
        ("Pulsed Ultrasound to the left shoulder", "physical_medicine"),
        ("Ultrasound of the right shoulder", "imaging"),
        ("Pre-operative PT/PTT", "lab"),
        ("Spine surgery evaluation for the lumbar", "evaluation_management"),
        ("Vascutherm unit, 14 day rental", "DMEPOS"),
        ("Purchase of a hospital bed", "DMEPOS"),
        ("Sit-stand workstation", "DMEPOS"),
        ("Pre-operative BMP", "lab"),
        ("Associated surgical service: UA", "lab"),
        ("Urinalysis", "lab"),
        ("SSEP of the lower extremities", "electrodiagnostic"),
        ("Pre-op Clearance", "evaluation_management"),
        ("Assistant PA", "surgery"),
        ("Assistant surgeon", "surgery"),
        # the rest of the taxonomy
        ("Physical therapy 2 times a week for 6 weeks", "physical_medicine"),
        ("Physical therapy evaluation of the neck", "physical_medicine"),
        ("Chiropractic care, six sessions", "physical_medicine"),
        ("Electrical stimulation 1 times 8", "physical_medicine"),
        ("Associated surgical service: Cold therapy unit", "DMEPOS"),
        ("TENS unit, purchase", "DMEPOS"),
        ("Knee arthroscopy with evaluation of the meniscus", "surgery"),
        ("Post-operative inpatient stay, 2 days", "surgery"),
        ("Consultation with a hand surgeon", "evaluation_management"),
        ("Functional capacity evaluation", "evaluation_management"),
        ("Psychological evaluation", "behavioral_health"),
        ("Six sessions of cognitive behavioral therapy", "behavioral_health"),
        ("Biofeedback, four sessions", "behavioral_health"),
        ("Functional restoration program, 80 hours", "program"),
        ("Gym membership for six months", "program"),
        ("Home exercise program instruction", "physical_medicine"),
        ("Home health aide 4 hours a day", "home_health"),
        ("Transportation to and from medical appointments", "transportation"),
        ("Urine drug screen", "lab"),
        ("EMG/NCV of the upper extremities", "electrodiagnostic"),
        ("MRI of the lumbar spine without contrast", "imaging"),
        ("Right L5-S1 transforaminal epidural steroid injection", "injection"),
        ("Radiofrequency ablation at L4-5", "injection"),
        ("Something unheard of", "other"),
        # the annotation guide's calls (annotations/README.md, items)
        ("Pre-operative EKG", "electrodiagnostic"),
        ("Percutaneous neuroplasty, lumbar spine", "injection"),
        ("Wound care nurse, 3 visits", "home_health"),
        ("One week trial of an acute rehabilitation unit", "other"),
        ("Jamar grip strength test", "evaluation_management"),
        ("Re-exam with the chiropractor", "evaluation_management"),
        # general cues
        ("Work hardening program, 10 visits", "physical_medicine"),
        ("Botox injections to the neck", "injection"),
        ("LSO back brace", "DMEPOS"),
        ("Hot/cold packs", "DMEPOS"),
        ("Follow-up appointment with the specialist", "evaluation_management"),
        ("Six sessions of a modality nobody named", "physical_medicine"),
        ("Vitamin D supplements", "pharmaceutical"),
    ],
)
def test_item_types_from_the_item_text(item, expected):
    assert kind(item) == expected


def test_entities_decide_when_no_pattern_does_and_drug_injections_are_injections():
    assert kind("Zolpidem", ("MEDICATION", None)) == "pharmaceutical"
    assert kind("Brandname 10 mg #30") == "pharmaceutical"  # a dose with a name not in the lexicon
    # an injection of drugs is an injection, acupuncture with a patch is physical medicine
    item = "Injection of lidocaine 1% and dexamethasone to the right knee"
    assert kind(item, ("MEDICATION", None), ("MEDICATION", None)) == "injection"
    item = "Twelve acupuncture visits with capsaicin patch"
    assert kind(item, ("MEDICATION", None)) == "physical_medicine"
    assert kind("Tramadol extended release 100 mg", ("MEDICATION", None)) == "pharmaceutical"
    assert kind("Lidocaine patch", ("MEDICATION", None)) == "pharmaceutical"
    assert kind("Widget", ("PROCEDURE", "DMEPOS")) == "DMEPOS"
    assert kind("Widget", ("PROCEDURE", None)) == "other"


def test_decisions_and_procedures_carry_taxonomy_values(nlp):
    from imr_extract.export import doc_rows
    from imr_extract.ingest import SourceDocument

    text = (SAMPLES / "CM16-9900001.txt").read_text(encoding="utf-8")
    rows = doc_rows(nlp(text), SourceDocument(doc_id="x", path="x", text=text))
    types = [d["item_type"] for d in rows["decisions"]]
    assert types == ["pharmaceutical", "lab", "electrodiagnostic", "physical_medicine"]
    procedures = [e["item_type"] for e in rows["entities"] if e["label"] == "PROCEDURE"]
    assert procedures and set(procedures) <= set(ITEM_TYPES)


def test_evaluator_on_a_synthetic_gold_file(tmp_path, capsys):
    header = {"_source": "synthetic item_type gold for a test"}
    letter = {
        "doc_id": "CM16-9900001",
        "source": "CM16-9900001.txt",
        "split": "dev",
        "decisions": [
            {"decision_index": 0, "item": "Flurbiprofen", "item_type": "pharmaceutical"},
            {"decision_index": 1, "item": "Labs", "item_type": "lab"},
            {"decision_index": 2, "item": "NCV", "item_type": "imaging"},  # a planted miss
            {"decision_index": 3, "item": "Physical therapy", "item_type": "physical_medicine"},
        ],
    }
    other = {
        "doc_id": "sample_2014_seed_style",
        "source": "sample_2014_seed_style.txt",
        "split": "test",
        "decisions": [
            {"decision_index": 0, "item_type": "pharmaceutical"},
            {"decision_index": 2, "item_type": "injection"},
        ],
    }
    gold = tmp_path / "items.jsonl"
    gold.write_text("\n".join(json.dumps(x) for x in (header, letter, other)) + "\n")
    stats = evaluate_item_types(gold, SAMPLES)
    assert summary(stats["dev"])["accuracy"] == 0.75
    assert summary(stats["test"])["accuracy"] == 1.0
    assert stats["all"]["decisions"] == 6 and summary(stats["all"])["other"] == 0.0
    assert stats["dev"]["misses"] == [("CM16-9900001", 2, "imaging", "electrodiagnostic", "NCV")]
    print_item_types(stats)
    out = capsys.readouterr().out
    assert "accuracy" in out and "imaging → electrodiagnostic: 1" in out


def test_rules_tried_where_their_words_start_give_what_a_search_gives():
    """The fast path (each rule tried with `match` where one of its start words starts, on an
    ASCII item) against `search` with every rule: on the vocabulary's items, the same items
    cased and cut at every word, and non-ASCII items (the Kelvin sign and the long s fold to
    k and s under IGNORECASE; an item holding one is searched as before)."""
    from test_item_type_vocabulary import CASES, DRUG_NAMED

    plain = compile_rules(packaged_rules("item_type_rules.csv"), fast=False)
    assert sum(r.search.starts is not None for r in RULES if r.search) >= 20  # start words
    items = [item for item, _ in CASES + DRUG_NAMED]
    items += [item.upper() for item in items] + [item.title() for item in items]
    for item in list(items):
        words = item.split()
        items += [" ".join(words[k:]) for k in range(1, len(words))]
        items += [" ".join(words[:k]) for k in range(1, len(words))]
    items += ["\u212aenalog injection", "ſplint", "Cervical collar ſoft", "Post-surgery stay"]
    items += ["QME panel", "Lab panel", "INR", "xINR", "pt/inr", "Associated surgical service: PT"]
    for entities in ([], [("MEDICATION", None)], [("PROCEDURE", "imaging")]):
        for item in items:
            assert classify_item(item, entities, RULES) == classify_item(item, entities, plain), (
                item
            )
