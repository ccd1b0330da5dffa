"""The numpy sentence encoder against the reference implementation, and its edges.

``data/minilm_reference.json`` holds what sentence-transformers itself (with
PyTorch) computed for awkward sentences: accents, smart quotes, an emoji,
Chinese, a URL, control characters, an empty string and one longer than the
model's 256 word pieces. The encoder must give the same word pieces and the
same vectors.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.knowledge import Article, KnowledgeIndex
from bot.knowledge.embedding import (
    MAX_SEQUENCE,
    EmbeddingModelMissing,
    SentenceEncoder,
    model_directory,
    read_safetensors,
    shared_encoder,
)
from bot.knowledge.similarity import SemanticMatcher

REFERENCE = json.loads(
    (Path(__file__).parent / "data" / "minilm_reference.json").read_text("utf-8")
)


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return shared_encoder()


@pytest.mark.parametrize(
    "item", REFERENCE["items"], ids=[f"sentence{n}" for n in range(17)]
)
def test_word_pieces_match_the_reference_tokenizer(
    encoder: SentenceEncoder, item: dict[str, object]
) -> None:
    assert encoder.tokenizer.encode(str(item["text"])) == item["input_ids"]


def test_vectors_match_the_reference_model(encoder: SentenceEncoder) -> None:
    texts = [str(item["text"]) for item in REFERENCE["items"]]
    expected = np.array([item["embedding"] for item in REFERENCE["items"]])
    # Encoded together (padded batches) and one by one: the same vectors.
    together = encoder.encode(texts)
    alone = np.array(
        [encoder._forward([encoder.tokenizer.encode(t)])[0] for t in texts]
    )
    assert np.abs(together - expected).max() < 1e-5
    assert np.abs(alone - expected).max() < 1e-5
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_long_messages_are_cut_to_the_models_length(encoder: SentenceEncoder) -> None:
    assert REFERENCE["max_seq_length"] == MAX_SEQUENCE
    long_text = "sync " * 1000
    assert len(encoder.tokenizer.encode(long_text)) == MAX_SEQUENCE
    assert encoder.encode([long_text]).shape == (1, encoder.dimension)


def test_paraphrases_are_closer_than_other_topics(encoder: SentenceEncoder) -> None:
    refund, password, money = encoder.encode(
        ["request a refund", "reset a forgotten password", "how do I get my money back"]
    )
    assert money @ refund > money @ password + 0.15


def test_repeated_sentences_are_encoded_once_and_agree(
    encoder: SentenceEncoder,
) -> None:
    text = "my notes vanished after the update, all of them"
    first = encoder.encode([text, "other", text])
    again = encoder.encode([text])
    assert np.array_equal(first[0], first[2])
    assert np.array_equal(first[0], again[0])
    assert encoder.encode([]).shape == (0, encoder.dimension)


def test_a_missing_model_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelMissing, match="make install"):
        SentenceEncoder(tmp_path)


def test_the_model_directory_can_be_configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BATON_EMBEDDING_MODEL", str(tmp_path))
    assert model_directory() == tmp_path
    with pytest.raises(EmbeddingModelMissing, match="BATON_EMBEDDING_MODEL"):
        shared_encoder()


@pytest.mark.parametrize(
    "content",
    [b"", b"\x05\x00", (10_000).to_bytes(8, "little") + b"{}"],
    ids=["empty", "short", "header-past-the-end"],
)
def test_a_damaged_weights_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"safetensors|header"):
        read_safetensors(path)


def test_unknown_tensor_types_are_refused(tmp_path: Path) -> None:
    header = json.dumps({"x": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}})
    path = tmp_path / "model.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header.encode() + b"\0\0")
    with pytest.raises(ValueError, match="BF16"):
        read_safetensors(path)


def test_meaning_matches_without_shared_words(encoder: SentenceEncoder) -> None:
    articles = [
        Article.from_dict(
            {
                "slug": "two-factor",
                "title": "Lost access to two-step verification",
                "summary": "Recover your account without the authenticator.",
                "body": "Use a backup code.",
            }
        ),
        Article.from_dict(
            {
                "slug": "invoice",
                "title": "Download an invoice",
                "summary": "Receipts for every payment.",
                "body": "Billing page.",
            }
        ),
    ]
    matcher = SemanticMatcher.build(articles, ["what's the weather"], encoder)
    found = matcher.similarities(
        matcher.vector("my phone was stolen and the code app was on it")
    )
    assert found.articles[0] > found.articles[1]
    assert 0 <= found.negative < found.articles[0]
    with pytest.raises(ValueError, match="384"):
        matcher.similarities(np.zeros(3))


def test_the_index_uses_a_given_vector(encoder: SentenceEncoder) -> None:
    articles = [
        Article.from_dict(
            {"slug": slug, "title": title, "summary": title + ".", "body": title}
        )
        for slug, title in (
            ("refund", "Request a refund"),
            ("sync", "Notes not syncing"),
        )
    ]
    index = KnowledgeIndex.build(articles, encoder=encoder)
    query = "how do I get my money back"
    vector = index.embed(query)
    computed = index.signals(query)
    given = index.signals(query, vector=vector)
    assert np.array_equal(computed.semantic, given.semantic)
    assert (
        computed.semantic[index.slugs.index("refund")]
        > computed.semantic[index.slugs.index("sync")]
    )
