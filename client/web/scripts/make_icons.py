"""Draw the PNG app icons (the SVG's paw) with Pillow: `python scripts/make_icons.py`.

The PNGs are committed; run this only after changing the design. Drawn at 4x and scaled
down, for smooth edges.
"""

from pathlib import Path

from PIL import Image, ImageDraw

BG, PAW, HEART = (18, 22, 30, 255), (76, 194, 255, 255), (255, 179, 71, 255)
OUT = Path(__file__).resolve().parents[1] / "public" / "icons"


def ellipse(size: int, cx: float, cy: float, rx: float, ry: float, angle: float, color: tuple) -> Image.Image:
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(layer).ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=color)
    return layer.rotate(-angle, center=(cx, cy), resample=Image.Resampling.BICUBIC)


def paw(size: int, scale: float, rounded: bool) -> Image.Image:
    big = size * 4
    k = big / 512
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    ImageDraw.Draw(image).rounded_rectangle((0, 0, big - 1, big - 1), radius=112 * k if rounded else 0, fill=BG)

    def at(v: float) -> float:  # shrink toward the centre for maskable icons' safe zone
        return (256 + (v - 256) * scale) * k

    shapes = [
        (256, 330, 104, 86, 0),
        (140, 214, 40, 52, -20),
        (212, 150, 40, 54, -6),
        (300, 150, 40, 54, 6),
        (372, 214, 40, 52, 20),
    ]
    for cx, cy, rx, ry, angle in shapes:
        image.alpha_composite(ellipse(big, at(cx), at(cy), rx * scale * k, ry * scale * k, angle, PAW))
    r = 30 * scale * k
    ImageDraw.Draw(image).ellipse((at(256) - r, at(330) - r, at(256) + r, at(330) + r), fill=HEART)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    paw(192, 1.0, True).save(OUT / "icon-192.png", optimize=True)
    paw(512, 1.0, True).save(OUT / "icon-512.png", optimize=True)
    paw(512, 0.72, False).save(OUT / "maskable-512.png", optimize=True)  # full bleed, paw inside the safe zone
    paw(180, 0.9, False).save(OUT / "apple-touch-icon.png", optimize=True)


if __name__ == "__main__":
    main()
