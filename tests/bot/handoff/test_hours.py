"""Support hours and follow-up promises."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.exceptions import ConfigurationError
from bot.handoff.hours import SupportHours

UTC = dt.timezone.utc
WEEKDAYS = SupportHours.parse("mon-fri 09:00-17:00", "Europe/London")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        ("2026-11-23 09:00", True),  # Monday, London is on UTC in winter
        ("2026-11-23 16:59", True),
        ("2026-11-23 17:00", False),
        ("2026-11-23 08:59", False),
        ("2026-11-28 12:00", False),  # Saturday
        ("2026-07-06 08:30", True),  # Monday in summer: 09:30 in London
    ],
)
def test_is_open(moment: str, is_open: bool) -> None:
    assert WEEKDAYS.is_open(at(moment)) is is_open


def test_a_promise_made_on_friday_evening_is_due_on_monday() -> None:
    due = WEEKDAYS.add_open_time(at("2026-11-27 18:30"), dt.timedelta(hours=4))
    assert due == at("2026-11-30 13:00")


def test_a_promise_spanning_closing_time_continues_next_morning() -> None:
    due = WEEKDAYS.add_open_time(at("2026-11-24 15:00"), dt.timedelta(hours=4))
    assert due == at("2026-11-25 11:00")


def test_always_open() -> None:
    always = SupportHours.parse("always", "UTC")
    start = at("2026-11-28 03:00")
    assert always.is_open(start)
    assert always.add_open_time(start, dt.timedelta(hours=4)) == at("2026-11-28 07:00")


def test_several_windows_and_wrapping_day_ranges() -> None:
    hours = SupportHours.parse(
        "mon-fri 09:00-17:00; sat 10:00-14:00; sun-mon 08:00-09:00", "UTC"
    )
    assert hours.is_open(at("2026-11-28 10:30"))  # Saturday
    assert hours.is_open(at("2026-11-29 08:30"))  # Sunday


@pytest.mark.parametrize(
    ("spec", "zone"),
    [
        ("weekdays 9-5", "UTC"),
        ("mon-fri 17:00-09:00", "UTC"),
        ("mon-fri 09:00-25:00", "UTC"),
        ("mon-xyz 09:00-17:00", "UTC"),
        ("mon-fri 09:00-17:00", "Mars/Olympus"),
    ],
)
def test_bad_specs_are_refused(spec: str, zone: str) -> None:
    with pytest.raises(ConfigurationError):
        SupportHours.parse(spec, zone)
