"""Clinical entities on synthetic text: labels, values, context, linking, and the export."""

import pytest

from imr_extract.normalize.values import normalize_pain, normalize_quantity, normalize_strength

from conftest import read_sample


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10/325mg", "10 mg + 325 mg"),
        ("7.5 MG", "7.5 mg"),
        ("5%", "5 %"),
        ("10mg/1ml", "10 mg/ml"),
        ("650-1000 mg", "650-1000 mg"),
        ("10/325", "10 mg + 325 mg"),
    ],
)
def test_normalize_strength(text, value):
    assert normalize_strength(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("#180", "180"),
        ("240g", "240 g"),
        ("180gm", "180 g"),
        ("QTY: 2", "2"),
        ("unknown quantity", "unknown"),
        ("one container", "1"),
    ],
)
def test_normalize_quantity(text, value):
    assert normalize_quantity(text)[0] == value


def test_normalize_pain():
    assert normalize_pain("6-8 on a 10-point scale")[0] == "6-8"
    assert normalize_pain("7/10 to 8/10")[1:] == (7, 8)


def ents(nlp, text):
    doc = nlp(text)
    return doc, [(e.label_, e.text, e._.imr_normalized) for e in doc.ents]


def test_medications_brand_generic_and_compounds(nlp):
    _, found = ents(
        nlp,
        "She takes Norco 10/325mg #180 and Fexmid 7.5 MG; Flurbiprofen 20%, "
        "Baclofen 5% in cream base 240g was requested with Terocin patches.",
    )
    meds = [(t, v) for label, t, v in found if label == "MEDICATION"]
    assert meds == [
        ("Norco", "hydrocodone;acetaminophen"),
        ("Fexmid", "cyclobenzaprine"),
        ("Flurbiprofen", "flurbiprofen"),
        ("Baclofen", "baclofen"),
        ("Terocin", "methyl salicylate;capsaicin;menthol;lidocaine"),
    ]
    assert ("STRENGTH", "10/325mg", "10 mg + 325 mg") in found
    assert ("QUANTITY", "#180", "180") in found
    assert ("QUANTITY", "240g", "240 g") in found


def test_drug_classes_are_not_medications(nlp):
    _, found = ents(nlp, "Opioids and NSAIDs are not first line; muscle relaxants neither.")
    assert [f for f in found if f[0] == "MEDICATION"] == []


def test_dose_parts_attach_to_their_medication(nlp):
    doc = nlp("Flurbiprofen 20%, Baclofen 5% cream. Refills: 2. Tramadol ER 50mg twice daily.")
    by_text = {e.text: e for e in doc.ents}
    ents_ = list(doc.ents)
    assert ents_[by_text["20%"]._.imr_related].text == "Flurbiprofen"
    assert ents_[by_text["5%"]._.imr_related].text == "Baclofen"
    assert ents_[by_text["50mg"]._.imr_related].text == "Tramadol"
    assert by_text["ER"].label_ == "FORM"
    assert by_text["twice daily"].label_ == "FREQUENCY"


def test_dates_and_not_dates(nlp):
    _, found = ents(
        nlp,
        "DOI of 5/28/2010. Seen 10-13-16 and in December 2014. Norco 10/325, "
        "pain 7/10, strength 4/5, reflexes 2/4, 4/6 acupuncture treatments.",
    )
    dates = [(t, v) for label, t, v in found if label == "DATE"]
    assert dates == [
        ("5/28/2010", "2010-05-28"),
        ("10-13-16", "2016-10-13"),
        ("December 2014", "2014-12"),
    ]
    assert ("PAIN_SCORE", "7/10", "7") in found


def test_date_roles(nlp):
    doc = nlp(
        "The patient sustained an industrial injury on 3/2/2015. An MRI on 4/4/2015 "
        "showed a tear. UR non-certified the request on 5/1/2015."
    )
    roles = [e._.imr_role for e in doc.ents if e.label_ == "DATE"]
    assert roles == ["injury", "imaging", "ur_decision"]


def test_pain_scores_and_qualifiers(nlp):
    doc = nlp(
        "Pain is 8/10 without and 4/10 with medications. Pain rated 6-8 on a 10-point scale. VAS 5."
    )
    pain = [
        (e.text, e._.imr_normalized, e._.imr_qualifier)
        for e in doc.ents
        if e.label_ == "PAIN_SCORE"
    ]
    assert pain == [
        ("8/10", "8", "without_medication"),
        ("4/10", "4", "with_medication"),
        ("6-8 on a 10-point scale", "6-8", None),
        ("VAS 5", "5", None),
    ]


def test_context_negation_is_not_triggered_by_decisions(nlp):
    doc = nlp(
        "There is no evidence of radiculopathy. The patient denies depression. "
        "Carpal tunnel syndrome is present. Norco is not medically necessary. "
        "Rule out lumbar disc herniation. She has a history of fibromyalgia."
    )
    flags = {e.text: (e._.imr_negated, e._.imr_hypothetical, e._.imr_historical) for e in doc.ents}
    assert flags["radiculopathy"] == (True, False, False)
    assert flags["depression"] == (True, False, False)
    assert flags["Carpal tunnel syndrome"] == (False, False, False)
    assert flags["Norco"] == (False, False, False)
    assert flags["lumbar disc herniation"][1] is True
    assert flags["fibromyalgia"][2] is True


def test_guideline_titles_are_not_diagnoses(nlp):
    _, found = ents(
        nlp,
        "Decision based on MTUS Chronic Pain Medical Treatment Guidelines. "
        "The patient has chronic pain.",
    )
    assert [t for label, t, _ in found if label == "DIAGNOSIS"] == ["chronic pain"]


def test_abbreviation_takes_the_long_form_label(nlp):
    doc = nlp("She has complex regional pain syndrome (CRPS) of the hand. The CRPS is worse.")
    crps = [e for e in doc.ents if e.text == "CRPS"]
    assert len(crps) == 2 and all(e.label_ == "DIAGNOSIS" for e in crps)


def test_entities_are_linked_to_sections_and_decisions(nlp):
    doc = nlp(read_sample("CM16-9900001.txt"))
    rows = [
        (e.text, e._.imr_section, e._.imr_decision_index, e._.imr_decision_part) for e in doc.ents
    ]
    assert ("Flurbiprofen", "decisions", 0, "item") in rows
    assert ("cervical radiculopathy", "clinical_case_summary", None, None) in rows
    assert ("11/21/2016", "header", None, None) in rows
    medication = next(e for e in doc.ents if e.text == "Flurbiprofen")
    assert medication._.imr_medication_status == "requested"
