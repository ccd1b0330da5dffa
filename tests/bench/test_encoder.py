"""``python -m bench.nlu.encoder``'s helpers that need no model.

The encoder's own stages are measured by running the command (issue #15);
here: the per-component CPU accounting wraps Rasa's graph nodes only while
it is on, and the paths it records.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.engine.graph import GraphNode

from bench.nlu.encoder import ROOT, _cpu_by_component, _shown


def test_each_node_adds_its_cpu_and_the_wrapper_comes_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    def busy(node: Any, *args: Any, **kwargs: Any) -> str:
        calls.append(node._node_name)
        started = time.process_time()
        while time.process_time() - started < 0.02:
            pass
        return f"{node._node_name} ran"

    monkeypatch.setattr(GraphNode, "__call__", busy)
    first, second = (SimpleNamespace(_node_name=name) for name in ("first", "second"))
    totals: dict[str, float] = {}
    with _cpu_by_component(totals):
        assert GraphNode.__call__(first) == "first ran"
        GraphNode.__call__(second)
        GraphNode.__call__(second)
    assert calls == ["first", "second", "second"]
    assert set(totals) == {"first", "second"}
    assert totals["first"] >= 0.019
    assert totals["second"] >= 2 * 0.019
    assert GraphNode.__call__ is busy


def test_a_node_that_fails_is_still_counted_and_unwrapped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def failing(node: Any, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("component failed")

    monkeypatch.setattr(GraphNode, "__call__", failing)
    totals: dict[str, float] = {}
    with pytest.raises(RuntimeError), _cpu_by_component(totals):
        GraphNode.__call__(SimpleNamespace(_node_name="broken"))
    assert set(totals) == {"broken"}
    assert GraphNode.__call__ is failing


def test_configs_are_recorded_relative_to_the_checkout(tmp_path: Path) -> None:
    inside = ROOT / "bench" / "nlu" / "configs" / "linear.yml"
    assert _shown(inside) == "bench/nlu/configs/linear.yml"
    assert _shown(tmp_path / "mine.yml") == str(tmp_path / "mine.yml")
