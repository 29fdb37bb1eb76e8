"""What an inner layer calls and the package's public surface provides (dependency inversion).

`Server(...).run()` belongs to the config layer's Python form, but serving is the entry
point's job (`ainimal_zookeeper.server`), which the config layer must not import. The package's
`__init__` installs the runner here when `ainimal_zookeeper` is first imported, which always
happens before any of its modules is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ainimal_zookeeper.config.model import ZookeeperConfig

#: Serve a config on this machine until interrupted: (config, with_client) -> exit code.
RunServer = Callable[["ZookeeperConfig", bool], int]

run_server: RunServer | None = None
