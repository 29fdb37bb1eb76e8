"""The local CommandBus and EventBus on ZeroMQ over loopback TCP.

One hub thread in the control plane owns every server-side socket (ZeroMQ sockets are not
thread-safe): a ROUTER that addresses each worker by its instance id, a PULL that gathers
events, and an inproc PULL through which any thread hands it commands to send. Commands
stay queued until the worker acknowledges them and are sent again when a worker says HELLO
(at start, after a reconnect, and every second), which gives Pub/Sub's at-least-once
delivery; workers drop command ids they have already applied.

Only workers speak on it (ZeroMQ CURVE): the hub makes a server keypair at start and a client
keypair per worker (`worker_connection`, handed to the worker in its spec, never through a
file or the environment of other processes), and its ZAP handler accepts a connection only
with a current worker's public key, naming the connection after that worker's instance. Each
event then carries its sender's instance (the message's `User-Id`), and an event a worker may
not send (about another instance, a checkpoint key not its own: `domain/event_origin.py`) is
dropped with a rate-limited warning. CURVE rather than a signature per message: the
encryption runs in libzmq's I/O threads, so the worker's Python loop does no more work per
event, and it hides the traffic (checkpoint keys, overrides) from other local users too.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import zmq
from zmq.utils import z85

from ainimal_zookeeper import wire
from ainimal_zookeeper.adapters.local.doorbell import FALLBACK_SECONDS, DoorbellReader, Doorbells
from ainimal_zookeeper.domain.commands import Command, command_from_dict
from ainimal_zookeeper.domain.event_origin import refusal
from ainimal_zookeeper.domain.events import Event, event_from_dict

log = logging.getLogger(__name__)

HELLO = b"HELLO"
ACK = b"ACK"
_HELLO_EVERY_SECONDS = 1.0
#: ZeroMQ's fixed address for the authentication (ZAP) handler of a context.
_ZAP_ADDRESS = "inproc://zeromq.zap.01"
_ZAP_DOMAIN = "zookeeper"
#: At most one warning about refused traffic per this many seconds (the rest are counted).
_WARN_EVERY_SECONDS = 10.0


class LocalBusHub:
    """Control-plane side of both buses; implements `CommandBus` and `EventBus`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._ctx = zmq.Context()
        # The ZAP handler is bound before anything can connect: without one, libzmq lets in
        # any client that knows the server's public key.
        self._zap = self._ctx.socket(zmq.REP)
        self._zap.bind(_ZAP_ADDRESS)
        self._public_key, self._secret_key = zmq.curve_keypair()
        self._workers_by_key: dict[bytes, str] = {}
        self._keys_lock = threading.Lock()
        self.refused = 0
        self._last_warning = 0.0
        self._router = self._curve_server(zmq.ROUTER)
        # Raise instead of silently dropping a message to a worker that is not connected.
        self._router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self._router.bind(f"tcp://{host}:*")
        self._events = self._curve_server(zmq.PULL)
        self._events.bind(f"tcp://{host}:*")
        self._inproc_address = f"inproc://zk-outbox-{uuid.uuid4().hex}"
        self._outbox = self._ctx.socket(zmq.PULL)
        self._outbox.bind(self._inproc_address)
        # One socket shared under a lock, not one per calling thread: request threads come and
        # go (the server's pool retires idle ones), and a socket per thread was never closed.
        self._sender = self._ctx.socket(zmq.PUSH)
        self._sender.connect(self._inproc_address)
        self._sender_lock = threading.Lock()
        self._handlers: list[Callable[[Event], None]] = []
        self._pending: dict[bytes, OrderedDict[str, bytes]] = {}
        self._connected: set[bytes] = set()
        self._doorbells = Doorbells()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zk-bus-hub", daemon=True)
        self._thread.start()

    @property
    def connection(self) -> dict[str, Any]:
        """How a worker reaches this hub (goes into `WorkerSpec.connection['bus']`)."""
        return {
            "type": "local",
            "commands": self._router.getsockopt_string(zmq.LAST_ENDPOINT),
            "events": self._events.getsockopt_string(zmq.LAST_ENDPOINT),
        }

    def worker_connection(self, instance_id: str) -> dict[str, Any]:
        """`connection` plus a new client keypair for `instance_id`'s worker, accepted until revoked."""
        public, secret = zmq.curve_keypair()
        with self._keys_lock:
            self._workers_by_key[public] = instance_id
            doorbell = self._doorbells.path(instance_id.encode())
        return {
            **self.connection,
            "server_key": self._public_key.decode(),
            "public_key": public.decode(),
            "secret_key": secret.decode(),
            "doorbell": doorbell,
        }

    def revoke(self, instance_id: str) -> None:
        """Refuse new connections with `instance_id`'s keys (open ones end with their worker)."""
        with self._keys_lock:
            for key in [k for k, owner in self._workers_by_key.items() if owner == instance_id]:
                del self._workers_by_key[key]

    # CommandBus
    def send(self, command: Command) -> None:
        self._hand_over([b"SEND", wire.dumps(command.to_dict())])

    def forget(self, instance_id: str) -> None:
        self.revoke(instance_id)
        self._hand_over([b"FORGET", instance_id.encode()])

    # EventBus
    def subscribe(self, handler: Callable[[Event], None]) -> Callable[[], None]:
        self._handlers.append(handler)
        return lambda: self._handlers.remove(handler)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        with self._sender_lock:
            self._sender.close(linger=0)
        self._ctx.destroy(linger=0)

    def _curve_server(self, kind: int) -> zmq.Socket[bytes]:
        sock = self._ctx.socket(kind)
        sock.curve_server = True
        sock.curve_publickey = self._public_key
        sock.curve_secretkey = self._secret_key
        sock.zap_domain = _ZAP_DOMAIN.encode()
        return sock

    def _hand_over(self, frames: list[bytes]) -> None:
        with self._sender_lock:
            self._sender.send_multipart(frames)

    def _run(self) -> None:
        poller = zmq.Poller()
        for sock in (self._zap, self._router, self._events, self._outbox):
            poller.register(sock, zmq.POLLIN)
        while not self._stop.is_set():
            ready = dict(poller.poll(timeout=100))
            if self._zap in ready:
                self._drain(self._zap, self._on_zap)
            if self._outbox in ready:
                self._drain(self._outbox, self._on_outbox)
            if self._router in ready:
                self._drain(self._router, self._on_worker)
            if self._events in ready:
                self._drain(self._events, self._on_event)
        for sock in (self._zap, self._router, self._events, self._outbox):
            sock.close(linger=0)
        with self._keys_lock:
            self._doorbells.close()

    @staticmethod
    def _drain(sock: zmq.Socket[bytes], handle: Callable[[list[zmq.Frame]], None]) -> None:
        while True:
            try:
                # Frames, not bytes: a frame carries its connection's User-Id (the sender's instance).
                frames = sock.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            handle(frames)

    def _on_zap(self, frames: list[zmq.Frame]) -> None:
        """A connection's handshake: accept a current worker's key, named after its instance."""
        parts = [f.bytes for f in frames]
        version, request_id, domain, mechanism = parts[0], parts[1], parts[2], parts[5]
        owner = None
        if mechanism == b"CURVE" and domain == _ZAP_DOMAIN.encode() and len(parts) > 6:
            with self._keys_lock:
                owner = self._workers_by_key.get(z85.encode(parts[6]))
        if owner is None:
            self._refused(f"a connection from {parts[3].decode(errors='replace')} without a current worker's key")
            self._zap.send_multipart([version, request_id, b"400", b"not a worker of this zookeeper", b"", b""])
        else:
            self._zap.send_multipart([version, request_id, b"200", b"OK", owner.encode(), b""])

    def _refused(self, what: str) -> None:
        """Count refused traffic; warn at most once per `_WARN_EVERY_SECONDS`, whatever an attacker sends."""
        self.refused += 1
        now = time.monotonic()
        if now - self._last_warning >= _WARN_EVERY_SECONDS:
            self._last_warning = now
            log.warning("local bus refused %s (%d refused so far)", what, self.refused)

    def _on_outbox(self, frames: list[zmq.Frame]) -> None:
        verb, body = (f.bytes for f in frames)
        if verb == b"FORGET":
            self._pending.pop(body, None)
            self._connected.discard(body)
            with self._keys_lock:
                self._doorbells.remove(body)
            return
        message = wire.loads(body)
        target, command_id = message["instance_id"].encode(), message["command_id"]
        self._pending.setdefault(target, OrderedDict())[command_id] = body
        if target in self._connected:
            self._deliver(target, body)

    def _on_worker(self, frames: list[zmq.Frame]) -> None:
        identity, verb, *rest = (f.bytes for f in frames)
        if frames[-1].get("User-Id") != identity.decode(errors="replace"):
            # A worker under another instance's name: it gets none of that instance's commands.
            self._refused(f"a worker calling itself {identity[:64]!r}")
            return
        if verb == HELLO:
            self._connected.add(identity)
            for body in list(self._pending.get(identity, {}).values()):
                self._deliver(identity, body)
        elif verb == ACK and rest:
            self._pending.get(identity, OrderedDict()).pop(rest[0].decode(), None)

    def _deliver(self, identity: bytes, body: bytes) -> None:
        try:
            self._router.send_multipart([identity, body], zmq.NOBLOCK)
        except zmq.ZMQError:
            # Gone or not yet connected: it stays pending until the worker's next HELLO.
            self._connected.discard(identity)
            return
        with self._keys_lock:
            self._doorbells.ring(identity)

    def _on_event(self, frames: list[zmq.Frame]) -> None:
        sender = str(frames[0].get("User-Id"))
        try:
            event = event_from_dict(wire.loads(frames[0].bytes))
        except Exception:  # noqa: BLE001  # a malformed event must not stop the hub
            self._refused(f"a malformed event from instance {sender}'s worker")
            return
        reason = refusal(sender, event)
        if reason is not None:
            self._refused(f"an event: {reason}")
            return
        for handler in list(self._handlers):
            try:
                handler(event)
            except Exception:  # one failing subscriber must not starve others
                log.exception("event handler failed on %s", event.kind)


class LocalCommandInbox:
    """Worker side of the command bus: a DEALER named after the instance."""

    def __init__(self, endpoint: str, instance_id: str, keys: dict[str, Any]) -> None:
        self._ctx = zmq.Context()
        self._sock = self._ctx.socket(zmq.DEALER)
        _curve_client(self._sock, keys)
        self._sock.setsockopt(zmq.ROUTING_ID, instance_id.encode())
        self._sock.setsockopt(zmq.LINGER, 500)
        self._sock.connect(endpoint)
        self._last_hello = 0.0
        # The doorbell (absent from an older hub's connection): see adapters/local/doorbell.py.
        self.doorbell: DoorbellReader | None = DoorbellReader(keys["doorbell"]) if keys.get("doorbell") else None
        self._next_socket_check = 0.0
        self._owed_since: float | None = None
        self._say_hello()

    def receive(self, timeout: float = 0.0) -> list[Command]:
        now = time.monotonic()
        if now - self._last_hello > _HELLO_EVERY_SECONDS:
            self._say_hello()
        if timeout <= 0:
            doorbell = self.doorbell
            if doorbell is not None and now < self._next_socket_check and not doorbell.owed():
                return []  # a poll with nothing owed: one memory read
            self._next_socket_check = now + FALLBACK_SECONDS
            # The socket's event state (a few µs) rather than a poll (10-20 µs: a poller
            # object and a system call).
            events: int = self._sock.getsockopt(zmq.EVENTS)  # type: ignore[assignment]  # an int for EVENTS
            if not events & zmq.POLLIN:
                self._settle_doorbell(now)
                return []
        elif not self._sock.poll(int(timeout * 1000)):
            self._settle_doorbell(now)
            return []
        commands: list[Command] = []
        while True:
            try:
                body = self._sock.recv(zmq.NOBLOCK)
            except zmq.Again:
                return commands
            if self.doorbell is not None:
                self.doorbell.received += 1
                self._owed_since = None  # a message settled what was owed: a new wait starts afresh
            try:
                commands.append(command_from_dict(wire.loads(body)))
            except Exception:  # a poison message is logged and skipped
                log.exception("dropped a malformed command")

    def ack(self, command: Command) -> None:
        self._sock.send_multipart([ACK, command.command_id.encode()])

    def close(self) -> None:
        if self.doorbell is not None:
            self.doorbell.close()
        self._sock.close()
        self._ctx.term()  # waits out LINGER, so the last acks leave before the process does

    def _settle_doorbell(self, now: float) -> None:
        """The socket had nothing: a ring owed for longer than the fallback period will not be
        settled by a message (its send failed after the ring, or it was a duplicate the socket
        dropped), so stop asking the socket at every poll for it."""
        doorbell = self.doorbell
        if doorbell is None or not doorbell.owed():
            self._owed_since = None
            return
        if self._owed_since is None:
            self._owed_since = now
        elif now - self._owed_since > FALLBACK_SECONDS:
            doorbell.caught_up()
            self._owed_since = None

    def _say_hello(self) -> None:
        self._sock.send(HELLO)
        self._last_hello = time.monotonic()


class LocalEventOutbox:
    """Worker side of the event bus: a PUSH that never blocks the agent's loop."""

    def __init__(self, endpoint: str, keys: dict[str, Any]) -> None:
        self._ctx = zmq.Context()
        self._sock = self._ctx.socket(zmq.PUSH)
        _curve_client(self._sock, keys)
        self._sock.setsockopt(zmq.SNDHWM, 10_000)
        self._sock.setsockopt(zmq.LINGER, 2000)
        self._sock.connect(endpoint)
        self.dropped = 0

    def publish(self, event: Event) -> None:
        try:
            self._sock.send(wire.dumps(event.to_dict()), zmq.NOBLOCK)
        except zmq.Again:
            # The control plane is not keeping up: newer progress will follow, so drop.
            self.dropped += 1

    def close(self) -> None:
        self._sock.close()
        self._ctx.term()  # waits out LINGER, so the final events leave before the process does


def _curve_client(sock: zmq.Socket[bytes], keys: dict[str, Any]) -> None:
    """Make `sock` a CURVE client with the worker's keys (a bus connection from `worker_connection`)."""
    sock.curve_serverkey = keys["server_key"].encode()
    sock.curve_publickey = keys["public_key"].encode()
    sock.curve_secretkey = keys["secret_key"].encode()
