"""Sentence embeddings as dense features: in the messages, in a trained model."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.knowledge.embedding import DIMENSION, shared_encoder
from bot.nlu.sentence_features import (
    FINGERPRINT_FILE,
    SENTENCES_KEY,
    EncoderMismatch,
    SentenceFeaturizer,
    sentences,
    spelled_out,
)
from tests.bot.nlu.rasa_training import train_and_load, trains_and_runs

ROOT = Path(__file__).resolve().parents[3]


def _featurizer(
    tmp_path: Path, **config: object
) -> tuple[SentenceFeaturizer, LocalModelStorage, Resource, ExecutionContext]:
    (tmp_path / "storage").mkdir(exist_ok=True)
    storage = LocalModelStorage(tmp_path / "storage")
    resource = Resource("sentence_features")
    context = ExecutionContext(GraphSchema({}), node_name="sentence_features")
    settings = {**SentenceFeaturizer.get_default_config(), **config}
    featurizer = SentenceFeaturizer.create(settings, storage, resource, context)
    return featurizer, storage, resource, context


def _tokenized(texts: list[str]) -> list[Message]:
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    return tokenizer.process([Message(data={TEXT: text}) for text in texts])


def test_each_message_gets_its_embedding_as_a_sentence_feature(
    tmp_path: Path,
) -> None:
    featurizer, *_ = _featurizer(tmp_path, scale=2.0)
    texts = ["my card has not arrived yet", "how do I change my PIN?"]
    messages = featurizer.process(_tokenized(texts))
    expected = shared_encoder().encode(texts, cache=False)
    for message, vector in zip(messages, expected, strict=True):
        [feature] = [f for f in message.features if f.origin == "sentence_features"]
        assert feature.type == FEATURE_TYPE_SENTENCE
        assert feature.attribute == TEXT
        assert feature.features.shape == (1, DIMENSION)
        assert np.allclose(feature.features[0], 2.0 * vector, atol=1e-5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("👍", "thumbs up sign"),
        # Skin tones, joiners and presentation selectors carry no meaning.
        ("👍🏽", "thumbs up sign"),
        ("ok 👍", "ok thumbs up sign"),
        ("❤️", "heavy black heart"),
        ("🤷\u200d♀️", "shrug female sign"),
        # Text without pictographs is left exactly as it is.
        ("30° and ©  spaced", "30° and ©  spaced"),
        ("wie kann ich mein Passwort ändern?", "wie kann ich mein Passwort ändern?"),
    ],
)
def test_pictographs_are_read_by_their_names(text: str, expected: str) -> None:
    assert spelled_out(text) == expected


def test_different_emoji_get_different_features(tmp_path: Path) -> None:
    # Both encoders read every emoji as one unknown piece: 👍 and 👎 had the
    # same vector, and the intent model took both for a greeting.
    featurizer, *_ = _featurizer(tmp_path)
    up, down = featurizer.process(_tokenized(["👍", "👎"]))
    [up_vector] = [f.features for f in up.features]
    [down_vector] = [f.features for f in down.features]
    assert not np.allclose(up_vector, down_vector, atol=1e-3)
    expected = shared_encoder().encode(["thumbs up sign"], cache=False)[0]
    # The default scale is 1: the features are the name's embedding.
    assert np.allclose(up_vector[0], expected, atol=1e-5)


def test_training_examples_without_text_are_left_alone(tmp_path: Path) -> None:
    featurizer, *_ = _featurizer(tmp_path)
    with_text = _tokenized(["cancel my order"])[0]
    intent_only = Message(data={"intent": "cancel"})
    featurizer.process_training_data(
        TrainingData(training_examples=[with_text, intent_only])
    )
    assert len(with_text.features) == 1
    assert intent_only.features == []


def test_a_bad_scale_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale must be > 0"):
        _featurizer(tmp_path, scale=0)


def test_a_model_trained_with_other_encoder_weights_does_not_load(
    tmp_path: Path,
) -> None:
    featurizer, storage, resource, context = _featurizer(tmp_path)
    config = SentenceFeaturizer.get_default_config()
    trained = featurizer.train(TrainingData())
    # The same weights: loads.
    SentenceFeaturizer.load(config, storage, trained, context)
    with storage.write_to(resource) as folder:
        recorded = json.loads((folder / FINGERPRINT_FILE).read_text())
        recorded["size"] += 1
        (folder / FINGERPRINT_FILE).write_text(json.dumps(recorded))
    with pytest.raises(EncoderMismatch, match="install the same model files"):
        SentenceFeaturizer.load(config, storage, trained, context)


NLU = {
    "version": "3.1",
    "nlu": [
        {
            "intent": "card_arrival",
            "examples": "- my card has not arrived\n- where is my new card\n"
            "- still waiting for the card you sent\n- card not delivered yet\n"
            "- when will my card come\n",
        },
        {
            "intent": "change_pin",
            "examples": "- how do I change my PIN\n- I want a new PIN\n"
            "- reset the pin of my card\n- can I pick another PIN\n"
            "- update my pin number\n",
        },
    ],
}


# A real `rasa train nlu` and a load: a minute alone, longer on a busy machine.
@pytest.mark.timeout(1200)
def test_a_model_trains_persists_and_parses_with_the_features(
    tmp_path: Path,
) -> None:
    config = yaml.safe_load((ROOT / "bench/nlu/configs/dense.yml").read_text())
    for component in config["pipeline"]:
        if component["name"] == "DIETClassifier":
            component["epochs"] = 30
    agent = train_and_load(tmp_path, config, NLU, "dense")
    # Trained (its fingerprint persisted) and run on every parsed message.
    assert trains_and_runs(
        agent, f"{SentenceFeaturizer.__module__}.{SentenceFeaturizer.__name__}"
    )

    async def parse(text: str) -> str:
        parsed = await agent.parse_message(text)
        return str(parsed["intent"]["name"])

    # Words the training examples do not have: the meaning carries them.
    assert asyncio.run(parse("the debit card never showed up")) == "card_arrival"
    assert asyncio.run(parse("modify my PIN code")) == "change_pin"


def test_a_parsed_message_is_embedded_once_in_the_pipeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.nlu.meaning import MessageEmbedder

    featurizer, *_ = _featurizer(tmp_path)
    text = "is there a fee for paying with my card abroad"
    [message] = featurizer.process(_tokenized([text]))
    [feature] = message.features
    encoder = featurizer.encoder

    def no_model(sequences: object) -> np.ndarray:
        raise AssertionError("the message was embedded a second time")

    monkeypatch.setattr(encoder, "_forward", no_model)
    embedder = MessageEmbedder(encoder)
    [embedded] = embedder.process([message])
    assert embedded.get("embedding") is not None
    assert np.array_equal(encoder.encode([text], cache=False)[0], feature.features[0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Is this a bot? I want a person.", ["Is this a bot?", "I want a person."]),
        ("hi!\nmy sync is broken", ["hi!", "my sync is broken"]),
        ("what?? ok... fine", ["what??", "ok...", "fine"]),
        # One sentence, or none worth reading apart.
        ("how do I export my notes", []),
        ("version 2.3 is broken", []),
        ("my sync is broken ?", []),
    ],
)
def test_a_message_is_split_into_its_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_split_sentences_keeps_each_sentences_features_when_parsing(
    tmp_path: Path,
) -> None:
    texts = ["Is this a bot? I'd rather speak with a real person.", "export notes"]
    plain, *_ = _featurizer(tmp_path, scale=3.16)
    featurizer, *_ = _featurizer(tmp_path, scale=3.16, split_sentences=True)
    split = featurizer.process(_tokenized(texts))
    whole = plain.process(_tokenized(texts))
    for mine, theirs in zip(split, whole, strict=True):
        # The message's own features are exactly what they are without it.
        assert np.array_equal(mine.features[0].features, theirs.features[0].features)
    parts = split[0].get(SENTENCES_KEY)
    assert [text for text, _ in parts] == [
        "Is this a bot?",
        "I'd rather speak with a real person.",
    ]
    expected = shared_encoder().encode([text for text, _ in parts], cache=False)
    for (_, row), vector in zip(parts, expected, strict=True):
        assert row.shape == (1, DIMENSION)
        assert np.allclose(row[0], 3.16 * vector, atol=1e-5)
    assert split[1].get(SENTENCES_KEY) is None
    # Training examples are featurized whole only.
    data = TrainingData(training_examples=_tokenized(texts))
    featurizer.process_training_data(data)
    assert all(m.get(SENTENCES_KEY) is None for m in data.training_examples)
