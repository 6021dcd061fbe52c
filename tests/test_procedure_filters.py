"""Reviewer credentials and guideline titles are not PROCEDURE entities (issue 15)."""

LETTER = """\
HOW THE IMR FINAL DETERMINATION WAS MADE
MAXIMUS Federal Services sent the complete case file to a Medical Doctor.
State(s) of Licensure: California
Certification(s)/Specialty: Orthopedic Surgery, Physical Medicine & Rehabilitation
CLINICAL CASE SUMMARY
The patient is a 45 year old female. She had acupuncture and physical therapy last year.
IMR ISSUES, DECISIONS AND RATIONALES
The Final Determination was based on decisions for the disputed items/services set forth below:
Acupuncture for the neck, six sessions: Upheld
Claims Administrator guideline: Decision based on MTUS Acupuncture Treatment 2007.
MAXIMUS guideline: Decision based on MTUS Acupuncture Medical Treatment Guidelines.
Decision rationale: The MTUS Acupuncture guidelines allow acupuncture when pain medication is
reduced. The ODG Physical Therapy Guidelines do not apply. Acupuncture is not medically necessary.
"""


def test_credentials_and_guideline_titles_are_not_procedures(nlp):
    doc = nlp(LETTER)
    procedures = [(e.text, e._.imr_section) for e in doc.ents if e.label_ == "PROCEDURE"]
    texts = [t for t, _ in procedures]
    assert not any(s == "how_determination_made" for _, s in procedures), procedures
    assert "Surgery" not in texts and "Rehabilitation" not in texts
    for ent in doc.ents:
        if ent.label_ == "PROCEDURE":
            after = LETTER[ent.end_char : ent.end_char + 30]
            assert not after.lstrip().startswith(
                ("Treatment 2007", "Medical Treatment", "guidelines", "Guidelines")
            ), ent.text
    # the services themselves still are
    assert texts.count("acupuncture") >= 2 and "physical therapy" in texts
    assert "Acupuncture" in texts  # the item, and the rationale's last sentence
