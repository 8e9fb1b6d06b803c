"""Sentence splitting for answer selection."""

from __future__ import annotations

import pytest

from services.minilm.sentences import split_sentences


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ("Line one\nLine two\n\n  Line three  ", ["Line one", "Line two", "Line three"]),
        ('He said "stop." Then he left.', ['He said "stop."', "Then he left."]),
        ("She said \u201cno.\u201d He agreed.", ["She said \u201cno.\u201d", "He agreed."]),
        ("Pi is 3.14 exactly. Not quite.", ["Pi is 3.14 exactly.", "Not quite."]),
        ("No trailing space.", ["No trailing space."]),
    ],
    ids=["punctuation", "line-breaks", "closing-quote", "curly-quote", "decimal-point", "single"],
)
def test_text_splits_at_sentence_ends_and_line_breaks(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


@pytest.mark.parametrize(
    "text",
    [
        "Dr. Watson met Mrs. Hudson at home.",
        "Bring fruit, e.g. apples, and bread.",
        "The book by J. R. R. Tolkien sold well.",
        "It weighs approx. two kilograms.",
    ],
    ids=["titles", "e.g.", "initials", "approx."],
)
def test_abbreviations_and_initials_do_not_end_a_sentence(text: str) -> None:
    assert split_sentences(text) == [text]


def test_abbreviation_at_a_line_break_still_splits() -> None:
    assert split_sentences("Ask Dr.\nThen rest.") == ["Ask Dr.", "Then rest."]


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t"])
def test_blank_text_has_no_sentences(text: str) -> None:
    assert split_sentences(text) == []
