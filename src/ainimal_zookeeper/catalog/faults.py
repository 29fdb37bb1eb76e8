"""`EntryFault`: a catalog entry that cannot be used, with the config key to change and the fix."""

from __future__ import annotations

from ainimal_zookeeper.errors import ModelError


class EntryFault(ModelError):
    """What is wrong with an entry, which of its keys to change (`key`, "" for the entry) and how.

    The message says both, so wherever it is shown (the catalog's `error`, a failed launch) it is
    complete; the start check (catalog/validation.py) also names the file and the key path.
    """

    def __init__(self, problem: str, fix: str, key: str = "") -> None:
        super().__init__(f"{problem}; fix: {fix}")
        self.problem = problem
        self.fix = fix
        self.key = key


__all__ = ["EntryFault"]
