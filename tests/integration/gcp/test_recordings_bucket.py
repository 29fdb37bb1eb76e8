"""Recordings go to their own bucket on both sides, as wired from the config against fake-gcs-server."""

from __future__ import annotations

import os

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from ainimal_zookeeper.adapters.gcp.gcs_blobs import GcsBlobStore
from ainimal_zookeeper.adapters.routed_blobs import PrefixRoutedBlobStore
from ainimal_zookeeper.bootstrap import control_plane_ports, worker_ports
from ainimal_zookeeper.config import config_from_dict


def objects(bucket: str) -> list[str]:
    client = storage.Client(project=os.environ["GOOGLE_CLOUD_PROJECT"], credentials=AnonymousCredentials())
    return sorted(b.name for b in client.list_blobs(bucket))


@pytest.fixture
def ports(gcs_emulator, unique, tmp_path):
    config = config_from_dict(
        {
            "backends": {"blobs": "gcs"},
            "gcp": {
                "project": os.environ["GOOGLE_CLOUD_PROJECT"],
                "bucket": f"zk-ck-{unique}",
                "recordings_bucket": f"zk-rec-{unique}",
                "create_bucket": True,
            },
        }
    )
    ports = control_plane_ports(config, tmp_path / "data")
    yield ports
    for close in ports.closers:
        close()


def test_the_control_plane_and_its_workers_route_recordings_to_the_recordings_bucket(ports, unique):
    assert isinstance(ports.blobs, PrefixRoutedBlobStore)
    connection = ports.worker_connection["blobs"]
    assert connection["recordings_bucket"] == f"zk-rec-{unique}" and connection["bucket"] == f"zk-ck-{unique}"
    # The worker's own bus keys, as the compute provider gives each worker (CURVE on the local bus).
    connection = {**ports.worker_connection, "bus": ports.commands.worker_connection("i1")}
    inbox, outbox, worker_blobs = worker_ports(connection, "i1")
    try:
        worker_blobs.put("recordings/r1/chunk-0", b"frames")
        worker_blobs.put("checkpoints/sha256/m.json", b"{}")
    finally:
        inbox.close()
        outbox.close()
    assert objects(f"zk-rec-{unique}") == ["zk-recordings/r1/chunk-0"]
    assert objects(f"zk-ck-{unique}") == ["zk-checkpoints/sha256/m.json"]
    assert ports.blobs.get("recordings/r1/chunk-0") == b"frames"  # the control plane reads it back


def test_one_bucket_when_no_recordings_bucket_is_set(gcs_emulator, unique, tmp_path, monkeypatch):
    monkeypatch.delenv("ZK_RECORDINGS_BUCKET", raising=False)
    config = config_from_dict(
        {"backends": {"blobs": "gcs"}, "gcp": {"project": "p", "bucket": f"zk-one-{unique}", "create_bucket": True}}
    )
    ports = control_plane_ports(config, tmp_path / "data")
    try:
        assert isinstance(ports.blobs, GcsBlobStore)
        assert ports.worker_connection["blobs"]["recordings_bucket"] == f"zk-one-{unique}"
    finally:
        for close in ports.closers:
            close()
