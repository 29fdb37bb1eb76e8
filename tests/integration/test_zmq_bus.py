"""The local bus over real ZeroMQ sockets passes the bus contract."""

from __future__ import annotations

from ainimal_zookeeper.adapters.local.zmq_bus import LocalBusHub, LocalCommandInbox, LocalEventOutbox

from contracts.bus import BusContract


class TestLocalZmqBus(BusContract):
    def make_control_plane(self):
        return LocalBusHub()

    def make_inbox(self, control_plane, instance_id):
        bus = control_plane.worker_connection(instance_id)
        return LocalCommandInbox(bus["commands"], instance_id, bus)

    def make_outbox(self, control_plane, instance_id):
        bus = control_plane.worker_connection(instance_id)
        return LocalEventOutbox(bus["events"], bus)


def test_commands_sent_from_many_short_lived_threads_leave_no_sockets_behind():
    import os
    import threading

    from ainimal_zookeeper.domain import commands as cmd

    hub = LocalBusHub()
    try:

        def send_from_a_new_thread(index: int) -> None:
            thread = threading.Thread(target=hub.send, args=(cmd.Pause(f"i{index}"),))
            thread.start()
            thread.join()

        send_from_a_new_thread(0)
        before = len(os.listdir("/proc/self/fd"))
        for index in range(1, 51):  # request threads come and go (the server's pool retires idle ones)
            send_from_a_new_thread(index)
        assert len(os.listdir("/proc/self/fd")) - before < 5  # a socket per thread was +50 or more
    finally:
        hub.close()
