"""Session-wide emulators for the gcp adapters' tests: started on free ports, stopped at the end.

Each fixture sets its emulator variable in os.environ (the Google client libraries read it)
and a test project id; see local_emulator/emulators.py for how each is started.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "local_emulator"))
import emulators  # the no-Docker twin, imported from its folder

PROJECT = "ainimal-zookeeper-test"


def _serve(start) -> Iterator[dict[str, str]]:
    emulator = start()
    saved = {key: os.environ.get(key) for key in [*emulator.env, "GOOGLE_CLOUD_PROJECT"]}
    os.environ.update(emulator.env)
    os.environ["GOOGLE_CLOUD_PROJECT"] = PROJECT
    try:
        yield dict(emulator.env)
    finally:
        emulator.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def firestore_emulator() -> Iterator[dict[str, str]]:
    """The Firestore emulator (FIRESTORE_EMULATOR_HOST set while it runs)."""
    yield from _serve(emulators.start_firestore)


@pytest.fixture(scope="session")
def pubsub_emulator() -> Iterator[dict[str, str]]:
    """The Pub/Sub emulator (PUBSUB_EMULATOR_HOST set while it runs)."""
    yield from _serve(emulators.start_pubsub)


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[dict[str, str]]:
    """fake-gcs-server (STORAGE_EMULATOR_HOST set while it runs)."""
    yield from _serve(emulators.start_gcs)


@pytest.fixture
def unique() -> str:
    """A short unique suffix, so tests sharing an emulator never see each other's data."""
    return uuid.uuid4().hex[:10]
