"""Fonts for the PDFs the services render (certificates, settlement notices)."""

from __future__ import annotations

CJK_FONT = "STSong-Light"


def cjk_font() -> str:
    """The name of the CJK font for reportlab, registered on first use.

    A CID font ships with every PDF reader in CJK locales: no font file to embed.
    """
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT
