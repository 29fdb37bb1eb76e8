"""Env frames render headless and compress to images a browser can show."""

from __future__ import annotations

import base64
import io
import logging
import os

import gymnasium
import numpy as np
import pytest
from PIL import Image

from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.worker.frames import encode_frame, prepare_headless_rendering, render_rgb


def decode(encoded):
    return Image.open(io.BytesIO(base64.b64decode(encoded["data"])))


@pytest.fixture
def cartpole():
    env = gymnasium.make("CartPole-v1", render_mode="rgb_array")
    env.reset(seed=0)
    yield env
    env.close()


def test_cartpole_renders_an_rgb_frame(cartpole):
    frame = render_rgb(cartpole)
    assert frame is not None and frame.shape == (400, 600, 3) and frame.dtype == np.uint8
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 2  # a picture, not a blank


def test_a_cartpole_frame_encodes_to_a_jpeg_scaled_to_the_maximum_width(cartpole):
    encoded = encode_frame(render_rgb(cartpole))
    assert (encoded["format"], encoded["mime"], encoded["width"], encoded["height"]) == ("jpeg", "image/jpeg", 480, 320)
    image = decode(encoded)
    assert (image.format, image.size) == ("JPEG", (480, 320))


@pytest.mark.parametrize(("fmt", "pil_format"), [("png", "PNG"), ("webp", "WEBP")])
def test_lossless_and_webp_frames_keep_the_full_size_without_a_maximum(cartpole, fmt, pil_format):
    frame = render_rgb(cartpole)
    encoded = encode_frame(frame, fmt, max_width=None)
    image = decode(encoded)
    assert (image.format, image.size, encoded["mime"]) == (pil_format, (600, 400), f"image/{fmt}")
    if fmt == "png":
        np.testing.assert_array_equal(np.asarray(image), frame)


def test_rgba_and_grey_frames_encode_as_jpeg():
    rgba = np.zeros((10, 20, 4), dtype=np.uint8)
    assert decode(encode_frame(rgba)).mode == "RGB"
    grey = np.full((10, 20), 200.0)
    image = decode(encode_frame(grey, "png"))
    assert image.mode == "L" and np.asarray(image).max() == 200


def test_encode_frame_refuses_unknown_formats_and_non_images():
    with pytest.raises(InvalidInput, match="frame format 'gif' is not one of jpeg, png, webp"):
        encode_frame(np.zeros((4, 4, 3), np.uint8), "gif")
    with pytest.raises(InvalidInput, match=r"got an array of shape \[4, 4, 2\]"):
        encode_frame(np.zeros((4, 4, 2), np.uint8))


def test_an_env_not_made_for_rgb_arrays_gives_no_frame():
    env = gymnasium.make("CartPole-v1")
    env.reset(seed=0)
    assert render_rgb(env) is None


class BrokenRender(gymnasium.Env):
    render_mode = "rgb_array"
    observation_space = gymnasium.spaces.Discrete(1)
    action_space = gymnasium.spaces.Discrete(1)

    def __init__(self, result=None):
        self.result = result

    def render(self):
        if self.result is None:
            raise RuntimeError("no display")
        return self.result


def test_a_failing_render_gives_no_frame_and_one_warning_per_env(caplog):
    caplog.set_level(logging.WARNING)
    env, other = BrokenRender(), BrokenRender(result="text")
    assert [render_rgb(env), render_rgb(env), render_rgb(other)] == [None, None, None]
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "RuntimeError: no display" in messages[0] and "not an RGB array" in messages[1]


def test_headless_rendering_defaults_to_sdls_dummy_drivers_without_overriding_the_operator(monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER", "PYGAME_HIDE_SUPPORT_PROMPT"):
        monkeypatch.setenv(name, "")  # recorded, so the test's own setdefault is undone after it
        monkeypatch.delenv(name)
    monkeypatch.setenv("SDL_AUDIODRIVER", "pulseaudio")
    prepare_headless_rendering()
    assert os.environ["SDL_VIDEODRIVER"] == "dummy" and os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] == "1"
    assert os.environ["SDL_AUDIODRIVER"] == "pulseaudio"


def test_a_machine_with_a_display_keeps_its_video_driver(monkeypatch):
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("SDL_VIDEODRIVER", "")
    monkeypatch.delenv("SDL_VIDEODRIVER")
    prepare_headless_rendering()
    assert "SDL_VIDEODRIVER" not in os.environ
