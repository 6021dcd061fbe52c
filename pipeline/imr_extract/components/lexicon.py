"""Dictionary matching of medications, diagnoses and procedures (the lexicons are data).

A token n-gram lookup in a dict: loads in a fraction of a second even with the ~70,000 names
of the base drug dictionary, where a PhraseMatcher takes seconds to build per process.
Matches go to `doc.spans["imr_lexicon"]`, each span's kb_id_ naming its lexicon entry.
"""

from spacy.attrs import IS_SPACE, LOWER
from spacy.language import Language
from spacy.strings import hash_string
from spacy.tokens import Doc, Span, SpanGroup

from imr_extract.components.base import RuleComponent
from imr_extract.normalize.drugs import base_entries, supplement_entries
from imr_extract.rules import packaged_rules

SPAN_KEY = "imr_lexicon"
SEP = "\x1f"


@Language.factory(
    "imr_lexicon",
    default_config={"span_key": SPAN_KEY, "base_drug_lexicon": True},
    assigns=["doc.spans"],
)
def make_lexicon(nlp: Language, name: str, span_key: str, base_drug_lexicon: bool):
    return LexiconMatcher(nlp, name, span_key, base_drug_lexicon)


class LexiconMatcher(RuleComponent):
    """Rules: {"term", "label", "key" (tokens joined), normalisation fields...}."""

    def __init__(self, nlp, name, span_key: str = SPAN_KEY, base_drug_lexicon: bool = True):
        super().__init__(nlp, name)
        self.span_key = span_key
        self.base_drug_lexicon = base_drug_lexicon
        self.entries: dict[str, dict] = {}
        self._modifiers: dict[str, str] = {}

    def initialize(self, get_examples=None, *, nlp=None, rules_path=None):
        """Supplement first (it wins over the base dictionary), then diagnoses and procedures."""
        rules = supplement_entries()
        if self.base_drug_lexicon:
            rules += base_entries()
        for row in packaged_rules("diagnoses.csv"):
            rules.append(
                {
                    "term": row["term"],
                    "label": "DIAGNOSIS",
                    "normalized": row["normalized"],
                    "requires_site": row.get("requires_site") == "yes",
                }
            )
        for row in packaged_rules("procedures.csv"):
            rules.append({"term": row["term"], "label": "PROCEDURE", "item_type": row["item_type"]})
        for row in packaged_rules("diagnosis_modifiers.csv"):
            rules.append({"term": row["word"], "label": "MODIFIER", "kind": row["kind"]})
        if rules_path:
            from imr_extract.rules import read_rules

            rules += read_rules(rules_path)
        self.set_rules(rules)

    def compile(self) -> None:
        self.entries = {}
        self._modifiers = {}
        for rule in self.rules:
            if rule["label"] == "MODIFIER":
                self._modifiers[rule["term"].lower()] = rule["kind"]
                continue
            key = rule.get("key") or SEP.join(
                t.lower_ for t in self.nlp.make_doc(rule["term"]) if not t.is_space
            )
            rule["key"] = key
            # the first rule for a key wins: the reviewed supplement before the base dictionary
            self.entries.setdefault(f"{rule['label']}{SEP}{key}", rule)
            if rule["label"] == "DIAGNOSIS" and not key.endswith("s"):
                self.entries.setdefault(f"DIAGNOSIS{SEP}{key}s", rule)  # "labral tears"
        # index by the hashes of the lowercase words, as Doc.to_array([LOWER]) gives them;
        # medications before diagnoses before procedures when one name is in several lexicons
        self._index: dict[tuple[int, ...], str] = {}
        lengths: dict[int, set[int]] = {}
        for entry_key in self.entries:
            words = entry_key.split(SEP)[1:]
            hashes = tuple(hash_string(w) for w in words)
            self._index.setdefault(hashes, entry_key)
            lengths.setdefault(hashes[0], set()).add(len(hashes))
        self._lengths = {first: sorted(n, reverse=True) for first, n in lengths.items()}

    def match(self, doc: Doc) -> list[tuple[int, int, str]]:
        """(start, end, entry key) for the longest entry starting at each word; line breaks
        inside a name ("carpal\ntunnel syndrome") do not stop it."""
        if not len(doc):
            return []
        array = doc.to_array([LOWER, IS_SPACE])
        positions = [i for i, space in enumerate(array[:, 1].tolist()) if not space]
        lower = array[positions, 0].tolist()
        found = []
        i, n_words = 0, len(lower)
        while i < n_words:
            hit = None
            for n in self._lengths.get(lower[i], ()):
                if i + n <= n_words:
                    hit = self._index.get(tuple(lower[i : i + n]))
                    if hit:
                        found.append((positions[i], positions[i + n - 1] + 1, hit))
                        i += n
                        break
            if not hit:
                i += 1
        return found

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for start, end, key in self.match(doc):
            label = key.split(SEP, 1)[0]
            if label == "DIAGNOSIS":  # "right shoulder contusion": side and site words belong to it
                sites = 0
                while start > 0 and (
                    doc[start - 1].lower_ in self._modifiers or doc[start - 1].is_space
                ):
                    start -= 1
                    sites += self._modifiers.get(doc[start].lower_) == "site"
                while doc[start].is_space:
                    start += 1
                if self.entries[key].get("requires_site") and not sites:
                    continue  # "pain" alone is not a diagnosis; "lumbar pain" is
            spans.append(Span(doc, start, end, label=label, kb_id=key))
        doc.spans[self.span_key] = SpanGroup(doc, name=self.span_key, spans=spans)
        return doc
