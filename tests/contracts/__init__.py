"""Contract suites for the ports, one module per port: an adapter's test only says how to build it.

Every adapter of a port passes its port's suite: the local ones, the cloud ones against the
emulators (tests/integration/gcp), and the in-memory fakes (`ainimal_zookeeper.adapters.memory`).
The old names stay importable from here (`from contracts import DocumentStoreContract`).
"""

from contracts.blobs import BlobStoreContract
from contracts.bus import BusContract
from contracts.compute import ComputeContract
from contracts.documents import DocumentStoreContract

__all__ = ["BlobStoreContract", "BusContract", "ComputeContract", "DocumentStoreContract"]
