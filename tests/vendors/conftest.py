"""The fake vendor (tests/vendors/fake.py), registered for each test here."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Iterator

import pytest

from reconciler import vendors


def _fake() -> ModuleType:
    name = "reconciler_test_fake_vendor"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("fake.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def fake() -> Iterator[ModuleType]:
    """The fake vendor's module, its vendor registered and its shops empty."""
    module = _fake()
    module.SHOPS.clear()
    vendors.register(module.VENDOR)
    try:
        yield module
    finally:
        vendors.unregister(module.VENDOR)
