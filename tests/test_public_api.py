"""The public API is exactly what sla_engine.__all__ names, and each name is documented."""

from __future__ import annotations

import inspect

import sla_engine


def test_all_is_sorted_and_complete() -> None:
    assert list(sla_engine.__all__) == sorted(sla_engine.__all__)
    public = {
        name
        for name, value in vars(sla_engine).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public == set(sla_engine.__all__)


def test_every_public_name_has_a_docstring() -> None:
    for name in sla_engine.__all__:
        value = getattr(sla_engine, name)
        assert inspect.getdoc(value), f"sla_engine.{name} has no docstring"


def test_errors_share_one_base() -> None:
    errors = [getattr(sla_engine, n) for n in sla_engine.__all__ if n.endswith("Error")]
    assert len(errors) >= 7
    for error in errors:
        assert issubclass(error, sla_engine.SlaEngineError), error
