"""Environment frames for the `frame` stream: render an env to RGB, compress it for the wire.

A frame is rendered and encoded only when someone watches or records it; a failing render
is a missing frame, never a failed instance.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import weakref
from typing import Any

import numpy as np

from ainimal_zookeeper.errors import InvalidInput

log = logging.getLogger(__name__)

#: format name -> (Pillow format, MIME type)
FRAME_FORMATS = {"jpeg": ("JPEG", "image/jpeg"), "png": ("PNG", "image/png"), "webp": ("WEBP", "image/webp")}

# Envs whose failed render was already logged: one warning per env, not one per frame.
_warned: weakref.WeakSet[Any] = weakref.WeakSet()


def prepare_headless_rendering() -> None:
    """Let pygame-based envs (classic control, Box2D) render without a screen or sound card.

    Only sets defaults: an operator's own SDL settings win. Call it before the env's first
    render, which is when such envs import pygame.
    """
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    # A worker never plays sound; without this SDL probes ALSA and prints errors on servers.
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def render_rgb(env: Any) -> np.ndarray | None:
    """The env's current frame as an (H, W, 3|4) or (H, W) uint8 array, or None.

    None when the env was not made with render_mode "rgb_array", or its render raised or
    returned something else (logged once per env). Never raises.
    """
    if getattr(env, "render_mode", None) != "rgb_array":
        return None
    prepare_headless_rendering()
    try:
        frame = env.render()
    except Exception as exc:  # noqa: BLE001  # a broken render costs a frame, not the instance
        _warn_once(env, f"render raised {type(exc).__name__}: {exc}")
        return None
    if not _is_image(frame):
        _warn_once(env, f"render returned {type(frame).__name__} {getattr(frame, 'shape', '')}, not an RGB array")
        return None
    return frame


def encode_frame(rgb: np.ndarray, fmt: str = "jpeg", quality: int = 80, max_width: int | None = 480) -> dict[str, Any]:
    """Compress a frame for the wire.

    Args:
        rgb: an (H, W, 3|4) or (H, W) array; non-uint8 values are clipped to [0, 255].
        fmt: "jpeg" (default: smallest and fastest for rendered scenes), "png" or "webp".
        quality: JPEG / WebP quality, 1-95.
        max_width: frames wider than this are scaled down, keeping the aspect ratio (None:
            never). Scaling costs more than it saves in encoding: 600x400 -> 480 takes ~1.2 ms.

    Returns:
        {"format", "mime", "width", "height", "data"}: the encoded size and base64 ASCII data.

    Raises:
        InvalidInput: an unknown format, or an array that is not an image.
    """
    from PIL import Image

    if fmt not in FRAME_FORMATS:
        raise InvalidInput(f"frame format {fmt!r} is not one of {', '.join(FRAME_FORMATS)}")
    if not _is_image(rgb, any_dtype=True):
        raise InvalidInput(f"a frame must be an (H, W), (H, W, 3) or (H, W, 4) array, got {_describe(rgb)}")
    pixels = rgb if rgb.dtype == np.uint8 else np.clip(rgb, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    if fmt == "jpeg" and image.mode == "RGBA":
        image = image.convert("RGB")  # JPEG has no alpha
    if max_width and image.width > max_width:
        height = max(1, round(image.height * max_width / image.width))
        image = image.resize((max_width, height), Image.Resampling.BILINEAR)
    pil_format, mime = FRAME_FORMATS[fmt]
    buffer = io.BytesIO()
    options = {} if fmt == "png" else {"quality": quality}  # PNG is lossless: no quality
    image.save(buffer, format=pil_format, **options)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return {"format": fmt, "mime": mime, "width": image.width, "height": image.height, "data": data}


def _is_image(frame: Any, any_dtype: bool = False) -> bool:
    if not isinstance(frame, np.ndarray) or not (any_dtype or frame.dtype == np.uint8):
        return False
    if frame.dtype.kind not in "uif" or 0 in frame.shape:
        return False
    return frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] in (3, 4))


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {list(value.shape)} and dtype {value.dtype}"
    return type(value).__name__


def _warn_once(env: Any, message: str) -> None:
    try:
        if env in _warned:
            return
        _warned.add(env)
    except TypeError:  # an env that cannot be weakly referenced: warn every time
        pass
    log.warning("no frame from %s: %s", type(env).__name__, message)


__all__ = ["FRAME_FORMATS", "encode_frame", "prepare_headless_rendering", "render_rgb"]
