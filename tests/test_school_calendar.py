"""Tests for the shipped school calendar and its loader (sla_engine._school).

Three oracles check the shipped data day by day:

- an independent re-reading of the official CSV, written here from the file
  itself (not by calling the builder), for every zone;
- the ``vacances-scolaires-france`` package, for zones A, B and C;
- the ``holidays`` package's school holidays, for zones A, B and C.

The two packages disagree with the official data on a few days; each such
day is listed below with its reason, and the list must stay exact: a
disagreement missing from it, or listed but gone, fails the test.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import holidays
import pytest
from vacances_scolaires_france import SchoolHolidayDates

from sla_engine._errors import CalendarSpecError
from sla_engine._resources import calendar_data_path
from sla_engine._school import (
    SchoolDaysOff,
    SchoolYear,
    SchoolZone,
    english_name,
    school_data_version,
    school_zone,
    school_zones,
)

OFFICIAL_CSV = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "fr-en-calendrier-scolaire.csv"
)
D = dt.date
ONE_DAY = dt.timedelta(days=1)
ZONE_KEYS = [
    "A",
    "B",
    "C",
    "Corse",
    "Guadeloupe",
    "Guyane",
    "Martinique",
    "Mayotte",
    "Nouvelle Calédonie",
    "Polynésie",
    "Réunion",
    "Saint Pierre et Miquelon",
    "Wallis et Futuna",
]


def days(first: D, last: D) -> Iterator[D]:
    day = first
    while day <= last:
        yield day
        day += ONE_DAY


# -- oracle 1: the official CSV, read again in the simplest way -------------------

# Populations of the official file whose rows apply to primary-school pupils of
# the whole zone (everyone, pupils, primary pupils, Guadeloupe with or without
# its islands).  Teachers, secondary pupils only, and Saint-Martin or
# Saint-Barthélémy alone are not.
PUPILS = {
    "-",
    "Élèves",
    "Élèves du premier degré",
    "Premier degré",
    "Premier degré et collèges",
    "Guadeloupe & Saint-Martin",
    "Guadeloupe sauf Saint-Martin",
    "Guadeloupe & Saint-Barthélémy",
    "Guadeloupe, Saint-Martin & Saint-Barthélémy",
}


def official_reading() -> tuple[dict[str, set[D]], dict[str, D]]:
    """Pupils' days off per zone, and the last date the file gives for each zone."""
    off: dict[str, set[D]] = defaultdict(set)
    last_date: dict[str, D] = {}
    with OFFICIAL_CSV.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            zone = row["Zones"].removeprefix("Zone ")
            start_text, end_text = row["Date de début"], row["Date de fin"]
            # Every date of this file is written as a midnight, so its first
            # ten characters are the day (the live API's UTC instants are not).
            assert start_text[10:19] == end_text[10:19] == "T00:00:00"
            start, end = D.fromisoformat(start_text[:10]), D.fromisoformat(end_text[:10])
            last_date[zone] = max(end, last_date.get(zone, end))
            if row["Population"] not in PUPILS:
                continue
            if start == end:
                # A single day off, except « Début des … »: only the start of
                # a holiday whose end is unknown.
                if not row["Description"].startswith("Début des "):
                    off[zone].add(start)
                continue
            period = set(days(start + ONE_DAY, end - ONE_DAY))
            if not any(d.weekday() < 5 for d in period) and (not period or start.weekday() < 5):
                period.add(start)  # a Friday bridge written from its first day off
            off[zone] |= period
    return off, last_date


@pytest.fixture(scope="module")
def official() -> tuple[dict[str, set[D]], dict[str, D]]:
    if not OFFICIAL_CSV.is_file():
        pytest.skip(f"the official export is not at {OFFICIAL_CSV}")
    return official_reading()


@pytest.mark.parametrize("key", ZONE_KEYS)
def test_days_off_match_the_official_csv(
    key: str, official: tuple[dict[str, set[D]], dict[str, D]]
) -> None:
    off, last_date = official
    zone = school_zone(key)
    first, last = zone.coverage
    # Every day of the official school years inside the coverage (A, B and C
    # go on with vacances-scolaires-france after the official data ends).
    checked = list(days(first, min(last, last_date[key])))
    assert len(checked) > 300
    wrong = [d for d in checked if (zone.days_off_on(d) is not None) != (d in off[key])]
    assert wrong == []


# -- oracles 2 and 3: two packages, zones A, B and C ------------------------------
#
# Compared on Monday to Friday only, public holidays excluded: on those days
# there is no class whatever the school calendar says, and the sources write
# them differently (vacances-scolaires-france and holidays count the Saturday
# on which classes end and the Ascension Thursday as holidays; the official
# data starts such holidays on the Sunday and on the Friday).

SPRING_2021 = (
    "COVID-19: all zones took their spring holidays on 10-26 April 2021; "
    "the package keeps the dates first planned"
)
VSF_KNOWN: list[tuple[str, D, D, str]] = [
    ("BC", D(2021, 4, 12), D(2021, 4, 16), SPRING_2021),
    ("B", D(2021, 4, 19), D(2021, 4, 23), SPRING_2021),
    ("BC", D(2021, 4, 26), D(2021, 4, 30), SPRING_2021),
    ("B", D(2021, 5, 3), D(2021, 5, 7), SPRING_2021),
    (
        "ABC",
        D(2021, 5, 17),
        D(2021, 5, 17),
        "the package counts the Monday classes resume after the 2021 Ascension bridge",
    ),
    (
        "ABC",
        D(2021, 7, 6),
        D(2021, 7, 6),
        "last class day before the summer (Tuesday): the package counts it as a holiday",
    ),
    (
        "ABC",
        D(2022, 7, 7),
        D(2022, 7, 7),
        "last class day before the summer (Thursday): the package counts it as a holiday",
    ),
    (
        "ABC",
        D(2021, 9, 1),
        D(2021, 9, 1),
        "the package has the teachers' rentrée; pupils returned on Thursday 2 September",
    ),
    ("ABC", D(2023, 5, 19), D(2023, 5, 19), "the package misses the Pont de l'Ascension 2023"),
    ("ABC", D(2024, 5, 10), D(2024, 5, 10), "the package misses the Pont de l'Ascension 2024"),
    ("ABC", D(2025, 5, 30), D(2025, 5, 30), "the package misses the Pont de l'Ascension 2025"),
    ("ABC", D(2026, 5, 15), D(2026, 5, 15), "the package misses the Pont de l'Ascension 2026"),
]
HOLIDAYS_KNOWN: list[tuple[str, D, D, str]] = [
    # Data from vacances-scolaires-france (2026-2027) on our side: holidays
    # moves a Wednesday 1 September rentrée to the Thursday, as in 2021.
    (
        "ABC",
        D(2027, 9, 1),
        D(2027, 9, 1),
        "rentrée 2027: vacances-scolaires-france says Wednesday 1, holidays Thursday 2 September",
    ),
]


def disagreements(key: str, other: set[D], since: D, until: D) -> set[D]:
    zone = school_zone(key)
    first, last = zone.coverage
    first, last = max(first, since), min(last, until)
    public = holidays.France(years=range(first.year, last.year + 1))
    return {
        d
        for d in days(first, last)
        if d.weekday() < 5 and d not in public and (zone.days_off_on(d) is not None) != (d in other)
    }


def known(table: list[tuple[str, D, D, str]], key: str) -> set[D]:
    return {d for zones, first, last, _ in table if key in zones for d in days(first, last)}


@pytest.mark.parametrize("key", ["A", "B", "C"])
def test_vacances_scolaires_france_agrees_but_for_known_days(key: str) -> None:
    package = SchoolHolidayDates()
    since, until = D(package.min_year, 1, 1), D(package.max_year, 12, 31)
    other = {d for d in days(since, until) if package.is_holiday_for_zone(d, key)}
    assert disagreements(key, other, since, until) == known(VSF_KNOWN, key)


@pytest.mark.parametrize("key", ["A", "B", "C"])
def test_holidays_package_agrees_but_for_known_days(key: str) -> None:
    first, last = school_zone(key).coverage
    years = range(max(first.year, 2017), last.year + 1)  # holidays starts with 2017-2018
    other = set(holidays.France(subdiv=f"Zone {key}", categories=("school",), years=years))
    assert disagreements(key, other, D(2017, 9, 1), D(2030, 12, 31)) == known(HOLIDAYS_KNOWN, key)


# -- the loader -------------------------------------------------------------------


class TestNames:
    """school_zone() matching."""

    @pytest.mark.parametrize(
        ("name", "key"),
        [
            ("b", "B"),
            ("B", "B"),
            ("Zone B", "B"),
            ("zone-b", "B"),
            ("  zone   c ", "C"),
            ("reunion", "Réunion"),
            ("Réunion", "Réunion"),
            ("La Réunion", "Réunion"),
            ("nouvelle-caledonie", "Nouvelle Calédonie"),
            ("Nouvelle Calédonie", "Nouvelle Calédonie"),
            ("corse", "Corse"),
            ("CORSE", "Corse"),
            ("Saint-Pierre-et-Miquelon", "Saint Pierre et Miquelon"),
            ("wallis et futuna", "Wallis et Futuna"),
            ("Polynésie française", "Polynésie"),
            ("GUADELOUPE", "Guadeloupe"),
        ],
    )
    def test_known(self, name: str, key: str) -> None:
        assert school_zone(name).key == key

    @pytest.mark.parametrize("name", ["D", "Zone", "", "France", "Saint-Martin"])
    def test_unknown_lists_the_known_zones(self, name: str) -> None:
        with pytest.raises(CalendarSpecError) as caught:
            school_zone(name)
        message = str(caught.value)
        assert repr(name) in message
        for key in ZONE_KEYS:
            assert key in message

    def test_zones(self) -> None:
        zones = school_zones()
        assert [z.key for z in zones] == ZONE_KEYS
        assert [z.label for z in zones[:4]] == ["Zone A", "Zone B", "Zone C", "Corse"]
        assert school_zone("Mayotte").time_zone == "Indian/Mayotte"
        assert school_zone("b") is school_zone("Zone B")


class TestCoverage:
    """The span of known days of each zone (see calendars/README.md)."""

    EXPECTED: ClassVar[Mapping[str, tuple[D, D]]] = {
        # Official data from Toussaint 2017, vacances-scolaires-france from
        # September 2026, up to the last class day before summer 2028.
        "A": (D(2017, 10, 22), D(2028, 7, 3)),
        "B": (D(2017, 10, 22), D(2028, 7, 3)),
        "C": (D(2017, 10, 22), D(2028, 7, 3)),
        # 2009-2010 to 2024-2025; « Début des Vacances d'Été » on 5 July 2025.
        "Corse": (D(2009, 10, 27), D(2025, 7, 5)),
        # 2017-2018 has only its summer holidays in the file.
        "Guadeloupe": (D(2018, 7, 7), D(2026, 7, 4)),
        "Guyane": (D(2017, 10, 22), D(2026, 7, 4)),
        "Martinique": (D(2017, 10, 22), D(2026, 7, 4)),
        # The pupils' return after summer 2024 is not published.
        "Mayotte": (D(2017, 10, 8), D(2024, 7, 6)),
        "Nouvelle Calédonie": (D(2018, 4, 8), D(2025, 12, 20)),
        # Primary pupils' « Début des Grandes Vacances » on Friday 3 July 2026.
        "Polynésie": (D(2017, 9, 17), D(2026, 7, 3)),
        "Réunion": (D(2017, 10, 15), D(2026, 7, 4)),
        "Saint Pierre et Miquelon": (D(2017, 10, 26), D(2024, 7, 3)),
        "Wallis et Futuna": (D(2018, 4, 1), D(2024, 12, 14)),
    }

    @pytest.mark.parametrize("key", ZONE_KEYS)
    def test_coverage(self, key: str) -> None:
        assert school_zone(key).coverage == self.EXPECTED[key]

    @pytest.mark.parametrize("key", ZONE_KEYS)
    def test_days_off_are_sorted_and_sane(self, key: str) -> None:
        zone = school_zone(key)
        firsts = [p.first for p in zone.days_off]
        assert firsts == sorted(firsts)
        assert all(p.first <= p.last for p in zone.days_off)
        years = {y.year for y in zone.school_years}
        assert {p.school_year for p in zone.days_off} <= years


class TestSchoolYears:
    """Rentrée (first class day for pupils) and summer starts."""

    # Read off the official file: the end date of the pupils' « Vacances
    # d'Été » row of the year before (same in zones A, B and C).
    RENTREE: ClassVar[Mapping[str, D]] = {
        "2018-2019": D(2018, 9, 3),
        "2019-2020": D(2019, 9, 2),
        "2020-2021": D(2020, 9, 1),
        "2021-2022": D(2021, 9, 2),
        "2022-2023": D(2022, 9, 1),
        "2023-2024": D(2023, 9, 4),
        "2024-2025": D(2024, 9, 2),  # Monday 2 September 2024
        "2025-2026": D(2025, 9, 1),
    }

    @pytest.mark.parametrize("key", ["A", "B", "C"])
    def test_rentree(self, key: str) -> None:
        years = {y.year: y for y in school_zone(key).school_years}
        assert {y: years[y].rentree for y in self.RENTREE} == self.RENTREE
        assert years["2017-2018"].rentree is None  # the 2017 summer is not in the file
        assert years["2026-2027"] == SchoolYear(
            "2026-2027", "vacances-scolaires-france", D(2026, 9, 1), D(2027, 7, 4)
        )

    def test_rentree_is_a_school_day_and_follows_the_summer(self) -> None:
        for zone in school_zones():
            for year in zone.school_years:
                if year.rentree is None or not zone.coverage[0] < year.rentree:
                    continue
                assert zone.days_off_on(year.rentree) is None, (zone.key, year)
                summer = zone.days_off_on(year.rentree - ONE_DAY)
                assert summer is not None, (zone.key, year)

    def test_summer_start(self) -> None:
        years = {y.year: y for y in school_zone("A").school_years}
        assert years["2024-2025"].summer_start == D(2025, 7, 6)  # classes end Saturday 5 July
        assert years["2025-2026"].summer_start == D(2026, 7, 5)  # from « Début des … »
        reunion = {y.year: y for y in school_zone("Réunion").school_years}
        assert reunion["2024-2025"].summer_start == D(2025, 7, 6)  # Vacances d'Hiver austral
        assert reunion["2025-2026"].rentree == D(2025, 8, 19)
        nc = {y.year: y for y in school_zone("Nouvelle Calédonie").school_years}
        assert nc["2024"].summer_start == D(2024, 12, 15)
        assert nc["2025"].rentree == D(2025, 2, 17)


class TestDaysOff:
    """days_off_on() and the periods themselves."""

    TOUSSAINT: ClassVar[Sequence[tuple[str, str, D]]] = [
        # (zone, school year, first day off)
        ("A", "2017-2018", D(2017, 10, 22)),
        ("B", "2020-2021", D(2020, 10, 18)),
        ("C", "2024-2025", D(2024, 10, 20)),
        ("A", "2025-2026", D(2025, 10, 19)),
        ("Corse", "2017-2018", D(2017, 10, 24)),
        ("Guadeloupe", "2021-2022", D(2021, 10, 28)),
        ("Guyane", "2020-2021", D(2020, 10, 25)),
        ("Martinique", "2023-2024", D(2023, 10, 22)),
        ("Mayotte", "2017-2018", D(2017, 10, 8)),
        ("Saint Pierre et Miquelon", "2020-2021", D(2020, 10, 22)),
    ]

    @pytest.mark.parametrize(("key", "year", "first"), TOUSSAINT)
    def test_toussaint_starts(self, key: str, year: str, first: D) -> None:
        [period] = [
            p
            for p in school_zone(key).days_off
            if p.name == "Vacances de la Toussaint" and p.school_year == year
        ]
        assert period.first == first
        assert school_zone(key).days_off_on(first - ONE_DAY) is None
        assert school_zone(key).days_off_on(first) is period

    def test_pont_de_l_ascension_2019(self) -> None:
        zone = school_zone("A")
        assert zone.days_off_on(D(2019, 5, 29)) is None  # Wednesday: a school day
        for day in days(D(2019, 5, 30), D(2019, 6, 2)):
            period = zone.days_off_on(day)
            assert period is not None
            assert period.name == "Pont de l'Ascension"
        assert zone.days_off_on(D(2019, 6, 3)) is None

    def test_summer_2026_end_comes_from_vacances_scolaires_france(self) -> None:
        period = school_zone("C").days_off_on(D(2026, 8, 15))
        assert period == SchoolDaysOff(
            "Vacances d'Été",
            D(2026, 7, 5),
            D(2026, 8, 31),
            "2025-2026",
            "vacances-scolaires-france",
        )
        assert D(2026, 8, 31) in period
        assert D(2026, 9, 1) not in period

    def test_overlapping_periods_give_the_first(self) -> None:
        period = school_zone("Guadeloupe").days_off_on(D(2022, 5, 26))
        assert period is not None
        assert period.name in {"Pentecôte", "Pont de l'Ascension"}
        assert period == min(
            (p for p in school_zone("Guadeloupe").days_off if D(2022, 5, 26) in p),
            key=lambda p: (p.first, p.last, p.name),
        )

    def test_days_off_on_a_hand_made_zone(self) -> None:
        long = SchoolDaysOff("Long", D(2024, 7, 1), D(2024, 8, 31), "2023-2024", "test")
        short = SchoolDaysOff("Short", D(2024, 7, 10), D(2024, 7, 11), "2023-2024", "test")
        zone = SchoolZone(
            key="T",
            label="Test",
            time_zone="Europe/Paris",
            coverage=(D(2024, 1, 1), D(2024, 12, 31)),
            school_years=(),
            days_off=(short, long),  # sorted on construction
        )
        assert zone.days_off == (long, short)
        assert zone.days_off_on(D(2024, 8, 20)) is long  # found behind a later start
        assert zone.days_off_on(D(2024, 7, 10)) is long
        assert zone.days_off_on(D(2024, 6, 30)) is None
        assert zone.days_off_on(D(2024, 9, 1)) is None
        assert hash(zone) == hash(attrs_copy(zone))


def attrs_copy(zone: SchoolZone) -> SchoolZone:
    return SchoolZone(
        zone.key, zone.label, zone.time_zone, zone.coverage, zone.school_years, zone.days_off
    )


class TestVersionAndNames:
    """school_data_version() and english_name()."""

    def test_version_is_the_file_fingerprint(self) -> None:
        digest = hashlib.sha256(calendar_data_path("fr-school-holidays.json").read_bytes())
        assert school_data_version() == digest.hexdigest()[:12]
        assert school_data_version() == school_data_version()

    @pytest.mark.parametrize(
        ("french", "english"),
        [
            ("Vacances de la Toussaint", "All Saints' holidays"),
            ("Vacances de Noël", "Christmas holidays"),
            ("Vacances d'Hiver", "Winter holidays"),
            ("vacances d’hiver", "Winter holidays"),
            ("Vacances de Printemps", "Spring holidays"),
            ("Vacances d'Été", "Summer holidays"),
            ("Grandes Vacances", "Summer holidays"),
            ("Pont de l'Ascension", "Ascension bridge holiday"),
            ("Vacances de Carnaval", "Carnival holidays"),
            ("Vacances de Pâques", "Easter holidays"),
            ("Vacances d'Hiver austral", "Southern winter holidays"),
            ("Vacances 2ème période", "Term 2 holidays"),
            ("Vacances après 1ère période", "Term 1 holidays"),
            ("Abolition de l’esclavage", "Abolition of Slavery Day"),
            ("Début des Vacances d'Été", "Start of the summer holidays"),
            ("Début des Vacances de Noël", "Start of the Christmas holidays"),
            ("Fête de la Bière", "Fête de la Bière"),
        ],
    )
    def test_english_name(self, french: str, english: str) -> None:
        assert english_name(french) == english

    def test_every_shipped_name_has_an_english_name(self) -> None:
        names = {p.name for z in school_zones() for p in z.days_off}
        assert {n for n in names if english_name(n) == n} == set()
