"""Support hours: when people are at work, and when a promise can be kept."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.exceptions import ConfigurationError

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPEC = re.compile(
    r"^\s*(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?\s+"
    r"(?P<open>\d{1,2}:\d{2})\s*-\s*(?P<close>\d{1,2}:\d{2})\s*$"
)


def _clock(text: str) -> dt.time:
    hours, minutes = (int(part) for part in text.split(":"))
    if hours == 24 and minutes == 0:
        return dt.time.max
    return dt.time(hours, minutes)


@dataclass(frozen=True)
class SupportHours:
    """Weekly opening hours in one time zone.

    Attributes:
        zone: The support team's time zone.
        windows: For each weekday (0 = Monday), the opening and closing time,
            or ``None`` when closed all day.
    """

    zone: ZoneInfo
    windows: tuple[tuple[dt.time, dt.time] | None, ...]

    @classmethod
    def parse(cls, spec: str, zone: str) -> SupportHours:
        """Parse ``"mon-fri 09:00-17:00; sat 10:00-14:00"`` in ``zone``.

        Raises:
            ConfigurationError: The text or the zone is not understood.
        """
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ConfigurationError(f"unknown time zone {zone!r}") from error
        windows: list[tuple[dt.time, dt.time] | None] = [None] * 7
        if spec.strip().lower() in {"always", "24/7"}:
            return cls(tz, tuple((dt.time.min, dt.time.max) for _ in range(7)))
        for part in filter(None, (p.strip() for p in spec.lower().split(";"))):
            match = _SPEC.match(part)
            days = [match["first"], match["last"] or match["first"]] if match else []
            if not match or not all(day in _DAYS for day in days):
                raise ConfigurationError(f"support hours: cannot read {part!r}")
            first, last = (_DAYS.index(day) for day in days)
            try:
                opening, closing = _clock(match["open"]), _clock(match["close"])
            except ValueError as error:
                raise ConfigurationError(
                    f"support hours: bad time in {part!r}"
                ) from error
            if closing <= opening:
                raise ConfigurationError(
                    f"support hours: {part!r} closes before it opens"
                )
            day = first
            while True:
                windows[day] = (opening, closing)
                if day == last:
                    break
                day = (day + 1) % 7
        return cls(tz, tuple(windows))

    def is_open(self, at: dt.datetime) -> bool:
        """Whether support is staffed at ``at`` (an aware datetime)."""
        local = at.astimezone(self.zone)
        window = self.windows[local.weekday()]
        return window is not None and window[0] <= local.time() < window[1]

    def next_opening(self, at: dt.datetime) -> dt.datetime:
        """The first moment at or after ``at`` when support is open (UTC)."""
        if self.is_open(at):
            return at
        local = at.astimezone(self.zone)
        for offset in range(8):
            day = (local + dt.timedelta(days=offset)).date()
            window = self.windows[day.weekday()]
            if window is None:
                continue
            opening = dt.datetime.combine(day, window[0], tzinfo=self.zone)
            if opening >= local:
                return opening.astimezone(dt.timezone.utc)
        raise ConfigurationError("support hours have no opening time")

    def add_open_time(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """``start`` plus ``duration`` counted in opening hours only (UTC)."""
        remaining = duration
        moment = self.next_opening(start)
        for _ in range(400):
            local = moment.astimezone(self.zone)
            window = self.windows[local.weekday()]
            assert window is not None
            closing = dt.datetime.combine(local.date(), window[1], tzinfo=self.zone)
            available = closing - local
            if remaining <= available:
                return (local + remaining).astimezone(dt.timezone.utc)
            remaining -= available
            moment = self.next_opening(closing + dt.timedelta(microseconds=1))
        raise ConfigurationError("support hours are too short for the promise")
