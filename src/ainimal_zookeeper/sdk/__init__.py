"""What users import to write AInimals and environments."""

from ainimal_zookeeper.sdk.ainimal import RUN_MODES, AInimal
from ainimal_zookeeper.sdk.env import Env
from ainimal_zookeeper.sdk.timestep import Timestep

AInimal.Env = Env  # set where both classes are known

__all__ = ["RUN_MODES", "AInimal", "Env", "Timestep"]
