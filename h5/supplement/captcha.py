"""The supplement log-in's captcha as the claimant sees or hears it: a PNG or a WAV of the
answer. The challenges themselves (answers, one guess each, the rate) are checked by
server/claims/portal/captchas.py.

Images use the `captcha` package with fonts installed on the machine (DejaVu, else
Noto or Liberation). The audio alternative speaks the digits with the voice samples the
`captcha` package ships.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from server.claims.portal.captchas import IMAGE

log = logging.getLogger(__name__)

_FONT_DIRS = (Path("/usr/share/fonts/truetype"), Path("/usr/share/fonts"))
_FONT_NAMES = (
    "DejaVuSans-Bold.ttf",
    "DejaVuSerif-Bold.ttf",
    "NotoSans-Bold.ttf",
    "NotoSerif-Bold.ttf",
    "LiberationSans-Bold.ttf",
    "LiberationSerif-Bold.ttf",
)


@functools.cache
def fonts() -> tuple[str, ...]:
    """The installed TTF files the images are drawn with (the package's own as a last resort)."""
    found: list[str] = []
    for name in _FONT_NAMES:
        for folder in _FONT_DIRS:
            hits = sorted(folder.rglob(name)) if folder.is_dir() else []
            if hits:
                found.append(str(hits[0]))
                break
    if not found:
        import captcha

        log.warning("no system TTF font found for captchas; using the captcha package's font")
        found.append(str(Path(captcha.__file__).parent / "data" / "DroidSansMono.ttf"))
    return tuple(found)


# The page shows the image at CSS_SIZE; it is drawn at twice that, so it stays sharp on
# phone screens (device pixel ratio 2 and more) instead of being scaled up and blurred.
CSS_SIZE = (200, 70)
SCALE = 2
# Glyphs are drawn in a colour with every channel from 20 to DARKEST_MAX on a background
# with every channel at least 238: luminance contrast at least 5.9:1 (WCAG asks 4.5:1).
DARKEST_MAX = 90


@functools.cache
def _image_maker():  # type: ignore[no-untyped-def]
    from captcha.image import ImageCaptcha

    width, height = CSS_SIZE
    maker = ImageCaptcha(
        width=width * SCALE,
        height=height * SCALE,
        fonts=list(fonts()),
        font_sizes=tuple(size * SCALE for size in (46, 52, 58)),
    )
    # The package pastes each glyph through a mask made from the glyph's own brightness, so a
    # dark glyph would come out faint grey; paste every drawn pixel fully instead.
    maker.lookup_table = [0] + [255] * 255
    return maker


def _colours() -> tuple[tuple[int, int, int], tuple[int, int, int, int]]:
    from captcha.image import random_color

    background = random_color(238, 255)
    glyphs = random_color(20, DARKEST_MAX, 255)  # not 0: black reads as "nothing drawn"
    return background, glyphs  # type: ignore[return-value]


@functools.cache
def _audio_maker():  # type: ignore[no-untyped-def]
    from captcha.audio import AudioCaptcha

    maker = AudioCaptcha()  # the package's voice samples: 0-9 and A-Z, spoken in English
    maker.load()
    return maker


def render(kind: str, answer: str) -> bytes:
    """The PNG or WAV of an answer (CPU-bound: call it in a worker thread)."""
    if kind == IMAGE:
        background, glyphs = _colours()
        image = _image_maker().generate(answer, format="png", bg_color=background, fg_color=glyphs)
        return bytes(image.getvalue())
    return bytes(_audio_maker().generate(answer))
