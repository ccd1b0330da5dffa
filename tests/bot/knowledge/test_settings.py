"""The ranking constants as data: the tuner's file, loaded and validated."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.kb.tune import settings_for
from bot.knowledge import KnowledgeError, SearchSettings
from bot.knowledge.settings import (
    CONFIDENCE_FEATURES,
    SHIPPED_PATH,
    dump_search_settings,
    load_search_settings,
    parse_search_settings,
    search_settings_yaml,
    term_directions,
)


def _shipped_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SHIPPED_PATH.read_text(encoding="utf-8"))
    return data


def test_the_defaults_are_the_shipped_file() -> None:
    assert SearchSettings() == load_search_settings(SHIPPED_PATH)
    assert set(_shipped_data()) == set(typing.get_type_hints(SearchSettings))
    # A field given overrides the file, the others keep its values.
    strict = SearchSettings(threshold=0.99)
    assert strict.threshold == 0.99
    assert strict.confidence_weights == SearchSettings().confidence_weights


def test_the_tuners_output_loads_back_equal(tmp_path: Path) -> None:
    # What the tuner writes: the settings with a fitted confidence.
    fitted = dataclasses.replace(
        SearchSettings(),
        similarity_weight=0.2,
        confidence_bias=-1.25,
        confidence_weights=tuple(
            0.0 if direction == 0 else 0.5 * (direction or 1)
            for direction in term_directions()
        ),
        threshold=0.7,
        min_typo_length=4,
    )
    path = tmp_path / "search_settings.yml"
    dump_search_settings(fitted, path)
    assert load_search_settings(path) == fitted
    assert path.read_text(encoding="utf-8").startswith("# The ranking constants")


def test_the_tuner_rounds_what_it_writes() -> None:
    class Fitted:
        scale = tuple(0.123456 for _ in CONFIDENCE_FEATURES)
        bias = 0.333333
        weights = tuple(0.0 for _ in term_directions())

    chosen = settings_for(SearchSettings(), Fitted(), 0.61)  # type: ignore[arg-type]
    written = parse_search_settings(yaml.safe_load(search_settings_yaml(chosen)))
    assert written["confidence_scale"][0] == 0.1235
    assert written["confidence_bias"] == 0.3333
    assert written["threshold"] == 0.61


def _with(**changes: Any) -> dict[str, Any]:
    data = _shipped_data()
    data.update(changes)
    return data


WEIGHTS = len(term_directions())
#: A coefficient that must be 0 or less (a feature against the answer).
AGAINST = term_directions().index(-1)
#: A coefficient that must be 0 (the product of opposite features).
NEVER = term_directions().index(0)


def _weights(position: int, value: float) -> list[float]:
    weights = [0.0] * WEIGHTS
    weights[position] = value
    return weights


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({k: v for k, v in _shipped_data().items() if k != "k1"}, "k1", "missing"),
        (
            {k: v for k, v in _shipped_data().items() if k != "confidence_weights"},
            "confidence_weights",
            "missing keys: confidence_weights",
        ),
        (_with(boost=1.0), "boost", "unknown keys: boost"),
        (_with(threshold="high"), "threshold", "must be a number"),
        (_with(threshold=True), "threshold", "must be a number"),
        (_with(threshold=None), "threshold", "must be a number"),
        (_with(threshold=float("nan")), "threshold", "must be finite"),
        (_with(min_typo_length=5.5), "min_typo_length", "whole number"),
        (_with(confidence_bias=[0.1]), "confidence_bias", "must be a number"),
        (_with(confidence_scale=0.2), "confidence_scale", "list of numbers"),
        (_with(confidence_scale=[0.2] * 3), "confidence_scale", "positive numbers"),
        (
            _with(confidence_scale=[0.0] * len(CONFIDENCE_FEATURES)),
            "confidence_scale",
            "positive numbers",
        ),
        (_with(confidence_weights=[0.0] * 3), "confidence_weights", "must be"),
        (
            _with(confidence_weights=[*[0.0] * (WEIGHTS - 1), "x"]),
            "confidence_weights",
            "must be a number",
        ),
        (
            _with(confidence_weights=_weights(AGAINST, 0.5)),
            "confidence_weights",
            f"item {AGAINST} is 0.5",
        ),
        (
            _with(confidence_weights=_weights(NEVER, -0.5)),
            "confidence_weights",
            f"item {NEVER} is -0.5",
        ),
    ],
)
def test_a_bad_settings_file_is_refused_with_the_reason(
    tmp_path: Path, data: dict[str, Any], field: str, words: str
) -> None:
    path = tmp_path / "search_settings.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_search_settings(path)
    assert caught.value.code == "bad_search_settings"
    assert caught.value.field == field
    assert words in str(caught.value)
    assert str(path) in str(caught.value)
