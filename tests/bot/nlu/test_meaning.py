"""The NLU pipeline's message embedding, and its trip through the parse data."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.knowledge.embedding import (
    DIMENSION,
    PARSE_KEY,
    EmbeddingModelMissing,
    shared_encoder,
    vector_from_parse_data,
    vector_to_parse_data,
)
from bot.nlu.meaning import MessageEmbedder

CONFIG = Path(__file__).resolve().parents[3] / "config.yml"


def test_each_parsed_message_carries_its_embedding() -> None:
    embedder = MessageEmbedder.create(
        MessageEmbedder.get_default_config(),
        None,
        None,
        None,  # type: ignore[arg-type]
    )
    texts = ["how do I get my money back", "my notes do not sync"]
    messages = embedder.process([Message(data={TEXT: text}) for text in texts])
    expected = shared_encoder().encode(texts)
    for message, vector in zip(messages, expected, strict=True):
        parsed = message.as_dict(only_output_properties=True)
        assert PARSE_KEY in parsed
        received = vector_from_parse_data(parsed[PARSE_KEY])
        assert received is not None
        assert np.allclose(received, vector, atol=1e-5)


def test_a_configured_missing_model_fails_at_load(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelMissing):
        MessageEmbedder.create({"model": str(tmp_path)}, None, None, None)  # type: ignore[arg-type]


def test_the_pipeline_embeds_messages() -> None:
    names = [c["name"] for c in yaml.safe_load(CONFIG.read_text())["pipeline"]]
    assert "bot.nlu.meaning.MessageEmbedder" in names


NOT_FINITE = np.full(DIMENSION, np.nan, "<f4")


def _wire(**changes: Any) -> dict[str, Any]:
    vector = np.zeros(DIMENSION, dtype=np.float32)
    vector[0] = 1.0
    return {**vector_to_parse_data(vector), **changes}


@pytest.mark.parametrize(
    "value",
    [
        None,
        "not a dict",
        _wire(model="another-model"),
        _wire(dimension=768),
        _wire(vector=123),
        _wire(vector="@@not base64@@"),
        _wire(vector=base64.b64encode(b"\0" * 12).decode()),
        _wire(vector=base64.b64encode(np.zeros(DIMENSION, "<f4").tobytes()).decode()),
        _wire(vector=base64.b64encode(NOT_FINITE.tobytes()).decode()),
    ],
    ids=[
        "missing",
        "not-a-dict",
        "other-model",
        "other-size",
        "not-text",
        "not-base64",
        "too-short",
        "not-unit-length",
        "not-finite",
    ],
)
def test_an_unusable_vector_is_ignored(value: object) -> None:
    assert vector_from_parse_data(value) is None


def test_a_vector_survives_the_trip() -> None:
    vector = shared_encoder().encode(["reset my password"])[0]
    wire = vector_to_parse_data(vector)
    # 896 float32 numbers in base64.
    assert len(wire["vector"]) < 4800
    assert np.array_equal(vector_from_parse_data(wire), vector)
