"""Tests for instants at the edges: parsing, naive input, DST gaps and folds."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from sla_engine import InvalidTimeError, NaiveDatetimeError
from sla_engine._time import first_instant_of, localise, parse_instant

P = ZoneInfo("Europe/Paris")


class TestParseInstant:
    def test_with_offset(self) -> None:
        value = parse_instant("2025-10-17T16:05:00+02:00")
        assert value == dt.datetime(2025, 10, 17, 14, 5, tzinfo=dt.UTC)

    def test_z_suffix(self) -> None:
        assert parse_instant("2025-10-17T14:05:00Z") == dt.datetime(
            2025, 10, 17, 14, 5, tzinfo=dt.UTC
        )

    def test_naive_is_refused(self) -> None:
        with pytest.raises(NaiveDatetimeError, match="has no UTC offset"):
            parse_instant("2025-10-17T16:05:00")

    def test_naive_with_a_named_zone(self) -> None:
        value = parse_instant("2025-10-17T16:05:00", assume_tz="Europe/Paris")
        assert value.isoformat() == "2025-10-17T16:05:00+02:00"

    def test_dst_gap_is_refused(self) -> None:
        with pytest.raises(InvalidTimeError, match="does not exist in Europe/Paris"):
            parse_instant("2025-03-30T02:30:00", assume_tz="Europe/Paris")

    def test_dst_fold_is_refused(self) -> None:
        with pytest.raises(InvalidTimeError, match="is ambiguous in Europe/Paris"):
            parse_instant("2025-10-26T02:30:00", assume_tz="Europe/Paris")

    def test_fold_with_offset_is_fine(self) -> None:
        first = parse_instant("2025-10-26T02:30:00+02:00")
        second = parse_instant("2025-10-26T02:30:00+01:00")
        assert second - first == dt.timedelta(hours=1)

    def test_garbage(self) -> None:
        with pytest.raises(InvalidTimeError, match="is not an ISO 8601 date-time"):
            parse_instant("17/10/2025 16:05")

    def test_unknown_zone(self) -> None:
        with pytest.raises(InvalidTimeError, match="unknown time zone"):
            parse_instant("2025-10-17T16:05:00", assume_tz="Europe/Atlantis")


class TestLocalise:
    def test_ordinary_time(self) -> None:
        assert localise(dt.datetime(2025, 7, 1, 9), P).utcoffset() == dt.timedelta(hours=2)

    def test_zone_without_dst(self) -> None:
        reunion = ZoneInfo("Indian/Reunion")
        assert localise(dt.datetime(2025, 3, 30, 2, 30), reunion).utcoffset() == dt.timedelta(
            hours=4
        )


class TestFirstInstant:
    def test_midnight(self) -> None:
        assert first_instant_of(dt.date(2025, 10, 27), P).isoformat() == "2025-10-27T00:00:00+01:00"
        assert first_instant_of(dt.date(2025, 10, 26), P).isoformat() == "2025-10-26T00:00:00+02:00"

    def test_a_day_that_starts_at_one(self) -> None:
        # Santiago de Chile moved its clocks at midnight on 2022-09-11: the
        # day started at 01:00.  No French territory does this, but the rule holds.
        santiago = ZoneInfo("America/Santiago")
        start = first_instant_of(dt.date(2022, 9, 11), santiago)
        assert start.isoformat() == "2022-09-11T01:00:00-03:00"
