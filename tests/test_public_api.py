"""The public surface: every exported name exists, and every class and function is documented."""

from __future__ import annotations

import inspect

import servicekit
import servicekit.testing


def test_every_exported_name_exists_and_is_documented() -> None:
    for module in (servicekit, servicekit.testing):
        assert sorted(set(module.__all__)) == sorted(module.__all__)
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value) or inspect.isfunction(value):
                assert inspect.getdoc(value), f"{module.__name__}.{name} has no docstring"


def test_public_methods_are_documented() -> None:
    for name in servicekit.__all__:
        value = getattr(servicekit, name)
        if not inspect.isclass(value):
            continue
        for attribute, member in vars(value).items():
            if attribute.startswith("_") or not inspect.isfunction(member):
                continue
            assert inspect.getdoc(member), f"{name}.{attribute} has no docstring"
