"""Texts in, embeddings out; and the answer-selection request and answer.

Character limits sit far above what the model reads (256 word pieces, about
1,000 characters of English): longer texts are truncated and flagged, and the
limits only stop requests that would waste seconds of tokenization.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field

from services.runtime.model import Schema

from .sentences import split_sentences

__all__ = ["DIMENSIONS", "Answer", "AnswerRequest", "Candidate", "Embedding", "Text"]

DIMENSIONS = 384
MAX_TEXT_CHARS = 20_000
MAX_QUESTION_CHARS = 2_000
MAX_SENTENCES = 128


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("text is empty or only white space")
    return text


def _few_sentences(text: str) -> str:
    count = len(split_sentences(text))
    if count > MAX_SENTENCES:
        raise ValueError(f"context has {count} sentences; the limit is {MAX_SENTENCES}")
    return text


class Text(Schema):
    """One text to embed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"text": "A man is playing a guitar on stage."},
                {"text": "How do I reset my password?"},
            ]
        }
    )

    text: Annotated[str, AfterValidator(_not_blank)] = Field(
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        description="Text to embed; beyond 256 word pieces it is truncated (see `truncated`)",
    )


class Embedding(Schema):
    embedding: list[float] = Field(
        min_length=DIMENSIONS,
        max_length=DIMENSIONS,
        description="L2-normalised sentence embedding (mean-pooled all-MiniLM-L6-v2)",
    )
    tokens: int = Field(ge=2, description="Word pieces in the text, [CLS] and [SEP] included")
    truncated: bool = Field(description="True when the text was cut to the model's 256 word pieces")


class AnswerRequest(Schema):
    """A question and the context whose best-matching sentence answers it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "question": "Where is the Eiffel Tower?",
                    "context": "The Eiffel Tower is in Paris. It was completed in 1889. "
                    "Gustave Eiffel's company built it.",
                    "top_k": 2,
                }
            ]
        }
    )

    question: Annotated[str, AfterValidator(_not_blank)] = Field(
        min_length=1, max_length=MAX_QUESTION_CHARS, description="The question to answer"
    )
    context: Annotated[str, AfterValidator(_not_blank), AfterValidator(_few_sentences)] = Field(
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        description=f"Text to pick the answer from: at most {MAX_SENTENCES} sentences",
    )
    top_k: int = Field(3, ge=0, le=20, description="How many runner-up sentences to return")


class Candidate(Schema):
    index: int = Field(ge=0, description="Position of the sentence in the context, from 0")
    sentence: str
    score: float = Field(description="Cosine similarity to the question")


class Answer(Schema):
    answer: str = Field(description="The sentence of the context that best matches the question")
    score: float = Field(description="Its cosine similarity to the question")
    index: int = Field(ge=0, description="Its position in the context, from 0")
    runners_up: list[Candidate] = Field(description="The next best sentences, best first")
    sentences: int = Field(ge=1, description="Sentences the context was split into")
    question_truncated: bool = Field(description="True when the question exceeded 256 word pieces")
