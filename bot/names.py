"""How the bot reads names people type: unit names and aliases, authors, command words.

`name_key` is the one folding used to compare them (全角 and half-width, case and spaces do not
matter: "南湖 街道" is "南湖街道", "／ＨＥＬＰ" is "/help"); `clean_name` is a name as stored.
"""

from __future__ import annotations

import unicodedata


def name_key(text: str) -> str:
    """`text` folded for comparison: NFKC (full-width → half-width), no spaces, casefolded."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if not ch.isspace())


def clean_name(text: str) -> str:
    """A name as stored: NFKC-normalised, spaces collapsed and trimmed."""
    return " ".join(unicodedata.normalize("NFKC", text).split())
