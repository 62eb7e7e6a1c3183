"""Tests for the school-calendar builder (sla_engine._school_build).

Each trap of the official dataset (see /work/shared/data/README.md and
calendars/README.md) has a small CSV or API-JSON snippet written here, and
the shipped data file must be exactly what the builder makes of the
official export.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sla_engine._errors import CalendarDataError
from sla_engine._school_build import BuildResult, _parse_day, build, main, render

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "calendars" / "fr-school-holidays.json"
OFFICIAL_CSV = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "fr-en-calendrier-scolaire.csv"
)
HEADER = "Description;Population;Date de début;Date de fin;Académies;Zones;annee_scolaire"
PARIS = ZoneInfo("Europe/Paris")
D = dt.date


def stamp(day: str) -> str:
    """A day as the CSV writes it: a Paris midnight with its offset."""
    return dt.datetime.combine(D.fromisoformat(day), dt.time(0), PARIS).isoformat()


def row(
    description: str,
    start: str,
    end: str,
    *,
    zone: str = "Zone A",
    year: str = "2018-2019",
    population: str = "-",
    academy: str = "Lyon",
) -> str:
    return ";".join([description, population, stamp(start), stamp(end), academy, zone, year])


def write_csv(tmp_path: Path, *rows: str, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_text("\ufeff" + "\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def write_json(tmp_path: Path, records: list[dict[str, Any]], name: str = "export.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def record(
    description: str,
    start: str,
    end: str,
    *,
    zone: str = "Zone A",
    year: str = "2025-2026",
    population: str = "-",
    location: str = "Lyon",
) -> dict[str, Any]:
    return {
        "description": description,
        "population": population,
        "start_date": start,
        "end_date": end,
        "location": location,
        "zones": zone,
        "annee_scolaire": year,
    }


def days_off(result: BuildResult, zone: str) -> list[tuple[str, D, D]]:
    return [
        (p["name"], D.fromisoformat(p["first"]), D.fromisoformat(p["last"]))
        for p in result.document["zones"][zone]["days_off"]
    ]


def coverage(result: BuildResult, zone: str) -> tuple[D, D]:
    cover = result.document["zones"][zone]["coverage"]
    return D.fromisoformat(cover["first"]), D.fromisoformat(cover["last"])


def school_years(result: BuildResult, zone: str) -> dict[str, dict[str, Any]]:
    return {y["year"]: y for y in result.document["zones"][zone]["school_years"]}


# A plausible zone A school year 2018-2019, and the summer that ends it.
YEAR_2018 = (
    row("Vacances de la Toussaint", "2018-10-20", "2018-11-05"),
    row("Vacances de Noël", "2018-12-22", "2019-01-07"),
    row("Vacances d'Été", "2019-07-06", "2019-09-02", population="Élèves"),
)


class TestDeduplication:
    """One row per académie: the zone's dates, repeated."""

    def test_academie_rows_become_one_period(self, tmp_path: Path) -> None:
        path = write_csv(
            tmp_path,
            *(row("Vacances de Noël", "2018-12-22", "2019-01-07", academy=a) for a in "XYZ"),
        )
        result = build([path])
        assert result.rejects == ()
        assert days_off(result, "A") == [("Vacances de Noël", D(2018, 12, 23), D(2019, 1, 6))]

    def test_academies_that_disagree_are_reported_not_picked(self, tmp_path: Path) -> None:
        path = write_csv(
            tmp_path,
            row("Vacances de Noël", "2018-12-22", "2019-01-07", academy="Lyon"),
            row("Vacances de Noël", "2018-12-22", "2019-01-08", academy="Grenoble"),
        )
        result = build([path])
        [error] = result.rejects
        assert (error.source, error.line, error.field) == (str(path), 3, "Date de début")
        assert "Lyon" in error.message
        assert "Grenoble" in error.message
        assert result.document["zones"] == {} or not days_off(result, "A")

    def test_an_academie_without_the_row_is_not_a_disagreement(self, tmp_path: Path) -> None:
        # Caen and Rouen became Normandie during 2019-2020: their rows stop.
        path = write_csv(
            tmp_path,
            row("Vacances de Noël", "2019-12-21", "2020-01-06", year="2019-2020", academy="Caen"),
            row("Vacances de Noël", "2019-12-21", "2020-01-06", year="2019-2020", academy="X"),
            row("Vacances d'Hiver", "2020-02-08", "2020-02-24", year="2019-2020", academy="X"),
        )
        assert build([path]).rejects == ()


class TestStartEndConvention:
    """Start = the day classes end, end = the morning classes resume."""

    def test_pont_de_l_ascension_2019_starts_after_wednesday(self, tmp_path: Path) -> None:
        path = write_csv(tmp_path, row("Pont de l'Ascension", "2019-05-29", "2019-06-03"))
        [(_, first, last)] = days_off(build([path]), "A")
        assert D(2019, 5, 29).weekday() == 2  # Wednesday 29 May is a school day
        assert (first, last) == (D(2019, 5, 30), D(2019, 6, 2))
        assert (first.weekday(), last.weekday()) == (3, 6)  # Thursday to Sunday

    def test_saturday_to_monday_holiday(self, tmp_path: Path) -> None:
        result = build([write_csv(tmp_path, *YEAR_2018)])
        assert ("Vacances de la Toussaint", D(2018, 10, 21), D(2018, 11, 4)) in days_off(
            result, "A"
        )

    @pytest.mark.parametrize(
        ("description", "zone", "day", "year"),
        [
            ("Mi-carême", "Guadeloupe", "2020-03-19", "2019-2020"),
            ("Abolition de l’esclavage", "Guadeloupe", "2022-05-27", "2021-2022"),
            ("Journée banalisée", "Corse", "2023-12-08", "2023-2024"),
            ("Journée vaquée", "Corse", "2023-09-08", "2023-2024"),
            ("Lundi de Pentecôte", "Corse", "2024-05-20", "2023-2024"),
            ("Pentecôte", "Guadeloupe", "2023-05-29", "2022-2023"),
            ("Pont", "Martinique", "2021-05-22", "2020-2021"),
        ],
    )
    def test_start_equal_to_end_is_that_single_day(
        self, tmp_path: Path, description: str, zone: str, day: str, year: str
    ) -> None:
        path = write_csv(tmp_path, row(description, day, day, zone=zone, year=year))
        [entry] = build([path]).document["zones"][zone]["days_off"]
        assert (entry["first"], entry["last"], entry["reading"]) == (day, day, "single-day")

    def test_a_row_the_convention_would_empty_names_its_start(self, tmp_path: Path) -> None:
        # « Semaine en mai » Friday 10 May 2024 to Saturday 11 May: the
        # convention leaves no day at all; the day meant is the Friday after
        # Ascension.  A Friday-to-Monday bridge keeps its Friday likewise.
        path = write_csv(
            tmp_path,
            row(
                "Semaine en mai",
                "2024-05-10",
                "2024-05-11",
                zone="Guadeloupe",
                year="2023-2024",
                population="Guadeloupe, Saint-Martin & Saint-Barthélémy",
            ),
            row(
                "Pont de l'Ascension",
                "2021-05-14",
                "2021-05-17",
                zone="Martinique",
                year="2020-2021",
            ),
        )
        result = build([path])
        assert days_off(result, "Guadeloupe") == [
            ("Semaine en mai", D(2024, 5, 10), D(2024, 5, 10))
        ]
        assert days_off(result, "Martinique") == [
            ("Pont de l'Ascension", D(2021, 5, 14), D(2021, 5, 16))
        ]
        readings = {p["reading"] for z in result.document["zones"].values() for p in z["days_off"]}
        assert readings == {"start-included"}


class TestSummerMarkers:
    """« Début des Vacances d'Été »: the summer starts the next day, its end is unknown."""

    def test_marker_sets_summer_start_and_ends_coverage(self, tmp_path: Path) -> None:
        path = write_csv(
            tmp_path,
            row(
                "Vacances d'Été", "2025-07-05", "2025-09-01", year="2024-2025", population="Élèves"
            ),
            row("Vacances de la Toussaint", "2025-10-18", "2025-11-03", year="2025-2026"),
            row("Début des Vacances d'Été", "2026-07-04", "2026-07-04", year="2025-2026"),
        )
        result = build([path])
        year = school_years(result, "A")["2025-2026"]
        assert (year["rentree"], year["summer_start"]) == ("2025-09-01", "2026-07-05")
        assert coverage(result, "A") == (D(2025, 7, 6), D(2026, 7, 4))
        # No period is invented for the summer whose end is unknown.
        assert [name for name, _, _ in days_off(result, "A")] == [
            "Vacances d'Été",
            "Vacances de la Toussaint",
        ]

    def test_other_debut_markers(self, tmp_path: Path) -> None:
        path = write_csv(
            tmp_path,
            row(
                "Vacances après 1ère période",
                "2025-10-11",
                "2025-10-27",
                zone="Réunion",
                year="2025-2026",
            ),
            row(
                "Début des Vacances d'Hiver austral",
                "2026-07-04",
                "2026-07-04",
                zone="Réunion",
                year="2025-2026",
            ),
        )
        result = build([path])
        assert school_years(result, "Réunion")["2025-2026"]["summer_start"] == "2026-07-05"
        assert coverage(result, "Réunion")[1] == D(2026, 7, 4)


class TestPopulations:
    """Days off are primary-school pupils' days off for the whole zone."""

    def test_teachers_rows_are_ignored(self, tmp_path: Path) -> None:
        path = write_csv(
            tmp_path,
            *YEAR_2018[:2],
            row("Vacances d'Été", "2019-07-06", "2019-08-30", population="Enseignants"),
            row("Vacances d'Été", "2019-07-06", "2019-09-02", population="Élèves"),
            row("Vacances de la Toussaint", "2019-10-19", "2019-11-04", year="2019-2020"),
            row(
                "Journée de pré-rentrée",
                "2019-08-30",
                "2019-08-30",
                year="2019-2020",
                population="Enseignants",
            ),
        )
        result = build([path])
        assert result.rejects == ()
        assert school_years(result, "A")["2019-2020"]["rentree"] == "2019-09-02"
        names = [name for name, _, _ in days_off(result, "A")]
        assert names.count("Vacances d'Été") == 1
        assert "Journée de pré-rentrée" not in names

    def test_part_of_a_zone_alone_does_not_count(self, tmp_path: Path) -> None:
        guadeloupe = {"zone": "Guadeloupe", "year": "2019-2020"}
        path = write_csv(
            tmp_path,
            row(
                "Abolition de l’esclavage",
                "2019-10-09",
                "2019-10-09",
                population="Saint-Barthélémy",
                **guadeloupe,
            ),
            row(
                "Abolition de l’esclavage",
                "2020-05-28",
                "2020-05-28",
                population="Saint Martin",
                **guadeloupe,
            ),
            row(
                "Mi-carême",
                "2020-03-19",
                "2020-03-19",
                population="Guadeloupe & Saint-Martin",
                **guadeloupe,
            ),
            row(
                "Abolition de l’esclavage",
                "2020-05-27",
                "2020-05-27",
                population="Guadeloupe sauf Saint-Martin",
                **guadeloupe,
            ),
        )
        result = build([path])
        assert result.rejects == ()
        assert days_off(result, "Guadeloupe") == [
            ("Mi-carême", D(2020, 3, 19), D(2020, 3, 19)),
            ("Abolition de l’esclavage", D(2020, 5, 27), D(2020, 5, 27)),
        ]

    def test_primary_pupils_when_the_file_splits_finer(self, tmp_path: Path) -> None:
        polynesie = {"zone": "Polynésie", "year": "2018-2019"}
        path = write_csv(
            tmp_path,
            row("Vacances de Noël", "2018-12-15", "2019-01-14", **polynesie),
            row(
                "Grandes Vacances",
                "2019-07-04",
                "2019-08-14",
                population="Élèves du premier degré",
                **polynesie,
            ),
            row(
                "Grandes Vacances",
                "2019-07-06",
                "2019-08-13",
                population="Élèves du second degré",
                **polynesie,
            ),
            row(
                "Grandes Vacances",
                "2019-07-04",
                "2019-08-12",
                population="Enseignants du premier degré",
                **polynesie,
            ),
            row(
                "Vacances de Septembre",
                "2019-09-14",
                "2019-09-23",
                zone="Polynésie",
                year="2019-2020",
            ),
        )
        result = build([path])
        assert result.rejects == ()
        assert ("Grandes Vacances", D(2019, 7, 5), D(2019, 8, 13)) in days_off(result, "Polynésie")
        assert school_years(result, "Polynésie")["2019-2020"]["rentree"] == "2019-08-14"

    def test_unknown_population_is_rejected(self, tmp_path: Path) -> None:
        path = write_csv(
            tmp_path, row("Vacances de Noël", "2018-12-22", "2019-01-07", population="Marquises")
        )
        [error] = build([path]).rejects
        assert (error.line, error.field) == (2, "Population")


class TestMalformedRows:
    """Bad rows are reported with file, line and field, all of them, never loaded."""

    def test_end_before_start(self, tmp_path: Path) -> None:
        path = write_csv(
            tmp_path,
            *YEAR_2018[:2],
            row("Vacances d'Hiver", "2019-02-16", "2019-02-04"),
            row("Vacances de la Toussaint", "2019-10-19", "2019-11-04", year="2019-2020"),
        )
        result = build([path])
        [error] = result.rejects
        assert isinstance(error, CalendarDataError)
        assert (error.source, error.line, error.field) == (str(path), 4, "Date de fin")
        assert "before it starts" in error.message
        assert str(error).startswith(f"{path}:4: Date de fin: ")
        assert "Vacances d'Hiver" not in [name for name, _, _ in days_off(result, "A")]

    @pytest.mark.parametrize("text", ["2018-13-45T00:00:00+02:00", "demain", "20/10/2018", ""])
    def test_unreadable_date(self, tmp_path: Path, text: str) -> None:
        line = ";".join(
            ["Vacances de Noël", "-", text, stamp("2019-01-07"), "Lyon", "Zone A", "2018-2019"]
        )
        path = write_csv(tmp_path, YEAR_2018[0], line)
        [error] = build([path]).rejects
        assert (error.source, error.line, error.field) == (str(path), 3, "Date de début")

    def test_unknown_zone(self, tmp_path: Path) -> None:
        path = write_csv(
            tmp_path, row("Vacances de Noël", "2018-12-22", "2019-01-07", zone="Zone D")
        )
        [error] = build([path]).rejects
        assert (error.line, error.field) == (2, "Zones")
        assert "Zone D" in error.message
        assert "Wallis et Futuna" in error.message

    def test_date_outside_its_school_year(self, tmp_path: Path) -> None:
        path = write_csv(
            tmp_path, row("Vacances de Noël", "2018-12-22", "2019-01-07", year="2020-2021")
        )
        errors = build([path]).rejects
        assert {e.field for e in errors} == {"Date de début", "Date de fin"}

    def test_all_problems_are_collected(self, tmp_path: Path) -> None:
        path = write_csv(
            tmp_path,
            row("Vacances de Noël", "2018-12-22", "2018-12-20"),
            row("Vacances d'Hiver", "2019-02-16", "2019-03-04", zone="Atlantide"),
            row("Vacances de Printemps", "2019-04-13", "2019-04-29", year="2018/19"),
        )
        errors = build([path]).rejects
        assert [(e.line, e.field) for e in errors] == [
            (2, "Date de fin"),
            (3, "Zones"),
            (4, "annee_scolaire"),
        ]

    def test_main_fails_and_writes_nothing(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write_csv(tmp_path, *YEAR_2018, row("Vacances d'Hiver", "2019-02-16", "2019-02-04"))
        output = tmp_path / "out.json"
        assert main(["--source", str(path), "--output", str(output)]) == 1
        assert not output.exists()
        assert f"{path}:5: Date de fin:" in capsys.readouterr().err

    def test_allow_rejects_leaves_the_year_out_of_coverage(self, tmp_path: Path) -> None:
        path = write_csv(
            tmp_path,
            row(
                "Vacances d'Été", "2018-07-07", "2018-09-03", year="2017-2018", population="Élèves"
            ),
            *YEAR_2018,
            row("Vacances d'Hiver", "2019-02-16", "2019-02-04"),
            row("Vacances de la Toussaint", "2019-10-19", "2019-11-04", year="2019-2020"),
            row(
                "Vacances d'Été", "2020-07-04", "2020-09-01", year="2019-2020", population="Élèves"
            ),
        )
        output = tmp_path / "out.json"
        assert main(["--source", str(path), "--output", str(output), "--allow-rejects"]) == 0
        cover = json.loads(output.read_text(encoding="utf-8"))["zones"]["A"]["coverage"]
        # 2018-2019 lost a row: its days are not claimed as known.
        assert cover == {"first": "2019-09-02", "last": "2020-08-31"}


class TestApiJson:
    """The live API's JSON export writes each day as a UTC instant."""

    def test_utc_instants_are_days_in_the_zone(self, tmp_path: Path) -> None:
        path = write_json(
            tmp_path,
            [
                # Paris midnights of 18 October and 3 November 2025.
                record(
                    "Vacances de la Toussaint",
                    "2025-10-17T22:00:00+00:00",
                    "2025-11-02T23:00:00+00:00",
                ),
                # Guadeloupe: Paris midnights (as the ministry writes them)...
                record(
                    "Vacances de la Toussaint",
                    "2025-10-17T22:00:00+00:00",
                    "2025-11-02T23:00:00+00:00",
                    zone="Guadeloupe",
                ),
                # ... or Guadeloupe midnights (04:00 UTC): the same days.
                record(
                    "Vacances de Noël",
                    "2025-12-20T04:00:00+00:00",
                    "2026-01-05T04:00:00+00:00",
                    zone="Guadeloupe",
                ),
                # Tahiti is UTC-10: 22:00 UTC is noon of the day before there.
                record(
                    "Vacances de Novembre",
                    "2025-10-24T22:00:00+00:00",
                    "2025-11-09T23:00:00+00:00",
                    zone="Polynésie",
                ),
                # Nouméa midnight (UTC+11), southern-hemisphere year.
                record(
                    "Vacances 1ère période",
                    "2025-04-04T13:00:00+00:00",
                    "2025-04-19T13:00:00+00:00",
                    zone="Nouvelle Calédonie",
                    year="2025",
                ),
            ],
        )
        result = build([path])
        assert result.rejects == ()
        assert days_off(result, "A") == [
            ("Vacances de la Toussaint", D(2025, 10, 19), D(2025, 11, 2))
        ]
        assert days_off(result, "Guadeloupe") == [
            ("Vacances de la Toussaint", D(2025, 10, 19), D(2025, 11, 2)),
            ("Vacances de Noël", D(2025, 12, 21), D(2026, 1, 4)),
        ]
        assert days_off(result, "Polynésie") == [
            ("Vacances de Novembre", D(2025, 10, 26), D(2025, 11, 9))
        ]
        assert days_off(result, "Nouvelle Calédonie") == [
            ("Vacances 1ère période", D(2025, 4, 6), D(2025, 4, 19))
        ]

    def test_csv_and_json_of_the_same_data_agree(self, tmp_path: Path) -> None:
        csv_path = write_csv(
            tmp_path, row("Vacances de la Toussaint", "2025-10-18", "2025-11-03", year="2025-2026")
        )
        json_path = write_json(
            tmp_path,
            [
                record(
                    "Vacances de la Toussaint",
                    "2025-10-17T22:00:00+00:00",
                    "2025-11-02T23:00:00+00:00",
                )
            ],
        )
        both = build([csv_path, json_path])
        assert both.rejects == ()
        assert (
            days_off(both, "A")
            == days_off(build([csv_path]), "A")
            == days_off(build([json_path]), "A")
        )

    def test_instant_that_is_no_midnight_is_rejected_with_its_line(self, tmp_path: Path) -> None:
        path = write_json(
            tmp_path,
            [
                record(
                    "Vacances de la Toussaint",
                    "2025-10-17T22:00:00+00:00",
                    "2025-11-02T23:00:00+00:00",
                ),
                record(
                    "Vacances de Noël", "2025-12-20T05:00:00+00:00", "2026-01-04T23:00:00+00:00"
                ),
            ],
        )
        [error] = build([path]).rejects
        text = path.read_text(encoding="utf-8").splitlines()
        assert text[error.line - 1].strip() == "{"
        assert "Noël" in text[error.line]
        assert error.field == "start_date"
        assert "record 2" in error.message

    @pytest.mark.parametrize(
        ("text", "zone", "day"),
        [
            ("2025-10-18T00:00:00+02:00", PARIS.key, D(2025, 10, 18)),
            ("2025-10-17T22:00:00+00:00", PARIS.key, D(2025, 10, 18)),
            ("2025-10-17T22:00:00Z", PARIS.key, D(2025, 10, 18)),
            ("2025-07-04T00:00:00+02:00", "America/Guadeloupe", D(2025, 7, 4)),
            ("2025-07-03T22:00:00+00:00", "America/Guadeloupe", D(2025, 7, 4)),
            ("2025-07-04T04:00:00+00:00", "America/Guadeloupe", D(2025, 7, 4)),
            ("2025-12-19T13:00:00+00:00", "Pacific/Noumea", D(2025, 12, 20)),
            ("2025-10-18", "Pacific/Tahiti", D(2025, 10, 18)),
        ],
    )
    def test_parse_day(self, text: str, zone: str, day: D) -> None:
        assert _parse_day(text, zone) == day


class TestSchoolYears:
    """Rentrée, summer start and coverage, north and south."""

    def test_southern_hemisphere_years(self, tmp_path: Path) -> None:
        nc = {"zone": "Nouvelle Calédonie"}
        path = write_csv(
            tmp_path,
            row("Vacances 4ème période", "2024-10-05", "2024-10-20", year="2024", **nc),
            row(
                "Vacances d'Été",
                "2024-12-14",
                "2025-02-14",
                year="2024",
                population="Enseignants",
                **nc,
            ),
            row(
                "Vacances d'Été", "2024-12-14", "2025-02-17", year="2024", population="Élèves", **nc
            ),
            row("Vacances 1ère période", "2025-04-05", "2025-04-20", year="2025", **nc),
            row("Début des Vacances d'Été", "2025-12-20", "2025-12-20", year="2025", **nc),
        )
        result = build([path])
        years = school_years(result, "Nouvelle Calédonie")
        assert list(years) == ["2024", "2025"]
        assert years["2024"]["summer_start"] == "2024-12-15"
        assert years["2025"]["rentree"] == "2025-02-17"
        assert coverage(result, "Nouvelle Calédonie") == (D(2024, 10, 6), D(2025, 12, 20))
        assert ("Vacances d'Été", D(2024, 12, 15), D(2025, 2, 16)) in days_off(
            result, "Nouvelle Calédonie"
        )

    def test_coverage_stops_at_a_gap_and_keeps_the_latest_span(self, tmp_path: Path) -> None:
        path = write_csv(
            tmp_path,
            row(
                "Vacances d'Été", "2016-07-09", "2016-09-01", year="2015-2016", population="Élèves"
            ),
            row("Vacances de Noël", "2016-12-17", "2017-01-03", year="2016-2017"),
            # 2017-2018 missing: nothing is known from the 2018 rentrée on...
            *YEAR_2018,
            row("Vacances de Noël", "2019-12-21", "2020-01-06", year="2019-2020"),
        )
        result = build([path])
        # ...but 2018-2019 and 2019-2020 are known: the span starts at the
        # first day the data determines (the Toussaint 2018 holidays; the
        # 2018 rentrée is not in the data) and ends after the last holiday of
        # 2019-2020, whose summer is not published.
        assert coverage(result, "A") == (D(2018, 10, 21), D(2020, 1, 5))
        assert school_years(result, "A")["2016-2017"]["rentree"] == "2016-09-01"


class TestVacancesScolairesFrance:
    """Zones A, B and C beyond the official data, from the package's data file."""

    @staticmethod
    def vsf_file(tmp_path: Path, holidays: list[tuple[str, str, str]]) -> Path:
        days: dict[D, str] = {}
        for name, first, last in holidays:
            day = D.fromisoformat(first)
            while day <= D.fromisoformat(last):
                days[day] = name
                day += dt.timedelta(days=1)
        lines = ["date,vacances_zone_a,vacances_zone_b,vacances_zone_c,nom_vacances"]
        day = D(2026, 1, 1)
        while day <= D(2028, 12, 31):
            name = days.get(day, "")
            flag = str(bool(name))
            lines.append(f"{day},{flag},{flag},{flag},{name}")
            day += dt.timedelta(days=1)
        path = tmp_path / "vsf.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def test_extension(self, tmp_path: Path) -> None:
        official = write_csv(
            tmp_path,
            *(
                row(description, start, end, zone=f"Zone {zone}", year="2025-2026")
                for zone in "ABC"
                for description, start, end in [
                    ("Vacances de Printemps", "2026-04-04", "2026-04-20"),
                    ("Début des Vacances d'Été", "2026-07-04", "2026-07-04"),
                ]
            ),
        )
        vsf = self.vsf_file(
            tmp_path,
            [
                ("Vacances de printemps", "2026-04-04", "2026-04-19"),
                ("Vacances d'été", "2026-07-04", "2026-08-31"),
                ("Vacances de la Toussaint", "2026-10-17", "2026-11-01"),
                ("Pont de l'Ascension", "2027-05-06", "2027-05-09"),
                ("Vacances d'été", "2027-07-03", "2027-08-31"),
                ("Vacances de la Toussaint", "2027-10-23", "2027-11-07"),
                ("Vacances d'été", "2028-07-04", "2028-08-31"),
            ],
        )
        result = build(
            [official], with_vacances_scolaires_france=True, vacances_scolaires_france_data=vsf
        )
        assert result.rejects == ()
        entries = {(p["name"], p["first"]): p for p in result.document["zones"]["B"]["days_off"]}
        summer = entries[("Vacances d'Été", "2026-07-05")]
        assert (summer["last"], summer["source"], summer["reading"]) == (
            "2026-08-31",
            "vacances-scolaires-france",
            "official-start-vsf-end",
        )
        # The Saturday the package counts is where classes end: dropped.
        assert ("Vacances de la Toussaint", "2026-10-18") in entries
        assert ("Pont de l'Ascension", "2027-05-06") in entries
        years = school_years(result, "B")
        assert years["2026-2027"] == {
            "year": "2026-2027",
            "source": "vacances-scolaires-france",
            "rentree": "2026-09-01",
            "summer_start": "2027-07-04",
        }
        # The package has no school year after 2027-2028: the return date
        # of its summer 2028 is unknown, so is everything after it starts.
        assert years["2027-2028"]["summer_start"] == "2028-07-04"
        assert coverage(result, "B") == (D(2026, 4, 5), D(2028, 7, 3))
        assert not any(p["first"].startswith("2028-07") for p in entries.values())
        [source] = [s for s in result.document["sources"] if s["id"] == "vacances-scolaires-france"]
        assert "Pont de l'Ascension" in source["note"]
        assert "2026-2027 to 2027-2028" in source["note"]
        assert days_off(result, "A") == days_off(result, "B") == days_off(result, "C")


class TestDeterminism:
    """Same inputs, same bytes."""

    def test_rebuild_and_row_order_do_not_change_the_bytes(self, tmp_path: Path) -> None:
        rows = [*YEAR_2018, row("Vacances de Noël", "2018-12-22", "2019-01-07", academy="Z")]
        forward = write_csv(tmp_path, *rows)
        (tmp_path / "reversed").mkdir()
        backward = write_csv(tmp_path / "reversed", *reversed(rows))
        first = render(build([forward]).document)
        assert render(build([forward]).document) == first
        document = build([backward]).document
        # Only the file's checksum may differ.
        document["sources"][0]["sha256"] = build([forward]).document["sources"][0]["sha256"]
        assert render(document) == first
        assert b"T00:00" not in first
        assert first.endswith(b"\n")

    def test_shipped_file_is_the_build_of_the_official_export(self, tmp_path: Path) -> None:
        if not OFFICIAL_CSV.is_file():
            pytest.skip(f"the official export is not at {OFFICIAL_CSV}: cannot rebuild the data")
        output = tmp_path / "fr-school-holidays.json"
        argv = [
            "--source",
            str(OFFICIAL_CSV),
            "--with-vacances-scolaires-france",
            "--output",
            str(output),
        ]
        assert main(argv) == 0
        assert output.read_bytes() == SHIPPED.read_bytes()
