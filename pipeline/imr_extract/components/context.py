"""Negated, historical, hypothetical, uncertain, family and requested/taking, medspaCy-style.

medspaCy's ConText does the matching with our rules (resources/context_rules.jsonl); its
findings are copied onto our `imr_` attributes. Decision words ("not medically necessary",
"non-certified", "UR denied") are PSEUDO rules: they never negate the clinical entity.
"""

from spacy.language import Language
from spacy.tokens import Doc

from imr_extract.components.base import RuleComponent
from imr_extract.components.fast_context import run_context

CATEGORY_ATTRS = {
    "NEGATED_EXISTENCE": ("imr_negated", True),
    "HISTORICAL": ("imr_historical", True),
    "HYPOTHETICAL": ("imr_hypothetical", True),
    "POSSIBLE_EXISTENCE": ("imr_uncertain", True),
    "FAMILY": ("imr_family", True),
    "REQUESTED": ("imr_medication_status", "requested"),
    "TAKING": ("imr_medication_status", "taking"),
}
TARGET_LABELS = {"MEDICATION", "DIAGNOSIS", "PROCEDURE"}


def _quiet_medspacy() -> None:
    """medspaCy's modules log through loguru (PyRuSH logs every token at DEBUG): silence them.
    Called before every medspaCy import of this package, so it imports medspaCy first, the
    fast way (`_import_medspacy`)."""
    _import_medspacy()
    from loguru import logger

    for name in ("medspacy", "PyRuSH", "PyFastNER", "quicksectx"):
        logger.disable(name)


def _import_medspacy() -> None:
    """Import medspaCy without QuickUMLS. medspacy/util.py (medspaCy 1.3.1) runs
    `from quickumls import spacy_component` only to register the `medspacy_quickumls` factory
    (medspaCy PR #144 moved that factory into QuickUMLS), and QuickUMLS imports nltk, which
    imports scipy and scikit-learn: 1-3 s of start-up for a component we never use. While
    medspaCy loads, `quickumls` is an empty stand-in module; it is removed at once, so a
    later `import quickumls` gets the real package (`import quickumls.spacy_component` then
    registers the factory, for `medspacy.load` with QuickUMLS). No upstream issue yet;
    tests/test_speed_startup.py fails if medspaCy starts needing more of QuickUMLS or if the
    real packages stop loading after this."""
    import sys
    import types

    if "medspacy.util" in sys.modules or "quickumls" in sys.modules:
        return
    stand_in = types.ModuleType("quickumls")
    stand_in.spacy_component = types.ModuleType("quickumls.spacy_component")
    sys.modules["quickumls"] = stand_in
    try:
        import medspacy.context  # noqa: F401
    finally:
        if sys.modules.get("quickumls") is stand_in:
            del sys.modules["quickumls"]


# the categories whose multi-word triggers also match across a PDF line break ("no evidence\n
# of"); the others stay phrases: as token patterns they cost more than they find (README)
LINE_BREAK_CATEGORIES = ["NEGATED_EXISTENCE", "HYPOTHETICAL"]


@Language.factory(
    "imr_context",
    default_config={"fast": True, "line_break_categories": LINE_BREAK_CATEGORIES},
    assigns=["doc.ents"],
    requires=["doc.ents", "token.is_sent_start"],
)
def make_context(nlp: Language, name: str, fast: bool, line_break_categories: list[str]):
    return EntityContext(nlp, name, fast, line_break_categories)


class EntityContext(RuleComponent):
    """`fast`: pair each modifier only with the entities in its scope (fast_context.py); False
    runs medspaCy's own ConText call, which tries every pair (the same edges, slower).
    `line_break_categories`: the rule categories whose multi-word literals also match with a
    line break between two words."""

    rules_file = "context_rules.jsonl"

    def __init__(
        self,
        nlp: Language,
        name: str,
        fast: bool = True,
        line_break_categories: list[str] | None = None,
    ) -> None:
        self.fast = fast
        categories = (
            LINE_BREAK_CATEGORIES if line_break_categories is None else line_break_categories
        )
        self.line_break_categories = set(categories)
        super().__init__(nlp, name)

    def compile(self) -> None:
        _quiet_medspacy()
        from medspacy.context import ConText, ConTextRule

        span_attrs = {cat: {} for cat in CATEGORY_ATTRS}
        self._context = ConText(
            self.nlp,
            name=f"{self.name}_medspacy",
            rules=None,
            span_attrs=span_attrs,
            allowed_types=TARGET_LABELS,
        )
        rules = []
        for rule in self.rules:
            kwargs = {k: v for k, v in rule.items() if k in ("pattern", "max_scope")}
            wrapped = rule["category"] in self.line_break_categories
            if wrapped and "pattern" not in kwargs and " " in rule["literal"]:
                kwargs["pattern"] = self._across_line_breaks(rule["literal"])
            if rule.get("allowed_types"):
                kwargs["allowed_types"] = set(rule["allowed_types"])
            rules.append(
                ConTextRule(
                    rule["literal"], rule["category"], direction=rule["direction"], **kwargs
                )
            )
        self._context.add(rules)

    def _across_line_breaks(self, literal: str) -> list[dict]:
        """The literal's words as a token pattern that lets a line break or other whitespace
        token stand between two words ("no evidence\nof" in PDF text), where a phrase of
        the literal's tokens would not match."""
        pattern: list[dict] = []
        for token in self.nlp.make_doc(literal.lower()):
            pattern.append({"LOWER": token.text})
            if token.whitespace_:
                pattern.append({"IS_SPACE": True, "OP": "?"})  # one line break at most
        return pattern

    def __call__(self, doc: Doc) -> Doc:
        ents = doc.ents  # read once: every read of doc.ents builds its Spans again
        for target, modifier in run_context(self._context, doc, ents, self.fast):
            attr, value = CATEGORY_ATTRS.get(modifier.category, (None, None))
            if attr:
                setattr(target._, attr, value)
        for ent in ents:
            if ent.label_ == "MEDICATION" and ent._.imr_decision_part == "item":
                ent._.imr_medication_status = "requested"
        drop_foreign_attributes(doc)
        return doc


def drop_foreign_attributes(doc: Doc) -> None:
    """medspaCy leaves its graph and each target's modifiers in doc.user_data: objects that
    point back to the Doc. Such cycles keep every letter's memory until a full garbage
    collection (rare with a large pipeline in memory), and they do not serialise. Our findings
    are on the `imr_` attributes; the rest goes."""
    for key in [
        k
        for k in doc.user_data
        if isinstance(k, tuple)
        and len(k) > 1
        and k[0] == "._."
        and not str(k[1]).startswith("imr_")
    ]:
        del doc.user_data[key]
