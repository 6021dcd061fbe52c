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
        ("75-0.2mg", "75 mg + 0.2 mg"),
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


def values(found, label):
    """(text, normalized) of the entities of one label, in text order."""
    return [(t, v) for lab, t, v in found if lab == label]


def texts(found, label):
    return [t for lab, t, _ in found if lab == label]


def test_medications_brand_generic_and_compounds(nlp):
    _, found = ents(
        nlp,
        "She takes Norco 10/325mg #180 and Fexmid 7.5 MG; Flurbiprofen 20%, "
        "Baclofen 5% in cream base 240g was requested with Terocin patches.",
    )
    meds = values(found, "MEDICATION")
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
    assert texts(found, "MEDICATION") == []


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
    dates = values(found, "DATE")
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


def test_date_roles_from_the_words_after_the_date(nlp):
    doc = nlp(
        "The injured worker presented on 12-03-2016 with neck pain. On 12-14-2016 the request "
        "for an MRI was non-certified. On 1/5/2017, Utilization Review modified it. Naproxen "
        "500mg #60, per 12/07/2016 order. According to a January 3, 2017 consultation, she "
        "improved. Work status is modified until 1-28-17."
    )
    roles = [(e.text, e._.imr_role) for e in doc.ents if e.label_ == "DATE"]
    assert roles == [
        ("12-03-2016", "visit"),
        ("12-14-2016", "ur_decision"),
        ("1/5/2017", "ur_decision"),
        ("12/07/2016", "prescription"),
        ("January 3, 2017", "visit"),
        ("1-28-17", None),
    ]


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
    assert texts(found, "DIAGNOSIS") == ["chronic pain"]


def test_lexicon_terms_with_spacy_symbol_words(nlp):
    # "root" and "acl" are spaCy symbols (fixed ids, not hashes): they must still match
    _, found = ents(nlp, "No findings of nerve root compromise. She has an ACL tear.")
    assert texts(found, "DIAGNOSIS") == [
        "nerve root compromise",
        "ACL tear",
    ]


def test_diagnosis_spans_take_their_site_words(nlp):
    _, found = ents(
        nlp,
        "Diagnoses: sprain of unspecified parts of the right shoulder girdle; strain of "
        "muscle, fascia and tendon at neck level; severe right neck pain; a fracture of the "
        "distal radius and she was seen. She uses anti-anxiety medications for insomnia "
        "treatment. Impingement testing was positive.",
    )
    assert values(found, "DIAGNOSIS") == [
        ("sprain of unspecified parts of the right shoulder girdle", "unspecified shoulder sprain"),
        ("strain of muscle, fascia and tendon at neck level", "neck strain"),
        ("right neck pain", "neck pain"),
        ("fracture of the distal radius", "distal radius fracture"),
        ("insomnia", "insomnia"),
    ]


def test_sites_after_pain_and_tissue_words_before_a_condition(nlp):
    _, found = ents(
        nlp,
        "She complained of pain in the neck, left shoulder and low back, and pain in the right "
        "lateral aspect of the foot. Diagnoses: cervical muscle pain; biceps tendon tear; "
        "myalgia and myositis (ICD9 729.1). She was given a fracture boot. Pain was noted.",
    )
    assert values(found, "DIAGNOSIS") == [
        ("pain in the neck, left shoulder and low back", "neck shoulder low back pain"),
        ("pain in the right lateral aspect of the foot", "lateral foot pain"),
        ("cervical muscle pain", "cervical pain"),
        ("biceps tendon tear", "biceps tear"),
        ("myalgia", "myalgia"),
        ("myositis", "myositis"),
        ("729.1", "729.1"),
    ]


def test_dates_glued_to_the_next_sentence_and_month_year(nlp):
    _, found = ents(
        nlp, "Injured on November 2, 2016.In a report of 12-2016 and 12/2014, pain was 7/10."
    )
    assert values(found, "DATE") == [
        ("November 2, 2016", "2016-11-02"),
        ("12-2016", "2016-12"),
        ("12/2014", "2014-12"),
    ]


def test_session_counts_and_doses_are_not_quantities(nlp):
    _, found = ents(
        nlp,
        "Chiropractic sessions for the cervical spine, #8. Meloxicam 7.5mg one to two tablets "
        "daily #30. It reported #6 sessions of therapy.",
    )
    assert texts(found, "QUANTITY") == ["#30"]


def test_refills_and_therapy_schedules(nlp):
    _, found = ents(
        nlp,
        "Voltaren 75mg #60 with three (3) refills. The guidelines allow 10 physical therapy "
        "visits over eight weeks, from up to 3 visits per week. PT 1 to 3 times per week; OT "
        "two to three times a week for six to eight weeks.",
    )
    assert ("REFILLS", "with three (3) refills", "3") in found
    assert texts(found, "FREQUENCY") == [
        "10 physical therapy visits over eight weeks",
        "3 visits per week",
        "1 to 3 times per week",
        "two to three times a week for six to eight weeks",
    ]


def test_doses_per_day_and_mme_come_from_the_rule_files():
    from imr_extract.normalize.mme import doses_per_day, mme_per_day

    assert [doses_per_day(f) for f in ("BID", "q.h.s.", "every 4-6 hours", "weekly")] == [
        2.0,
        1.0,
        6.0,
        None,
    ]
    mme = mme_per_day(["hydrocodone", "acetaminophen"], "10 mg + 325 mg", "three times daily", "")
    assert mme["mme_per_day"] == 30.0 and mme["mme_factor"] == 1.0


def test_drug_lexicons_can_be_switched_off():
    """What `make eval --compare-lexicons` relies on: each drug lexicon is a setting."""
    from imr_extract.api import build_pipeline

    text = "She takes Norco and Soma."
    supplement = build_pipeline({"imr_lexicon": {"base_drug_lexicon": False}})
    assert [e.text for e in supplement(text).ents] == ["Norco", "Soma"]
    neither = build_pipeline({"imr_lexicon": {"base_drug_lexicon": False, "wc_supplement": False}})
    assert [e.text for e in neither(text).ents if e.label_ == "MEDICATION"] == []


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
