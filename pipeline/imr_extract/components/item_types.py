"""The item_type of each disputed item (rules: item_type_rules.csv; taxonomy: item_types.csv).

Runs after `imr_entities`: besides its own patterns it uses the medications and procedures
found in the item text. Sets `span._.imr_item_type` on each `imr_decisions` span.
"""

from spacy.language import Language
from spacy.tokens import Doc

from imr_extract.components.base import RuleComponent
from imr_extract.components.decisions import DECISIONS_KEY
from imr_extract.extensions import span_getter
from imr_extract.normalize.item_types import classify_item, compile_rules


@Language.factory(
    "imr_item_types",
    assigns=["span._.imr_item_type"],
    requires=["doc.ents", "span._.imr_decision_index", "span._.imr_decision_part"],
)
def make_item_types(nlp: Language, name: str):
    return ItemTypes(nlp, name)


class ItemTypes(RuleComponent):
    rules_file = "item_type_rules.csv"

    def compile(self) -> None:
        self._compiled = compile_rules(self.rules)

    def __call__(self, doc: Doc) -> Doc:
        decisions = list(doc.spans.get(DECISIONS_KEY, []))
        if not decisions:
            return doc
        found: dict[int, list[tuple[str, str | None]]] = {}
        get = span_getter(doc)  # what ent._ gives, without an object per read
        for ent in doc.ents:
            index = get(ent, "imr_decision_index")
            if get(ent, "imr_decision_part") == "item" and index is not None:
                found.setdefault(index, []).append((ent.label_, get(ent, "imr_item_type")))
        for span in decisions:
            index = span._.imr_decision_index
            span._.imr_item_type = classify_item(
                span._.imr_item, found.get(index, []), self._compiled
            )
        return doc
