"""Differential tests: jours ouvrés and ouvrables against NumPy's business days.

NumPy is an independent implementation of the same arithmetic: « the N-th
working day strictly after d » is ``busday_offset(d, N, roll="backward")``
and the working days in ``(a, b]`` are ``busday_count(a + 1, b + 1)``.  Both
sides take their holidays from the ``holidays`` package, so these tests
check the index arithmetic, the weekmasks and the territory wiring.
"""

from __future__ import annotations

import datetime as dt
import zlib

import holidays
import numpy as np
import pytest

import sla_engine
from sla_engine import Unit

TERRITORIES = ["fr", "fr-57", "fr-6AE", "fr-971", "fr-972", "fr-973", "fr-974", "fr-976"]
FIRST, LAST = np.datetime64("1990-01-01"), np.datetime64("2040-12-31")
SAMPLES = 20_000


def _oracle(spec: str, weekmask: str) -> np.busdaycalendar:
    code = None if spec == "fr" else spec.removeprefix("fr-")
    days = holidays.France(subdiv=code, years=range(1989, 2043))
    return np.busdaycalendar(weekmask=weekmask, holidays=sorted(days))


def _sample(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    span = int((LAST - FIRST).astype(int))
    days = FIRST + rng.integers(0, span, SAMPLES).astype("timedelta64[D]")
    n = rng.integers(1, 120, SAMPLES)
    return days, n


@pytest.mark.parametrize("spec", TERRITORIES)
@pytest.mark.parametrize(
    ("unit", "weekmask"),
    [(Unit.JOURS_OUVRES, "1111100"), (Unit.JOURS_OUVRABLES, "1111110")],
)
class TestAgainstNumpy:
    def test_add(self, spec: str, unit: Unit, weekmask: str) -> None:
        cal = sla_engine.calendar(spec)
        oracle = _oracle(spec, weekmask)
        days, n = _sample(zlib.crc32(f"{spec} {unit.value}".encode()))
        expected = np.busday_offset(days, n, roll="backward", busdaycal=oracle)
        np.testing.assert_array_equal(cal.add_many(days, n, unit), expected)
        # The scalar path on a slice of the same sample.
        for day, k, want in zip(days[:3000], n[:3000], expected[:3000], strict=True):
            got = cal.add(day.astype(dt.date), int(k), unit)
            assert got == want.astype(dt.date), (day, k)

    def test_count(self, spec: str, unit: Unit, weekmask: str) -> None:
        cal = sla_engine.calendar(spec)
        oracle = _oracle(spec, weekmask)
        starts, n = _sample(zlib.crc32(f"{spec} {unit.value} count".encode()))
        ends = starts + (n * 3).astype("timedelta64[D]")
        one = np.timedelta64(1, "D")
        expected = np.busday_count(starts + one, ends + one, busdaycal=oracle)
        np.testing.assert_array_equal(cal.count_many(starts, ends, unit), expected)
        for a, b, want in zip(starts[:3000], ends[:3000], expected[:3000], strict=True):
            assert cal.count(a.astype(dt.date), b.astype(dt.date), unit) == want
            assert cal.count(b.astype(dt.date), a.astype(dt.date), unit) == -want

    def test_is_counted(self, spec: str, unit: Unit, weekmask: str) -> None:
        cal = sla_engine.calendar(spec)
        oracle = _oracle(spec, weekmask)
        days = np.arange(FIRST, LAST)
        np.testing.assert_array_equal(
            cal.is_counted_many(days, unit), np.is_busday(days, busdaycal=oracle)
        )


@pytest.mark.parametrize("spec", TERRITORIES)
def test_ouvrables_extended_by_art_642(spec: str) -> None:
    """``extend=True``: the N-th ouvrable day, then the next day art. 642 lets it end on.

    That is NumPy's Monday–Saturday offset rolled forward over a Monday–Friday
    week whose holidays are the public holidays and the service's closures
    (« un jour férié ou chômé »); without ``extend`` closures change nothing.
    """
    rng = np.random.default_rng(zlib.crc32(f"{spec} extend".encode()))
    span = int((LAST - FIRST).astype(int))
    closed = np.unique(FIRST + rng.integers(0, span, 2000).astype("timedelta64[D]"))
    cal = sla_engine.calendar(spec).with_closures(*(d.astype(dt.date) for d in closed))
    ouvrables = _oracle(spec, "1111110")
    public = ouvrables.holidays
    art_642 = np.busdaycalendar(weekmask="1111100", holidays=np.union1d(public, closed))
    days, n = _sample(zlib.crc32(f"{spec} ouvrables extend".encode()))
    raw = np.busday_offset(days, n, roll="backward", busdaycal=ouvrables)
    expected = np.busday_offset(raw, 0, roll="forward", busdaycal=art_642)
    assert (expected != raw).any()
    unit = Unit.JOURS_OUVRABLES
    np.testing.assert_array_equal(cal.add_many(days, n, unit, extend=True), expected)
    np.testing.assert_array_equal(cal.add_many(days, n, unit), raw)
    for day, k, want in zip(days[:3000], n[:3000], expected[:3000], strict=True):
        assert cal.add(day.astype(dt.date), int(k), unit, extend=True) == want.astype(dt.date)
