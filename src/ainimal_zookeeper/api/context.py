"""What every resolver receives as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass

from ainimal_zookeeper.service.authorization import Viewer
from ainimal_zookeeper.service.zookeeper import Zookeeper


@dataclass(frozen=True)
class RequestContext:
    """The viewer making the request and the service that answers it."""

    viewer: Viewer
    zookeeper: Zookeeper
