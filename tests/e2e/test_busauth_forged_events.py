"""Only the zookeeper's own workers speak on the local bus, and each only about itself.

Real server, real workers, real sockets: an attacker on the same machine connects to the
bus ports with a plain ZeroMQ socket; a hostile model leaks its worker's keys and the test
uses them to speak about another instance.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import zmq

from ainimal_zookeeper import wire
from ainimal_zookeeper.domain import events as ev

from support import ServerProcess, launch_running, wait_for

HERE = Path(__file__).parent
ZOO = HERE / "busauth_zoo.yaml"


def listening_ports(pid: int) -> list[int]:
    """The loopback TCP ports process `pid` listens on (from /proc, no tools needed)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and inode in inodes:  # 0A: LISTEN
            ports.append(int(local.split(":")[1], 16))
    return ports


def sends(sock: zmq.Socket, messages: list[bytes]) -> None:
    """Send what the socket takes without waiting (a refused handshake never takes any)."""
    for message in messages:
        try:
            sock.send(message, zmq.NOBLOCK)
        except zmq.Again:
            return


def instance(server: ServerProcess, instance_id: str) -> dict:
    return server.gql(f'{{ instance(id: "{instance_id}") {{ status error checkpoints {{ id tag }} }} }}')["instance"]


def test_an_attacker_on_the_machine_cannot_fail_an_instance_or_plant_a_checkpoint(tmp_path):
    server = ServerProcess(ZOO, tmp_path / "data")
    try:
        victim = launch_running(server, {"model": "Counter", "environment": "CartPole"})["id"]
        ports = [p for p in listening_ports(server.process.pid) if p != server.port]
        assert len(ports) >= 2, ports  # the command ROUTER and the event PULL
        forged = [
            ev.InstanceFailed(victim, error="forged"),
            ev.CheckpointSaved(
                victim, checkpoint_id="planted", blob_key=f"checkpoints/by-instance/{victim}/sha256/x.json"
            ),
        ]
        ctx = zmq.Context()
        sockets = []
        try:
            for port in ports:
                push = ctx.socket(zmq.PUSH)
                dealer = ctx.socket(zmq.DEALER)  # and one pretending to be the victim's worker
                sockets += [push, dealer]
                dealer.setsockopt(zmq.ROUTING_ID, victim.encode())
                for sock in (push, dealer):
                    sock.connect(f"tcp://127.0.0.1:{port}")
                sends(push, [wire.dumps(event.to_dict()) for event in forged])
                sends(dealer, [b"HELLO"])
            time.sleep(1.0)  # an accepted event is applied within milliseconds
        finally:
            for sock in sockets:
                sock.close(linger=0)
            ctx.term()
        # The bus still works for the real worker: a saved checkpoint arrives through it.
        server.gql(f'mutation {{ saveCheckpoint(id: "{victim}", tag: "real") {{ id }} }}')
        after = instance(server, victim)
        assert after["status"] == "RUNNING" and after["error"] is None
        assert [c["tag"] for c in after["checkpoints"]] == ["real"]
    finally:
        assert server.stop() == 0


def test_a_worker_cannot_speak_about_another_instance_or_claim_its_checkpoint(tmp_path):
    server = ServerProcess(ZOO, tmp_path / "data")
    try:
        victim = launch_running(server, {"model": "Counter", "environment": "CartPole"})["id"]
        saved = server.gql(f'mutation {{ saveCheckpoint(id: "{victim}", tag: "victim") {{ id }} }}')["saveCheckpoint"]
        leak = tmp_path / "leak.json"
        hostile = launch_running(
            server, {"model": "Leaker", "environment": "CartPole", "parameters": {"leak_to": str(leak)}}
        )["id"]
        stolen = json.loads(wait_for(lambda: leak.exists() and leak.read_text(), what="the keys leaking"))
        assert stolen["instance"] == hostile
        bus = stolen["bus"]
        victim_key = next(
            p for p in (tmp_path / "data" / "blobs" / "checkpoints" / "by-instance" / victim / "sha256").iterdir()
        )
        forged = [
            ev.InstanceFailed(victim, error="forged by another worker"),  # about another instance
            ev.CheckpointSaved(  # about itself, naming the victim's weights
                hostile,
                checkpoint_id="stolen",
                tag="stolen",
                blob_key=f"checkpoints/by-instance/{victim}/sha256/{victim_key.name}",
            ),
        ]
        ctx = zmq.Context()
        try:
            push = ctx.socket(zmq.PUSH)
            push.curve_serverkey = bus["server_key"].encode()
            push.curve_publickey = bus["public_key"].encode()
            push.curve_secretkey = bus["secret_key"].encode()
            push.connect(bus["events"])
            for event in forged:
                push.send(wire.dumps(event.to_dict()))
            # The same keys may still speak about their own instance: this one arrives after the forged ones.
            push.send(
                wire.dumps(
                    ev.CheckpointSaved(
                        hostile,
                        checkpoint_id="own",
                        tag="own",
                        blob_key=(f"checkpoints/by-instance/{hostile}/sha256/{victim_key.name}"),
                    ).to_dict()
                )
            )
            wait_for(lambda: instance(server, hostile)["checkpoints"], what="the hostile worker's own event")
        finally:
            push.close(linger=0)
            ctx.term()
        assert [c["tag"] for c in instance(server, hostile)["checkpoints"]] == ["own"]
        after = instance(server, victim)
        assert after["status"] == "RUNNING" and after["error"] is None
        assert [c["id"] for c in after["checkpoints"]] == [saved["id"]]
        assert "local bus refused an event" in server.log()
    finally:
        assert server.stop() == 0
