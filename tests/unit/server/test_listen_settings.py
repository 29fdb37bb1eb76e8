"""Where the server listens: PORT, https with its certificate and key, and keys refused instead of ignored."""

from __future__ import annotations

import pytest

from ainimal_zookeeper.config import Server, load_config
from ainimal_zookeeper.errors import ConfigError
from ainimal_zookeeper.server.listening import port_from_environment
from ainimal_zookeeper.server.tls import TlsFiles, tls_files
from tls_support import self_signed


def test_port_comes_from_the_port_variable_when_set():
    assert port_from_environment({"PORT": "8081"}) == 8081
    assert port_from_environment({}) is None and port_from_environment({"PORT": " "}) is None


@pytest.mark.parametrize("value", ["eighty", "0", "70000", "-1"])
def test_a_port_variable_that_is_not_a_port_is_refused_saying_how_to_fix_it(value):
    with pytest.raises(
        ConfigError, match=rf"PORT environment variable must be a port number \(1-65535\); got '{value}'"
    ):
        port_from_environment({"PORT": value})


def test_https_takes_its_certificate_and_key_relative_to_the_config(tmp_path):
    cert, key = self_signed(tmp_path)
    (tmp_path / "zoo.yaml").write_text("server: {https: true, ssl_certfile: cert.pem, ssl_keyfile: ./key.pem}\n")
    config = load_config(tmp_path / "zoo.yaml")
    assert (config.server.ssl_certfile, config.server.ssl_keyfile) == (str(cert), str(key))
    assert tls_files(config) == TlsFiles(str(cert), str(key))
    assert Server(https=True, ssl_certfile=cert, ssl_keyfile=key).config.server == config.server
    assert tls_files(Server().config) is None


def test_https_without_its_files_or_files_without_https_are_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("server: {https: true, ssl_certfile: cert.pem}\n")
    with pytest.raises(
        ConfigError, match=r"server: https: true needs ssl_certfile and ssl_keyfile \(PEM files\); missing ssl_keyfile"
    ):
        load_config(tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text("server: {ssl_certfile: cert.pem, ssl_keyfile: key.pem}\n")
    with pytest.raises(ConfigError, match=r"server: ssl_certfile and ssl_keyfile apply only with https: true"):
        load_config(tmp_path / "b.yaml")


def test_a_certificate_that_cannot_serve_is_refused_at_start_naming_the_keys(tmp_path):
    missing = Server(https=True, ssl_certfile=tmp_path / "nope.pem", ssl_keyfile=tmp_path / "nokey.pem").config
    with pytest.raises(ConfigError, match=r"server.ssl_certfile: .*nope.pem is not a file; point it at your PEM cert"):
        tls_files(missing)
    (tmp_path / "junk.pem").write_text("not a certificate")
    junk = Server(https=True, ssl_certfile=tmp_path / "junk.pem", ssl_keyfile=tmp_path / "junk.pem").config
    with pytest.raises(ConfigError, match=r"cannot serve TLS: .*Expected a PEM certificate"):
        tls_files(junk)
    locked = tmp_path / "locked"
    locked.mkdir()
    cert, key = self_signed(locked, passphrase=b"pass phrase")
    encrypted = Server(https=True, ssl_certfile=cert, ssl_keyfile=key).config
    with pytest.raises(ConfigError, match=r"cannot serve TLS: the key is encrypted"):
        tls_files(encrypted)


def test_max_connected_other_than_one_is_refused_saying_environments_cannot_be_shared_yet(tmp_path):
    (tmp_path / "zoo.yaml").write_text("envs: [{name: C, env_name: CartPole-v1, max_connected: 4}]\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "zoo.yaml")
    assert str(info.value) == (
        f"{tmp_path / 'zoo.yaml'}: envs[0]: max_connected: 4: environments cannot be shared between instances "
        "yet (each instance runs its own copy of its environment); remove max_connected or set it to 1"
    )
    (tmp_path / "none.yaml").write_text("envs: [{name: C, env_name: CartPole-v1, max_connected: -1}]\n")
    with pytest.raises(ConfigError, match=r"max_connected: null \(no limit\): environments cannot be shared"):
        load_config(tmp_path / "none.yaml")
    (tmp_path / "one.yaml").write_text("envs: [{name: C, env_name: CartPole-v1, max_connected: 1}]\n")
    assert load_config(tmp_path / "one.yaml").envs[0].max_connected == 1
