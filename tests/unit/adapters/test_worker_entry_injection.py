"""The local compute provider runs the worker entry point the composition root names; it imports no worker code."""

from __future__ import annotations

from importlib import import_module

import pytest

from ainimal_zookeeper import worker_main
from ainimal_zookeeper.adapters.local.process_compute import LocalProcessCompute
from ainimal_zookeeper.bootstrap.ports import WORKER_ENTRY


def test_the_composition_root_names_the_worker_entry_point_that_exists():
    module, _, function = WORKER_ENTRY.partition(":")
    assert getattr(import_module(module), function) is worker_main.run_worker_spec


@pytest.mark.parametrize("entry", ["", "ainimal_zookeeper.worker_main", "module:", ":run", "m:not a name"])
def test_a_worker_entry_not_of_the_form_module_colon_function_is_refused_before_anything_starts(entry):
    with pytest.raises(ValueError, match="worker_entry must be 'module:function'"):
        LocalProcessCompute(entry)
