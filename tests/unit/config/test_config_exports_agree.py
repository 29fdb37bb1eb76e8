"""The config's Python form is offered in three places that must name the same objects: its own
module's `__all__`, the `ainimal_zookeeper.config` package, and the root package (which imports
it lazily, so a worker never loads it, and therefore has to list the names itself)."""

from __future__ import annotations

import ainimal_zookeeper
from ainimal_zookeeper import config
from ainimal_zookeeper.config import python_api

SDK_NAMES = {"RUN_MODES", "AInimal", "Env", "Timestep"}


def test_the_root_package_offers_exactly_the_python_forms_names_besides_the_sdk():
    assert set(ainimal_zookeeper.__all__) - SDK_NAMES == set(python_api.__all__)


def test_every_name_of_the_python_form_resolves_to_the_same_object_everywhere():
    for name in python_api.__all__:
        assert getattr(ainimal_zookeeper, name) is getattr(python_api, name), name
        assert getattr(config, name) is getattr(python_api, name), name
        assert name in config.__all__, name
