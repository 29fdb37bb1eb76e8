"""The local bus over real ZeroMQ sockets passes the bus contract."""

from __future__ import annotations

from ainimal_zookeeper.adapters.local.zmq_bus import LocalBusHub, LocalCommandInbox, LocalEventOutbox

from bus_contract import BusContract


class TestLocalZmqBus(BusContract):
    def make_control_plane(self):
        return LocalBusHub()

    def make_inbox(self, control_plane, instance_id):
        return LocalCommandInbox(control_plane.connection["commands"], instance_id)

    def make_outbox(self, control_plane, instance_id):
        return LocalEventOutbox(control_plane.connection["events"])
