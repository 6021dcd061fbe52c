"""Dictionary matching of medications, diagnoses and procedures (the lexicons are data).

A token n-gram lookup in a dict: loads in a fraction of a second even with the ~70,000 names
of the base drug dictionary, where a PhraseMatcher takes seconds to build per process.
Matches go to `doc.spans["imr_lexicon"]`, each span's kb_id_ naming its lexicon entry.
"""

from spacy.attrs import IS_SPACE, LOWER
from spacy.language import Language
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span, SpanGroup

from imr_extract.components.base import RuleComponent
from imr_extract.normalize.drugs import base_entries, supplement_entries
from imr_extract.rules import packaged_rules

SPAN_KEY = "imr_lexicon"
SEP = "\x1f"
# kinds of diagnosis_modifiers.csv: words before a condition that belong to it (a direction,
# "lower", "anterior", belongs to the span but is not a site: "anterior pain" is no diagnosis;
# a tissue or site noun neither: "cervical muscle pain", "biceps tendon tear")...
BEFORE_KINDS = {"side", "site", "direction", "acuity", "kind", "tissue", "site_noun"}
# ...and the words of a site phrase after it ("sprain of unspecified parts of the right
# shoulder girdle"): it starts with a `link`, and ends at its last site or site noun
SITE_END_KINDS = {"site", "site_noun"}
AFTER_KINDS = {"link", "connector", "side", "site", "direction", "site_noun", "kind", "tissue"}
# the modifier words kept in a diagnosis's normalised value ("shoulder contusion"): no side,
# no tissue or site noun
VALUE_KINDS = ("site", "direction", "acuity", "kind")
AFTER_WINDOW = 16


@Language.factory(
    "imr_lexicon",
    default_config={"span_key": SPAN_KEY, "base_drug_lexicon": True, "wc_supplement": True},
    assigns=["doc.spans"],
)
def make_lexicon(
    nlp: Language, name: str, span_key: str, base_drug_lexicon: bool, wc_supplement: bool
):
    return LexiconMatcher(nlp, name, span_key, base_drug_lexicon, wc_supplement)


class LexiconMatcher(RuleComponent):
    """Rules: {"term", "label", "key" (tokens joined), normalisation fields...}."""

    def __init__(
        self,
        nlp,
        name,
        span_key: str = SPAN_KEY,
        base_drug_lexicon: bool = True,
        wc_supplement: bool = True,
    ):
        super().__init__(nlp, name)
        self.span_key = span_key
        self.base_drug_lexicon = base_drug_lexicon
        self.wc_supplement = wc_supplement
        self.entries: dict[str, dict] = {}
        self.modifiers: dict[str, str] = {}

    def initialize(self, get_examples=None, *, nlp=None, rules_path=None):
        """Supplement first (it wins over the base dictionary), then diagnoses and procedures.
        Either drug lexicon can be switched off to measure what it brings (`make eval`)."""
        rules = supplement_entries() if self.wc_supplement else []
        if self.base_drug_lexicon:
            rules += base_entries()
        for row in packaged_rules("diagnoses.csv"):
            rules.append(
                {
                    "term": row["term"],
                    "label": "DIAGNOSIS",
                    "normalized": row["normalized"],
                    "requires_site": row.get("requires_site") == "yes",
                    "site_after": row.get("site_after") != "no",
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
        self.modifiers = {}
        for rule in self.rules:
            if rule["label"] == "MODIFIER":
                self.modifiers[rule["term"].lower()] = rule["kind"]
                continue
            key = rule.get("key") or SEP.join(
                t.lower_ for t in self.nlp.make_doc(rule["term"]) if not t.is_space
            )
            rule["key"] = key
            # the first rule for a key wins: the reviewed supplement before the base dictionary
            self.entries.setdefault(f"{rule['label']}{SEP}{key}", rule)
            if rule["label"] == "DIAGNOSIS" and not key.endswith("s"):
                self.entries.setdefault(f"DIAGNOSIS{SEP}{key}s", rule)  # "labral tears"
        # index by the ids of the lowercase words, as Doc.to_array([LOWER]) gives them;
        # medications before diagnoses before procedures when one name is in several lexicons
        self._index: dict[tuple[int, ...], str] = {}
        lengths: dict[int, set[int]] = {}
        for entry_key in self.entries:
            words = entry_key.split(SEP)[1:]
            # spaCy's own symbols ("root", "acl", "number") have fixed ids, not hashes
            hashes = tuple(get_string_id(w) for w in words)
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
                start, sites = self._sites_before(doc, start)
                after_sites = 0
                if self.entries[key].get("site_after", True):
                    end, after_sites = self._site_after(doc, end)
                if self.entries[key].get("requires_site") and not sites + after_sites:
                    continue  # "pain" alone is not a diagnosis; "lumbar pain" is
            spans.append(Span(doc, start, end, label=label, kb_id=key))
        doc.spans[self.span_key] = SpanGroup(doc, name=self.span_key, spans=spans)
        return doc

    def _sites_before(self, doc: Doc, start: int) -> tuple[int, int]:
        """Side and site words right before the condition. (new start, number of sites)."""
        sites, i = 0, start
        while i > 0 and (
            doc[i - 1].is_space or self.modifiers.get(doc[i - 1].lower_) in BEFORE_KINDS
        ):
            i -= 1
            sites += self.modifiers.get(doc[i].lower_) == "site"
        while doc[i].is_space:
            i += 1
        return i, sites

    def _site_after(self, doc: Doc, end: int) -> tuple[int, int]:
        """A site written after the condition belongs to it too: "sprain of the right knee",
        "strain of muscle, fascia and tendon at neck level". (new end, number of site
        words); (end, 0) if there is none. Any word outside the modifier list ends it."""
        words = [t for t in doc[end : end + AFTER_WINDOW] if not t.is_space]
        if not words or self.modifiers.get(words[0].lower_) != "link":
            return end, 0
        last, sites = None, 0
        for word in words[1:]:
            kind = self.modifiers.get(word.lower_)
            if kind not in AFTER_KINDS and word.text != ",":
                break
            if kind in SITE_END_KINDS:
                last = word
                sites += kind == "site"
        if last is None or not sites:
            return end, 0
        return last.i + 1, sites
