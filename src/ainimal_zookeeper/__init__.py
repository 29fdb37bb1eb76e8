"""AInimal Zookeeper: observe, steer and manage running AI systems.

Users subclass `AInimal` (models and agents) and `Env` (custom environments); operators run
`python -m ainimal_zookeeper.server`.
"""

from ainimal_zookeeper.sdk import RUN_MODES, AInimal, Env, Timestep

__all__ = ["RUN_MODES", "AInimal", "Env", "Timestep"]
__version__ = "0.1.0"
