"""GUIDELINE_CITATION spans: which guideline, chapter, section and pages each side cited.

Runs on the guideline parts found by `imr_decisions`. Rules: resources/citations.jsonl (how a
text is cut) and resources/guidelines.csv (the catalog of titles and ODG chapters).
"""

from spacy.language import Language
from spacy.tokens import Doc, SpanGroup

from imr_extract.components.base import RuleComponent, doc_text
from imr_extract.components.decisions import PARTS_KEY
from imr_extract.normalize.citations import CitationRules, parse_citations
from imr_extract.normalize.guideline_sections import SectionRules, section_key, split_sections
from imr_extract.normalize.text import squash_with_offsets
from imr_extract.rules import packaged_rules, read_rules

CITATIONS_KEY = "imr_citations"
LABEL = "GUIDELINE_CITATION"
SOURCES = {"claims_administrator_guideline": "claims_administrator", "maximus_guideline": "maximus"}


@Language.factory(
    "imr_citations",
    default_config={"span_key": CITATIONS_KEY},
    assigns=["doc.spans"],
    requires=["doc.spans"],
)
def make_citations(nlp: Language, name: str, span_key: str):
    return GuidelineCitations(nlp, name, span_key)


class GuidelineCitations(RuleComponent):
    """Rules are the cutting rules, the catalog rows and the section rules, told apart by
    their `kind` (section rules: `section_*`)."""

    rules_file = "citations.jsonl"
    catalog_file = "guidelines.csv"
    sections_file = "section_rules.jsonl"

    def __init__(self, nlp: Language, name: str, span_key: str = CITATIONS_KEY) -> None:
        super().__init__(nlp, name)
        self.span_key = span_key

    def initialize(
        self,
        get_examples=None,
        *,
        nlp=None,
        rules_path=None,
        catalog_path=None,
        sections_path=None,
    ):
        cutting = read_rules(rules_path) if rules_path else packaged_rules(self.rules_file)
        catalog = read_rules(catalog_path) if catalog_path else packaged_rules(self.catalog_file)
        sections = (
            read_rules(sections_path) if sections_path else packaged_rules(self.sections_file)
        )
        self.set_rules(cutting + catalog + sections)

    def compile(self) -> None:
        catalog_kinds = {"title", "chapter"}
        sections = [r for r in self.rules if r["kind"].startswith("section_")]
        cutting = [
            r
            for r in self.rules
            if r["kind"] not in catalog_kinds and not r["kind"].startswith("section_")
        ]
        catalog = [r for r in self.rules if r["kind"] in catalog_kinds]
        self._rules = CitationRules.from_rules(cutting, catalog)
        chapters = [
            r["chapter"] for r in catalog if r["kind"] == "chapter" and r["family"] == "ODG"
        ]
        self._sections = SectionRules.from_rules(sections, chapters)

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        text = doc_text(doc)
        for part in doc.spans.get(PARTS_KEY, []):
            source = SOURCES.get(part.label_)
            if source is None:
                continue
            squashed, offsets = squash_with_offsets(text[part.start_char : part.end_char])
            for c in parse_citations(squashed, self._rules):
                start = part.start_char + offsets[c.start]
                end = part.start_char + offsets[c.end - 1] + 1 if c.end > c.start else start
                span = doc.char_span(start, end, label=LABEL, alignment_mode="expand")
                if span is None:
                    continue
                span._.imr_decision_index = part._.imr_decision_index
                scope = (c.chapter, c.guideline)
                sections = split_sections(c.section, self._sections, scope, c.guideline)
                span._.imr_citation = {
                    "source": source,
                    "guideline_family": c.family,
                    "guideline": c.guideline,
                    "edition": c.edition,
                    "chapter": c.chapter,
                    # not "section": medspaCy's msgpack hook decodes any dict with that key
                    "guideline_section": c.section,
                    "guideline_sections": sections,
                    "section_keys": [section_key(x, c.chapter, c.guideline) for x in sections],
                    "pages": c.pages,
                    "page_text": c.page_text,
                    "known_title": c.known_title,
                    "raw": c.raw,
                }
                spans.append(span)
        doc.spans[self.span_key] = SpanGroup(doc, name=self.span_key, spans=spans)
        return doc
