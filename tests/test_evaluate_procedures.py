"""The PROCEDURE evaluator (annotations/procedures.jsonl) on a synthetic letter and gold file:
exact/overlap scoring, and the credentials/guideline-title counts with and without the
PROCEDURE filters of entity_filters.jsonl."""

import json

from imr_extract.api import build_pipeline
from imr_extract.evaluate_procedures import (
    _without_procedure_filters,
    evaluate_procedures,
    place,
    print_procedures,
)
from imr_extract.ingest import read_document

from conftest import LETTER_HEAD

# a made-up letter: a surgeon's credentials, an acupuncture guideline title and two services
LETTER = (
    LETTER_HEAD
    + """The Expert Reviewer has the following credentials:
State(s) of Licensure: California
Certification(s)/Specialty: Orthopedic Surgery
CLINICAL CASE SUMMARY
The injured worker is a 40-year-old woman with neck pain after a fall at work. She had six
visits of physical therapy. The physician asked for acupuncture and an MRI of the neck.
IMR ISSUES, DECISIONS AND RATIONALES
The Final Determination was based on decisions for the disputed items/services set forth below:
Acupuncture, six visits: Overturned
Claims Administrator guideline: Decision based on MTUS Acupuncture Treatment 2007.
MAXIMUS guideline: Decision based on MTUS Acupuncture Treatment 2007.
Decision rationale: The MTUS Acupuncture Guidelines allow a trial of three to six visits. The
request for acupuncture is medically necessary.
"""
)


def _gold(tmp_path, text):
    spans = []
    for word, nth in (
        ("physical therapy", 0),
        ("acupuncture", 0),
        ("MRI", 0),
        ("Acupuncture,", 0),
        ("acupuncture", 1),
    ):
        start = -1
        for _ in range(nth + 1):
            start = text.find(word, start + 1)
        word = word.rstrip(",")
        spans.append({"start": start, "end": start + len(word), "text": word})
    header = {"_source": "synthetic PROCEDURE gold for a test", "_version": 1}
    row = {
        "doc_id": "CM16-9900077",
        "source": "CM16-9900077.txt",
        "split": "dev",
        "procedures": spans,
    }
    gold = tmp_path / "procedures.jsonl"
    gold.write_text("\n".join(json.dumps(x) for x in (header, row)) + "\n")
    return gold


def test_evaluator_scores_procedures_and_counts_credentials_and_titles(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "CM16-9900077.txt").write_text(LETTER)
    text = read_document(corpus / "CM16-9900077.txt").text
    gold = _gold(tmp_path, text)

    after = evaluate_procedures(gold, corpus, nlp=build_pipeline())["dev"]
    before = evaluate_procedures(gold, corpus, nlp=_without_procedure_filters(build_pipeline()))[
        "dev"
    ]
    assert after["gold"] == before["gold"] == 5
    assert after["gold offsets invalid"] == 0
    # the credential and the titles are tagged without the filters, not with them
    assert before["in credentials"] == 1 and before["in citation"] + before["in title"] >= 2
    assert after["in credentials"] == 0 and after["in title"] == 0
    assert before["predicted"] - after["predicted"] >= 2
    # the filters take away no true procedure
    assert after["exact"] == before["exact"] >= 4
    assert after["predicted_exact"] == after["exact"]
    assert after["overlap"] >= after["exact"]

    print_procedures({"before": {"dev": before}, "after": {"dev": after}})
    out = capsys.readouterr().out
    assert "PROCEDURE" in out and "before" in out and "after" in out


def test_a_gold_span_off_its_text_is_reported_not_scored(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "CM16-9900077.txt").write_text(LETTER)
    text = read_document(corpus / "CM16-9900077.txt").text
    gold = _gold(tmp_path, text)
    rows = gold.read_text().splitlines()
    row = json.loads(rows[1])
    row["procedures"][0]["start"] += 1
    gold.write_text(rows[0] + "\n" + json.dumps(row) + "\n")
    counts = evaluate_procedures(gold, corpus, nlp=build_pipeline())["dev"]
    assert counts["gold"] == 4 and counts["gold offsets invalid"] == 1


def test_place_of_a_span():
    text = LETTER
    surgery = text.find("Orthopedic Surgery") + len("Orthopedic ")
    assert place(text, surgery, surgery + 7) == "credentials"
    cited = text.find("MTUS Acupuncture Treatment") + 5
    assert place(text, cited, cited + 11) == "citation"
    title = text.find("MTUS Acupuncture Guidelines") + 5
    assert place(text, title, title + 11) == "title"
    service = text.find("physical therapy")
    assert place(text, service, service + 16) is None
