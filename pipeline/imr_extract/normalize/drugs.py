"""Medication lexicon entries: our workers' compensation supplement over the base dictionary
shipped by the MIT-licensed `drug-named-entity-recognition` package (read at build time only).
Each entry carries the DrugBank and MeSH ids that dictionary gives its ingredients, `;`-joined
in ingredient order (an empty element where it gives none)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from imr_extract.rules import packaged_rules

_SPLIT_INGREDIENTS = re.compile(r"\s*(?:/|;|,\s*and\s+|,\s*|\s+and\s+|\s+with\s+)\s*")
_PLAIN_NAME = re.compile(r"[a-z][a-z0-9 \-']*")
_FORM_WORDS = re.compile(
    r"\s+(?:patch(?:es)?|cream|gel|ointment|tablets?|capsules?|injection|solution|spray|oral|"
    r"topical|transdermal|extended[- ]release|er|xr|sodium|hydrochloride|hcl|citrate)\b.*$"
)


def ingredient_classes() -> dict[str, str]:
    """{ingredient: class} of drug_classes.csv rows that hold whatever the route."""
    return {
        r["ingredient"]: r["drug_class"]
        for r in packaged_rules("drug_classes.csv")
        if not r.get("route")
    }


def route_class_rules() -> list[dict[str, str]]:
    """The drug_classes.csv rows that hold for one route only (injected lidocaine)."""
    return [r for r in packaged_rules("drug_classes.csv") if r.get("route")]


@lru_cache(maxsize=1)
def dictionary() -> dict:
    """drug-named-entity-recognition's dictionary, read once (at build time)."""
    import bz2
    import pickle
    from importlib import resources

    path = resources.files("drug_named_entity_recognition") / "drug_ner_dictionary.pkl.bz2"
    with resources.as_file(path) as p, bz2.open(p, "rb") as fh:
        return pickle.load(fh)


def ingredient_ids(ingredients: list[str]) -> dict[str, str | None]:
    """{'drugbank_id', 'mesh_id'} of ingredients, each `;`-joined in ingredient order, the
    dictionary's record of the ingredient's own name (None when it gives no id at all)."""
    data = dictionary()["drug_canonical_to_data"]
    out = {}
    for key in ("drugbank_id", "mesh_id"):
        ids = [(data.get(i) or {}).get(key) or "" for i in ingredients]
        out[key] = ";".join(ids) if any(ids) else None
    return out


def class_of(ingredients: list[str], classes: dict[str, str]) -> str:
    """Classes of the ingredients, most specific first (an opioid combination is an opioid)."""
    found = [classes[i] for i in ingredients if i in classes]
    primary = [c for c in found if c not in ("non-opioid analgesic", "stimulant", "supplement")]
    return (primary or found or [""])[0]


def supplement_entries() -> list[dict[str, Any]]:
    classes = ingredient_classes()
    entries = []
    for row in packaged_rules("medications_wc.csv"):
        ingredients = row["ingredients"].split(";")
        entries.append(
            {
                "term": row["name"],
                "label": "MEDICATION",
                "ingredients": ingredients,
                "brand": row["brand"] or None,
                "drug_class": row["drug_class"] or class_of(ingredients, classes),
                "source": "supplement",
                **ingredient_ids(ingredients),
            }
        )
    return entries


def base_entries(max_words: int = 3, min_length: int = 4) -> list[dict[str, Any]]:
    """Entries from drug-named-entity-recognition's dictionary (brand -> generic synonyms),
    without drug classes, stop words and the terms in medication_exclude.csv."""
    from spacy.lang.en.stop_words import STOP_WORDS

    data = dictionary()
    variant_data = data["drug_variant_to_variant_data"]
    excluded = {r["term"] for r in packaged_rules("medication_exclude.csv")}
    classes = ingredient_classes()
    entries = []
    for variant, canonicals in data["drug_variant_to_canonical"].items():
        if (
            len(variant) < min_length
            or len(variant.split()) > max_words
            or variant in STOP_WORDS
            or variant in excluded
            or not _PLAIN_NAME.fullmatch(variant)
            or _FORM_WORDS.search(variant)  # "lidocaine patch": the drug, then its form
        ):
            continue
        parts = _SPLIT_INGREDIENTS.split(canonicals[0].lower())
        ingredients = [_FORM_WORDS.sub("", i) for i in parts if i]
        is_brand = (variant_data.get(variant) or {}).get("is_brand") or variant not in canonicals
        entries.append(
            {
                "term": variant,
                "label": "MEDICATION",
                "ingredients": ingredients,
                "brand": variant if is_brand else None,
                "drug_class": class_of(ingredients, classes),
                "source": "base",
                **ingredient_ids(ingredients),
            }
        )
    return entries
