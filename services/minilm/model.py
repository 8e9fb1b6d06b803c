"""Serving all-MiniLM-L6-v2: sentence embeddings and answer selection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from services.runtime.model import Action, Model

from .encoder import Encoder
from .schemas import Answer, AnswerRequest, Candidate, Embedding, Text
from .sentences import split_sentences

__all__ = ["MiniLMModel"]


class MiniLMModel(Model[Text, Embedding]):
    name = "minilm"
    framework = "transformers"
    Input = Text
    Output = Embedding
    actions = (
        Action(
            path="answer",
            request=AnswerRequest,
            response=Answer,
            method="answer",
            summary="Pick the sentence of a context that best answers a question",
        ),
    )

    def prepare_thread(self) -> None:
        # torch's default (one thread per core) oversubscribes a pod's CPU limit and
        # fights gunicorn's other workers.
        torch.set_num_threads(self.torch_threads)

    def load(self, path: Path) -> None:
        self.encoder = Encoder(path)

    def predict(self, batch: list[Text]) -> list[Embedding]:
        encoded = self.encoder.encode([item.text for item in batch])
        return [
            Embedding(embedding=vector.tolist(), tokens=tokens, truncated=truncated)
            for vector, tokens, truncated in zip(
                encoded.vectors, encoded.tokens, encoded.truncated, strict=True
            )
        ]

    def answer(self, request: AnswerRequest) -> Answer:
        """Rank the context's sentences by cosine similarity to the question."""
        sentences = split_sentences(request.context)
        encoded = self.encoder.encode([request.question, *sentences])
        # Rows are unit vectors, so the dot product is the cosine similarity.
        scores = encoded.vectors[1:] @ encoded.vectors[0]
        order = np.argsort(-scores, kind="stable")[: request.top_k + 1]
        ranked = [
            Candidate(index=int(i), sentence=sentences[i], score=float(scores[i])) for i in order
        ]
        best = ranked[0]
        return Answer(
            answer=best.sentence,
            score=best.score,
            index=best.index,
            runners_up=ranked[1:],
            sentences=len(sentences),
            question_truncated=encoded.truncated[0],
        )
