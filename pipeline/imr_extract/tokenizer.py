"""spaCy's tokenizer with its chunk cache kept warm: the same tokens, about 10x faster.

spaCy's `Tokenizer` splits the text at whitespace and caches the tokens of each chunk
("(Lidocaine/Capsaicin," -> "(", "Lidocaine", "/", "Capsaicin", ","). But it stops writing
to that cache for the rest of a Doc as soon as one chunk hits a special case: `has_special` in
`Tokenizer._tokenize_affixes` is set once per Doc and never reset, and `_save_cached` refuses
while it is set (spaCy issue #13950, open; spaCy 3.7). Every IMR letter has a special case early
("and/or", "Dr.", "e.g."), so about 70% of the chunks go through the prefix, suffix and infix
regexes again in every letter.

A chunk's tokens do not depend on the text around it: `_tokenize` sees only the chunk, and the
special cases that span tokens are applied afterwards to the whole Doc either way. So
`WarmCacheTokenizer` first tokenises, on its own, each chunk it has not seen yet (spaCy caches it
there, unless it contains a special case, which spaCy never caches), and then tokenises the text
as before; the text's chunks now come from the cache. If the cache is lost (a setting changed),
the chunks are just tokenised again: the tokens never depend on what was warmed.

The wrapper is never saved: `nlp.to_disk` writes the wrapped spaCy tokenizer, and the config
still names `spacy.Tokenizer.v1`, so a saved pipeline loads anywhere with plain spaCy;
`imr_extract.load` wraps the loaded tokenizer again. Plain path: `FAST = False` here, or
`build_pipeline({"tokenizer": {"fast": False}})`, or `set_fast(nlp, False)`.
"""

from __future__ import annotations

from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.util import registry

from imr_extract.components.base import TEXT_CACHE

FAST = True  # False: imr_extract.load and build_pipeline keep spaCy's own tokenizer

MAX_WARMED = 100_000  # chunks remembered as warmed; past this, start over (memory stays flat)


class WarmCacheTokenizer:
    """Wraps a spaCy `Tokenizer`: warms its cache chunk by chunk, then calls it. Everything
    else (rules, explain, to_disk, ...) is the wrapped tokenizer's."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.__dict__["tokenizer"] = tokenizer
        self.__dict__["_warmed"] = set()

    def __call__(self, text: str) -> Doc:
        tokenizer = self.tokenizer
        warmed = self._warmed
        if len(warmed) > MAX_WARMED:
            warmed.clear()
        for chunk in text.split():  # the same chunks as spaCy's: both split at str.isspace()
            if chunk not in warmed:
                warmed.add(chunk)
                tokenizer(chunk)  # on its own, outside any special case: spaCy caches it
        doc = tokenizer(text)
        # the components' shared copy of the text (base.doc_text): spaCy's tokenizer keeps
        # every character, so doc.text is `text`, which spaCy would otherwise rebuild from
        # the tokens (a millisecond a letter); imr_coding, the last component, drops it
        doc.user_data[TEXT_CACHE] = text
        return doc

    def pipe(self, texts, batch_size: int = 1000):
        for text in texts:
            yield self(text)

    def from_disk(self, *args, **kwargs) -> WarmCacheTokenizer:
        self.tokenizer.from_disk(*args, **kwargs)
        self._warmed.clear()  # spaCy flushed its cache
        return self

    def from_bytes(self, *args, **kwargs) -> WarmCacheTokenizer:
        self.tokenizer.from_bytes(*args, **kwargs)
        self._warmed.clear()
        return self

    def add_special_case(self, *args, **kwargs) -> None:
        self.tokenizer.add_special_case(*args, **kwargs)
        self._warmed.clear()

    def __getattr__(self, name: str):
        tokenizer = self.__dict__.get("tokenizer")  # absent while unpickling
        if tokenizer is None:
            raise AttributeError(name)
        return getattr(tokenizer, name)

    def __setattr__(self, name: str, value) -> None:
        """A setting ("rules", "infix_finditer", ...) goes to spaCy's tokenizer, which then
        flushes its cache; forget what was warmed so it is warmed again."""
        setattr(self.tokenizer, name, value)
        self._warmed.clear()


def set_fast(nlp: Language, fast: bool | None = None) -> Language:
    """Wrap `nlp.tokenizer` in a `WarmCacheTokenizer` (fast), or unwrap it (plain);
    `fast=None` follows `FAST`. Only spaCy's own `Tokenizer` is wrapped."""
    fast = FAST if fast is None else fast
    current = nlp.tokenizer
    if fast and type(current) is Tokenizer:
        nlp.tokenizer = WarmCacheTokenizer(current)
    elif not fast and isinstance(current, WarmCacheTokenizer):
        nlp.tokenizer = current.tokenizer
    return nlp


SAVED_TOKENIZER = {"@tokenizers": "spacy.Tokenizer.v1"}
BARE_TOKENIZER = "imr_extract.BareTokenizer.v1"


@registry.tokenizers(BARE_TOKENIZER)
def create_bare_tokenizer():
    """A tokenizer with no settings at all: for a pipeline whose saved tokenizer then sets
    every one of them (`load_pipeline`)."""

    def create(nlp: Language) -> Tokenizer:
        return Tokenizer(nlp.vocab)

    return create


def load_pipeline(path: str | Path) -> Language:
    """`spacy.load(path)`, building its tokenizer once instead of twice. spaCy first builds
    the tokenizer its config names (`spacy.Tokenizer.v1`: English's 1,300 special cases and
    affix rules, a tenth of a second and more), then `from_disk` resets all of that and loads
    the saved one. A saved `spacy.Tokenizer` keeps every setting (rules, affixes, token and URL
    matches, heuristics), so it is loaded onto a bare tokenizer: the same tokenizer. The
    config still names `spacy.Tokenizer.v1`, so the pipeline saves as it was loaded. Any
    other tokenizer is loaded the plain way."""
    path = Path(path)
    config = path / "config.cfg"
    named = f'tokenizer = {{"@tokenizers":"{SAVED_TOKENIZER["@tokenizers"]}"}}'
    if not (path / "tokenizer").is_file() or named not in config.read_text(encoding="utf-8"):
        return spacy.load(path)
    nlp = spacy.load(path, config={"nlp": {"tokenizer": {"@tokenizers": BARE_TOKENIZER}}})
    nlp._config["nlp"]["tokenizer"] = dict(SAVED_TOKENIZER)
    return nlp
