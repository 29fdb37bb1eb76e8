"""The `push` key of git-backed hubs: accepted by git, github and huggingface, refused elsewhere."""

from __future__ import annotations

import pytest

from ainimal_zookeeper.config import config_from_dict
from ainimal_zookeeper.config.python_api import GitModelProvider
from ainimal_zookeeper.errors import ConfigError


def _hub(tmp_path, **entry):
    return config_from_dict({"model_hubs": [entry]}, base_dir=tmp_path).model_hubs[0]


@pytest.mark.parametrize(
    "entry",
    [
        {"type": "git", "url": "file:///srv/zoo.git"},
        {"type": "github", "owner": "my-org"},
        {"type": "huggingface", "account": "me"},
    ],
)
def test_git_backed_hubs_take_push_and_it_is_off_unless_set(tmp_path, entry):
    from ainimal_zookeeper.config.hub_settings import hub_settings

    assert hub_settings({**entry}).push is False  # type: ignore[attr-defined]
    hub = _hub(tmp_path, **entry, push=True)
    assert hub.model_extra and hub.model_extra["push"] is True


def test_a_bucket_hub_refuses_push_naming_the_key(tmp_path):
    with pytest.raises((ConfigError, ValueError), match="push"):
        _hub(tmp_path, type="gcloud_bucket", bucket="b", push=True)


def test_the_python_form_passes_push_through():
    assert GitModelProvider("file:///srv/zoo.git", push=True).to_dict()["push"] is True
