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


@functools.cache
def _image_maker():  # type: ignore[no-untyped-def]
    from captcha.image import ImageCaptcha

    return ImageCaptcha(width=200, height=70, fonts=list(fonts()), font_sizes=(46, 52, 58))


@functools.cache
def _audio_maker():  # type: ignore[no-untyped-def]
    from captcha.audio import AudioCaptcha

    maker = AudioCaptcha()  # the package's voice samples: 0-9 and A-Z, spoken in English
    maker.load()
    return maker


def render(kind: str, answer: str) -> bytes:
    """The PNG or WAV of an answer (CPU-bound: call it in a worker thread)."""
    if kind == IMAGE:
        return bytes(_image_maker().generate(answer, format="png").getvalue())
    return bytes(_audio_maker().generate(answer))
