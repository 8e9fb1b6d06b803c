"""Splitting a context into sentences for answer selection.

A sentence ends at `.`, `!` or `?` followed by white space, or at a line break.
A full stop after a common abbreviation ("e.g.", "Dr.") or a single-letter
initial ("J. Smith") does not end a sentence: splitting there would hand the
encoder fragments that match nothing.
"""

from __future__ import annotations

import re

__all__ = ["split_sentences"]

_BOUNDARY = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*\s+|\s*\n\s*")
_ABBREVIATIONS = frozenset(
    {"dr", "mr", "mrs", "ms", "prof", "st", "vs", "etc", "e.g", "i.e", "cf", "fig", "approx"}
)
_INITIAL = re.compile(r"(?:^|\s)[A-Z]\.$")


def split_sentences(text: str) -> list[str]:
    """The non-empty sentences of `text`, in order, stripped of surrounding space."""
    sentences: list[str] = []
    start = 0
    for boundary in _BOUNDARY.finditer(text):
        piece = text[start : boundary.start()]
        if "\n" not in boundary.group() and _ends_with_abbreviation(piece):
            continue
        sentences.append(text[start : boundary.end()].strip())
        start = boundary.end()
    sentences.append(text[start:].strip())
    return [s for s in sentences if s]


def _ends_with_abbreviation(piece: str) -> bool:
    if _INITIAL.search(piece):
        return True
    last_word = piece.rsplit(None, 1)[-1] if piece.strip() else ""
    return last_word.lower().rstrip(".") in _ABBREVIATIONS
