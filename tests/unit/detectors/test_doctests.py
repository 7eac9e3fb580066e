"""Run the detectors' docstring examples as part of the ordinary test run."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import streamdrift.detectors

MODULES = sorted(
    m.name for m in pkgutil.iter_modules(streamdrift.detectors.__path__, "streamdrift.detectors.")
)


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name: str) -> None:
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_every_public_class_has_an_example() -> None:
    for name in streamdrift.detectors.__all__:
        obj = getattr(streamdrift.detectors, name)
        if isinstance(obj, type):
            assert ">>>" in (obj.__doc__ or ""), name
