"""The assembled pipeline on the bundled synthetic samples, and its serialisation."""

import subprocess
import sys

from spacy.tokens import DocBin

import imr_extract

from conftest import SAMPLES, read_sample


def test_seed_style_sample(nlp):
    doc = nlp(read_sample("sample_2014_seed_style.txt"))
    assert doc._.imr_header == {}
    assert doc._.imr_reviewer_specialties == ["Orthopedic Surgery", "Sports Medicine"]
    assert doc._.imr_reviewer_license_states == ["Oregon", "Nevada"]
    assert (doc._.imr_patient_age, doc._.imr_patient_sex) == (51, "F")
    decisions = doc.spans["imr_decisions"]
    assert [(d._.imr_item, d._.imr_outcome) for d in decisions] == [
        ("Norco 10/325mg #120", "Upheld"),
        ("MED: RX: 10/01/2014 Flexeril 7.5MG #60 Refills: 2", "Upheld"),
        (
            "LUMBAR EPIDURAL STEROID INJECTION AT L4-5 UNDER FLUOROSCOPIC GUIDANCE, ONE INJECTION",
            "Overturned",
        ),
    ]
    # the stray page-header 'Final' is gone from the MAXIMUS guideline
    maximus = [p for p in doc.spans["imr_decision_parts"] if p.label_ == "maximus_guideline"]
    assert "Final" not in maximus[1].text and "Relaxants Page(s): 63-66." in maximus[1].text


def test_2016_style_sample(nlp):
    doc = nlp(read_sample("CM16-9900001.txt"))
    assert doc._.imr_header == {
        "case_number": "CM16-9900001",
        "date_assigned": "2016-11-21",
        "decision_date": "2016-12-19",
        "date_of_injury": "2015-02-09",
        "ur_denial_date": "2016-10-28",
        "application_received": "2016-11-15",
        "priority": "Standard",
    }
    assert doc._.imr_reviewer_specialties == [
        "Physical Medicine & Rehabilitation",
        "Public Health & General Preventive Medicine",
    ]
    assert doc._.imr_reviewer_license_states == ["Colorado", "New Mexico", "California"]
    assert (doc._.imr_patient_age, doc._.imr_patient_sex) == (44, "M")
    sections = [s.label_ for s in doc.spans["imr_sections"]]
    assert sections == ["header", "how_determination_made", "clinical_case_summary", "decisions"]
    decisions = list(doc.spans["imr_decisions"])
    assert [d._.imr_outcome for d in decisions] == ["Upheld", "Overturned", "Upheld", "Upheld"]
    assert decisions[3]._.imr_partial and decisions[3]._.imr_item == (
        "Physical therapy for the cervical spine, six sessions"
    )
    labels = [(p._.imr_decision_index, p.label_) for p in doc.spans["imr_decision_parts"]]
    assert (2, "claims_administrator_guideline") not in labels and (2, "rationale") in labels
    # decision spans tile the decisions section in order and never overlap
    ends = [d.end_char for d in decisions]
    starts = [d.start_char for d in decisions]
    assert all(e <= s for e, s in zip(ends, starts[1:], strict=False))


def test_docbin_round_trip_keeps_spans_and_extensions(nlp):
    doc = nlp(read_sample("CM16-9900001.txt"))
    data = DocBin(docs=[doc], store_user_data=True).to_bytes()
    (back,) = DocBin(store_user_data=True).from_bytes(data).get_docs(nlp.vocab)
    assert back._.imr_header == doc._.imr_header
    assert [
        (d._.imr_item, d._.imr_outcome, d._.imr_partial) for d in back.spans["imr_decisions"]
    ] == [(d._.imr_item, d._.imr_outcome, d._.imr_partial) for d in doc.spans["imr_decisions"]]


def test_no_copy_of_the_text_is_left_in_the_doc(nlp):
    """Components share one copy of the text and of the sentences while the pipeline runs
    (base.doc_text, sentences.Sentences.of_doc); the last component drops them, so a Doc (and
    a DocBin of it) does not carry the text twice."""
    from imr_extract.components.base import TEXT_CACHE
    from imr_extract.components.sentences import SENTENCES_CACHE

    doc = nlp(read_sample("CM16-9900001.txt"))
    assert TEXT_CACHE not in doc.user_data and SENTENCES_CACHE not in doc.user_data
    data = DocBin(docs=[doc], store_user_data=True).to_bytes()
    (back,) = DocBin(store_user_data=True).from_bytes(data).get_docs(nlp.vocab)
    assert TEXT_CACHE not in back.user_data and SENTENCES_CACHE not in back.user_data


def test_a_doc_stopped_before_the_last_component_still_serialises(nlp):
    """Without imr_coding (which drops them), the shared text and sentences stay in
    user_data: plain strings and lists, which a DocBin stores."""
    from imr_extract.components.sentences import SENTENCES_CACHE

    with nlp.select_pipes(disable=["imr_coding"]):
        doc = nlp(read_sample("CM16-9900001.txt"))
    assert SENTENCES_CACHE in doc.user_data
    data = DocBin(docs=[doc], store_user_data=True).to_bytes()
    (back,) = DocBin(store_user_data=True).from_bytes(data).get_docs(nlp.vocab)
    assert [s.text for s in back.sents] == [s.text for s in doc.sents]


def test_saved_pipeline_loads_in_a_fresh_interpreter(tmp_path, nlp):
    nlp.to_disk(tmp_path / "pipe")
    script = (
        "import spacy, sys; nlp = spacy.load(sys.argv[1]);"
        "doc = nlp(open(sys.argv[2]).read());"
        "meds = {e.text.lower(): (e._.imr_route, e._.imr_drug_class, e._.imr_drugbank_id)"
        " for e in doc.ents if e.label_ == 'MEDICATION'};"
        "print(meds.get('flurbiprofen'));"
        "print(nlp.pipe_names, len(doc.spans['imr_decisions']))"
    )
    sample = SAMPLES / "CM16-9900001.txt"
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "pipe"), str(sample)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert out.stdout.strip().endswith(" 4")
    assert "imr_decisions" in out.stdout
    # the route rules, route-aware classes and DrugBank ids travel with the saved pipeline
    assert out.stdout.splitlines()[0] == "('topical', 'topical NSAID', 'DB00712')"


def test_user_rules_file_extends_a_component(tmp_path):
    rules = tmp_path / "sections.jsonl"
    rules.write_text(
        '{"_source": "test"}\n'
        '{"section": "how_determination_made", "pattern": "HOW THE IMR FINAL DETERMINATION WAS MADE"}\n'
        '{"section": "clinical_case_summary", "pattern": "CLINICAL CASE SUMMARY"}\n'
        '{"section": "decisions", "pattern": "IMR ISSUES,? DECISIONS,? AND RATIONALES"}\n'
        '{"section": "credentials", "pattern": "The Expert Reviewer has the following credentials:"}\n'
    )
    nlp = imr_extract.load()
    nlp.get_pipe("imr_sectionizer").initialize(rules_path=str(rules))
    doc = nlp(read_sample("CM16-9900001.txt"))
    assert "credentials" in [s.label_ for s in doc.spans["imr_sections"]]
    body_start, _ = doc._.imr_section_bodies["credentials"]
    assert doc.text[body_start:].lstrip().startswith("State(s) of Licensure: Colorado")
    assert len(doc.spans["imr_decisions"]) == 4


def test_to_frames_has_exactly_the_csv_columns(nlp):
    from imr_extract.export import TABLES

    sources = list(imr_extract.read_corpus([SAMPLES]))
    frames = imr_extract.to_frames(imr_extract.pipe_documents(nlp, sources))
    for name, columns in TABLES.items():
        assert list(frames[name].columns) == columns
    assert len(frames["documents"]) == 3 and len(frames["decisions"]) == 9
