"""Dictionary matching of medications, diagnoses and procedures (the lexicons are data).

A token n-gram lookup in a dict: loads in a fraction of a second even with the ~70,000 names
of the base drug dictionary, where a PhraseMatcher takes seconds to build per process.
Matches go to `doc.spans["imr_lexicon"]`, each span's kb_id_ naming its lexicon entry.
"""

import gc
import hashlib
import json
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import srsly
from spacy.attrs import IS_SPACE, LOWER
from spacy.language import Language
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span, SpanGroup

from imr_extract.components.base import RuleComponent
from imr_extract.normalize.drugs import base_entries, supplement_entries
from imr_extract.rules import packaged_rules, read_jsonl

SPAN_KEY = "imr_lexicon"
SEP = "\x1f"
INDEX_FILE = "index.msgpack"  # the compiled lookup, saved beside rules.jsonl (`fast`)
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


def _rule_lines(rules_bytes: bytes) -> list[bytes]:
    """The rule lines of a rules.jsonl that `write_jsonl` wrote: a header, one line a rule."""
    return rules_bytes.split(b"\n")[1:-1]


class LazyRules(Mapping):
    """Lexicon entries by key, as the dict that `compile` makes, but each rule is decoded
    from its line of rules.jsonl when first asked for: a letter needs a few dozen of the
    ~68,000. A rule is decoded once, so entries that share it share one dict."""

    def __init__(self, lines: list[bytes], keys: dict[str, int]) -> None:
        self.lines = lines  # rule i is lines[i]
        self.keys = keys  # entry key -> rule number
        self._decoded: dict[int, dict] = {}

    def rule(self, i: int) -> dict:
        rule = self._decoded.get(i)
        if rule is None:
            rule = self._decoded[i] = json.loads(self.lines[i])
        return rule

    def __getitem__(self, key: str) -> dict:
        return self.rule(self.keys[key])

    def __iter__(self):
        return iter(self.keys)

    def __len__(self) -> int:
        return len(self.keys)


@contextmanager
def gc_paused():
    """No automatic garbage collection inside: loading makes hundreds of thousands of objects
    and no garbage, and Python would scan the young ones every 700 allocations. A threshold
    of 0, not gc.disable(): srsly.msgpack_loads (spaCy's vocab and tokenizer) calls
    gc.enable() whatever the state was before."""
    threshold = gc.get_threshold()
    gc.set_threshold(0)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


@Language.factory(
    "imr_lexicon",
    default_config={
        "span_key": SPAN_KEY,
        "base_drug_lexicon": True,
        "wc_supplement": True,
        "fast": True,
    },
    assigns=["doc.spans"],
)
def make_lexicon(
    nlp: Language,
    name: str,
    span_key: str,
    base_drug_lexicon: bool,
    wc_supplement: bool,
    fast: bool,
):
    return LexiconMatcher(nlp, name, span_key, base_drug_lexicon, wc_supplement, fast)


class LexiconMatcher(RuleComponent):
    """Rules: {"term", "label", "key" (tokens joined), normalisation fields...}.
    `fast`: load the compiled lookup saved beside the rules (INDEX_FILE), and decode a rule
    only when a letter needs it (`LazyRules`), instead of parsing and compiling ~68,000 JSON
    lines: about 0.1 s instead of 1 s of every start-up, and some 200 MB less memory per
    process. False compiles from rules.jsonl: the plain path."""

    def __init__(
        self,
        nlp,
        name,
        span_key: str = SPAN_KEY,
        base_drug_lexicon: bool = True,
        wc_supplement: bool = True,
        fast: bool = True,
    ):
        super().__init__(nlp, name)
        self.span_key = span_key
        self.base_drug_lexicon = base_drug_lexicon
        self.wc_supplement = wc_supplement
        self.fast = fast
        self.entries: Mapping[str, dict] = {}
        self.modifiers: dict[str, str] = {}

    @property
    def rules(self) -> list[dict]:
        """The rules as set; loaded from the index, they are all decoded when first asked
        for (to save the pipeline again)."""
        if self._rules is None:
            self._rules = [self.entries.rule(i) for i in range(len(self.entries.lines))]
        return self._rules

    @rules.setter
    def rules(self, rules: list[dict]) -> None:
        self._rules = rules

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

    def to_disk(self, path, *, exclude=()) -> None:
        """rules.jsonl (the data), and beside it the compiled lookup, marked with the SHA-1
        of that rules.jsonl: `from_disk` uses it only with those very rules. It names each
        entry's rule by its line in rules.jsonl, and is written only if those lines decode
        to what read_jsonl reads (so both paths give the very same values)."""
        super().to_disk(path, exclude=exclude)
        rules_file = Path(path) / "rules.jsonl"
        rules_bytes = rules_file.read_bytes()
        if [json.loads(line) for line in _rule_lines(rules_bytes)] != read_jsonl(rules_file):
            return  # not one rule a line (a line separator inside a name?): plain path only
        position = {id(rule): i for i, rule in enumerate(self.rules)}
        index = {
            "rules_sha1": hashlib.sha1(rules_bytes).hexdigest(),
            "entries": [[key, position[id(rule)]] for key, rule in self.entries.items()],
            "modifiers": self.modifiers,
            "index": [[list(hashes), key] for hashes, key in self._index.items()],
            "lengths": self._lengths,
        }
        (Path(path) / INDEX_FILE).write_bytes(srsly.msgpack_dumps(index))

    def from_disk(self, path, *, exclude=()) -> "LexiconMatcher":
        index_path = Path(path) / INDEX_FILE
        if not self.fast or not index_path.exists():
            return super().from_disk(path, exclude=exclude)
        rules_bytes = (Path(path) / "rules.jsonl").read_bytes()
        with gc_paused():  # ~200,000 new containers and no garbage
            # object_pairs_hook: srsly then skips the msgpack decoders that other packages
            # register (medspaCy's turn any dict with a "modifiers" key into its objects)
            index = srsly.msgpack.unpackb(
                index_path.read_bytes(), raw=False, use_list=True, object_pairs_hook=dict
            )
            if index.get("rules_sha1") != hashlib.sha1(rules_bytes).hexdigest():
                return super().from_disk(path, exclude=exclude)  # rules.jsonl edited since
            self.entries = LazyRules(_rule_lines(rules_bytes), dict(index["entries"]))
            self._rules = None  # decoded when asked for
            self.modifiers = index["modifiers"]
            self._index = {tuple(hashes): key for hashes, key in index["index"]}
            self._lengths = index["lengths"]
        return self

    def match(self, doc: Doc) -> list[tuple[int, int, str]]:
        """(start, end, entry key) for the longest entry starting at each word; line breaks
        inside a name ("carpal\ntunnel syndrome") do not stop it."""
        if not len(doc):
            return []
        array = doc.to_array([LOWER, IS_SPACE])
        positions = [i for i, space in enumerate(array[:, 1].tolist()) if not space]
        lower = array[positions, 0].tolist()
        found = []
        lengths, index, n_words = self._lengths, self._index, len(lower)
        after = 0  # a hit's words are not searched again
        for i in [i for i, word in enumerate(lower) if word in lengths]:  # words that start one
            if i < after:
                continue
            for n in lengths[lower[i]]:
                if i + n <= n_words:
                    hit = index.get(tuple(lower[i : i + n]))
                    if hit:
                        found.append((positions[i], positions[i + n - 1] + 1, hit))
                        after = i + n
                        break
        return found

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        found = self.match(doc)
        conditions = {start for start, _, key in found if key.startswith("DIAGNOSIS" + SEP)}
        for start, end, key in found:
            label = key.split(SEP, 1)[0]
            if label == "DIAGNOSIS":  # "right shoulder contusion": side and site words belong to it
                start, sites = self._sites_before(doc, start)
                after_sites = 0
                if self.entries[key].get("site_after", True):
                    end, after_sites = self._site_after(doc, end, conditions)
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

    def _site_after(self, doc: Doc, end: int, conditions=()) -> tuple[int, int]:
        """A site written after the condition belongs to it too: "sprain of the right knee",
        "strain of muscle, fascia and tendon at neck level". (new end, number of site
        words); (end, 0) if there is none. Any word outside the modifier list ends it. When
        that word starts another condition (a token in `conditions`), the sites after the
        last "," / "and" / "or" are that condition's own: "contusion to the head, [neck
        strain]", "sprain of the cervical spine and [lumbar sprain]"."""
        window_end = min(len(doc), end + AFTER_WINDOW)
        first = end  # the first word after the condition: most often not a link
        while first < window_end and doc[first].is_space:
            first += 1
        if first == window_end or self.modifiers.get(doc[first].lower_) != "link":
            return end, 0
        words = [t for t in doc[end:window_end] if not t.is_space]
        ends: list[tuple[Any, int]] = []  # (last site word, sites so far) at each site end
        cut = None  # the number of `ends` before the last separator
        run: list[int] = []  # the words since the last separator
        for word in words[1:]:
            kind = self.modifiers.get(word.lower_)
            if kind not in AFTER_KINDS and word.text != ",":
                # "..., [low back pain]": another condition starts after the last separator
                if cut is not None and any(i in conditions for i in (*run, word.i)):
                    ends = ends[:cut]
                break
            if word.text == "," or word.lower_ in ("and", "or"):
                cut, run = len(ends), []
            else:
                run.append(word.i)
            if kind in SITE_END_KINDS:
                sites = (ends[-1][1] if ends else 0) + (kind == "site")
                ends.append((word, sites))
        if not ends or not ends[-1][1]:
            return end, 0
        return ends[-1][0].i + 1, ends[-1][1]
