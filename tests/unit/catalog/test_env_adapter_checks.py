"""Every kind of env the config may name launches: spaces, seeds and gymnasium's own checker."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env

from ainimal_zookeeper.catalog.factory import build_env
from ainimal_zookeeper.catalog.faults import EntryFault

TESTS = Path(__file__).resolve().parents[2]
PLAIN = str(TESTS / "fixtures" / "plain_envs.py")
OTHER = str(TESTS / "fixtures" / "other_kinds.py")
CORRIDOR = str(TESTS.parent / "examples" / "envs" / "corridor.py")

#: An inferred box is unbounded (one observation says nothing of the bounds); gymnasium's checker
#: warns about that, and only that is let through.
UNBOUNDED = r".*A Box observation space (minimum|maximum) value is (-)?infinity"


def plain(class_name, **more):
    return {"name": class_name, "type": "python_class", "path": PLAIN, "class_name": class_name, **more}


ADAPTERS = {
    "gymnasium": {"name": "CartPole", "type": "gymnasium", "env_name": "CartPole-v1"},
    "ainimal": {"name": "Corridor", "type": "ainimal", "path": CORRIDOR, "class_name": "Corridor"},
    "dm_env": {"name": "Walk", "type": "dm_env", "path": OTHER, "class_name": "Walk"},
    "dm_env with a seed method": {"name": "DmWalk", "type": "dm_env", "path": PLAIN, "class_name": "SeedableDmWalk"},
    "python_class, list observations": plain("SeededWalk"),
    "python_class, dict observations, seed method": plain("SeedMethodCounter"),
    "python_class, tuple observations, word actions": plain("GlobalRandomEnv"),
    "python_class, old four-value steps": {
        "name": "Old",
        "type": "python_class",
        "path": OTHER,
        "class_name": "OldStyleEnv",
        "step_function": "advance",
        "reset_function": "begin",
    },
}


@pytest.mark.parametrize("kind", list(ADAPTERS))
def test_gymnasiums_env_checker_passes_on_every_kind_of_env_the_config_names(kind):
    env = build_env(ADAPTERS[kind], {})
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=UNBOUNDED)
        # gymnasium.make wraps its envs (time limit, order checks): that is how the worker runs them.
        warnings.filterwarnings("ignore", message=r".*is different from the unwrapped version")
        check_env(env, skip_render_check=True)


def test_a_plain_env_without_spaces_gets_them_from_its_first_observation_and_its_actions():
    walk = build_env(plain("SeededWalk"), {})
    assert walk.observation_space == spaces.Box(-np.inf, np.inf, (2,), np.float32)
    assert walk.action_space == spaces.Discrete(2)
    obs, _ = walk.reset(seed=3)
    assert obs.dtype == np.float32 and obs.shape == (2,)  # lists come back as arrays of the space

    counter = build_env(plain("SeedMethodCounter"), {})
    assert set(counter.observation_space.spaces) == {"count", "flags"}
    assert counter.observation_space["flags"] == spaces.MultiBinary([2])
    assert counter.observation_space["count"].dtype == np.int64 and counter.action_space == spaces.Discrete(3)


def test_listed_actions_that_are_not_0_to_n_are_chosen_by_their_index():
    env = build_env(plain("GlobalRandomEnv"), {})
    assert env.action_space == spaces.Discrete(2)
    env.reset(seed=0)
    assert env.step(1)[0][1] == 1  # index 1 reached the class as "jump"


@pytest.mark.parametrize("kind", ["gymnasium", "ainimal"])
def test_the_seed_reaches_gymnasium_and_ainimal_envs_through_reset(kind):
    env = build_env(ADAPTERS[kind], {})
    first = env.reset(seed=7)[0]
    assert np.array_equal(first, env.reset(seed=7)[0])
    assert any(not np.array_equal(first, env.reset(seed=s)[0]) for s in range(8, 18))


def test_the_seed_reaches_a_plain_env_through_its_reset_argument():
    env = build_env(plain("SeededWalk"), {})
    first, again = (env.reset(seed=11)[0].tolist() for _ in range(2))
    assert first == again and type(env.target).seeds_seen[-2:] == [11, 11]
    assert any(env.reset(seed=s)[0].tolist() != first for s in range(20, 30))  # other seeds, other starts


def test_the_seed_reaches_a_plain_env_through_its_seed_method():
    env = build_env(plain("SeedMethodCounter"), {})
    env.reset(seed=42)
    assert env.target.seeded_with == 42
    assert env.reset(seed=42)[0]["count"] == env.reset(seed=42)[0]["count"]


def test_the_seed_reaches_a_plain_env_that_draws_from_the_global_generators():
    env = build_env(plain("GlobalRandomEnv"), {})
    first = env.reset(seed=5)[0]
    assert first[0] == env.reset(seed=5)[0][0] and first[0] != env.reset(seed=6)[0][0]


def test_the_seed_reaches_a_dm_env_through_its_seed_method():
    env = build_env(ADAPTERS["dm_env with a seed method"], {})
    starts = {int(np.argmax(env.reset(seed=s)[0])) for s in range(8)}
    assert int(np.argmax(env.reset(seed=3)[0])) == int(np.argmax(env.reset(seed=3)[0])) and len(starts) > 1


def test_an_env_that_says_nothing_of_its_actions_is_refused_saying_what_to_add():
    with pytest.raises(EntryFault) as refused:
        build_env(plain("Unlabelled"), {})
    message = str(refused.value)
    assert "Unlabelled declares no action space" in message
    assert "`action_space` attribute" in message and "`actions` list" in message


def test_an_env_observing_text_is_refused_saying_what_to_declare():
    with pytest.raises(EntryFault, match=r"Chatty declares no observation space .*str 'hello'.*observation_space"):
        build_env(plain("Chatty"), {})


def test_a_later_observation_of_another_shape_fails_naming_both_shapes():
    env = build_env(plain("Growing"), {})
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(3,\), but its first one had shape \(2,\)"):
        env.step(0)


def test_a_missing_step_function_is_refused_naming_the_key_and_the_methods_there():
    with pytest.raises(EntryFault, match=r"SeededWalk has no method 'advance'.*step_function.*reset, step") as refused:
        build_env(plain("SeededWalk", step_function="advance"), {})
    assert refused.value.key == "step_function"


def test_a_gymnasium_env_class_without_spaces_is_refused_with_the_fix(tmp_path):
    source = tmp_path / "spaceless.py"
    source.write_text(
        "import gymnasium\n"
        "class Spaceless(gymnasium.Env):\n"
        "    def reset(self, *, seed=None, options=None):\n        return 0, {}\n"
        "    def step(self, action):\n        return 0, 0.0, False, False, {}\n"
    )
    entry = {"name": "S", "type": "gymnasium", "path": str(source), "class_name": "Spaceless"}
    with pytest.raises(EntryFault, match="has no observation_space and no action_space; fix: set self.observation"):
        build_env(entry, {})
