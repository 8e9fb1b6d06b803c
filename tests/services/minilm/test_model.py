"""The MiniLM model class in-process: torch threads, and answer selection edge cases."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

from services.minilm import Model
from services.minilm.schemas import AnswerRequest, Text
from services.runtime.registry import Registry


@pytest.fixture(scope="module")
def model(registry_root: Path) -> Model:
    loaded = Model(torch_threads=1)
    path, _ = Registry(registry_root).open("minilm", "v1")
    loaded.load(path)
    return loaded


def test_the_prepared_model_thread_uses_the_configured_torch_threads(model: Model) -> None:
    def threads_while_predicting() -> int:
        model.predict([Text(text="hello")])
        return torch.get_num_threads()

    # torch's default is one thread per core; the model was built with torch_threads=1.
    with ThreadPoolExecutor(1, initializer=model.prepare_thread) as model_thread:
        assert model_thread.submit(threads_while_predicting).result() == 1


def test_a_one_sentence_context_answers_with_no_runners_up(model: Model) -> None:
    answer = model.answer(AnswerRequest(question="Is it raining?", context="It is raining."))
    assert (answer.answer, answer.index, answer.sentences) == ("It is raining.", 0, 1)
    assert answer.runners_up == []


def test_top_k_beyond_the_sentences_returns_every_other_sentence_once(model: Model) -> None:
    context = "Cats purr. Dogs bark. Birds sing."
    answer = model.answer(AnswerRequest(question="What do dogs do?", context=context, top_k=20))
    assert answer.answer == "Dogs bark."
    assert sorted(c.index for c in answer.runners_up) == [0, 2]


def test_top_k_zero_returns_only_the_answer(model: Model) -> None:
    answer = model.answer(
        AnswerRequest(question="What do birds do?", context="Cats purr. Birds sing.", top_k=0)
    )
    assert answer.answer == "Birds sing." and answer.runners_up == []


def test_a_question_over_the_token_limit_is_flagged(model: Model) -> None:
    question = "Why " + "really " * 270 + "?"  # 272 word pieces, under the 2,000 characters
    answer = model.answer(AnswerRequest(question=question, context="Because. So."))
    assert answer.question_truncated is True
