"""Tools for testing code built on servicekit, and for testing stores written for it.

- `StoreContract`: the test suite every `Store` must pass. Subclass it in a
  pytest test module and implement `make_store`.
- `servicekit.testing.strategies`: hypothesis strategies for agents, actors,
  channels, moments, commands and valid case histories.

This package needs the ``testing`` extra (pytest and hypothesis):
``pip install 'servicekit[testing]'``.
"""

from servicekit.testing import strategies
from servicekit.testing.store_contract import StoreContract

__all__ = ["StoreContract", "strategies"]
