"""Shared look of the billing documents: the bundled DejaVu fonts, paragraph styles, the clinic
header with its logo, and tables."""

from __future__ import annotations

import hashlib
import io
import threading
import zlib
from collections.abc import Callable, Sequence
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from frontdesk.domain.money import format_money
from frontdesk.services.billing.views import ClinicInfo

FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#5f6b7a")
RULE = colors.HexColor("#cbd2d9")
SHADE = colors.HexColor("#eef2f6")
ACCENT = colors.HexColor("#1d4e89")
PAGE_W, PAGE_H = A4
MARGIN = 16 * mm
WIDTH = PAGE_W - 2 * MARGIN

# Streams stay Flate-compressed binary: the ASCII85 layer on top only made each document
# larger and cost a pass over every stream (a third of an invoice's render before rl-accel).
rl_config.useA85 = 0

_lock = threading.Lock()
_registered = False

# Characters beyond ASCII that documents print (money's minus, the separators, quotes, and the
# accented letters of names), given their codes in the fonts' first subset at the start of
# every document, in this order. Most documents then embed the same subset of each font, whose
# bytes are made once per process (``_cache_subsets``) instead of for every document.
SEEDED = "−–—·×…‘’“”→€£°éèêëáàâäíìîïóòôöúùûüçñ"


def register_fonts() -> None:
    """Register the bundled DejaVu fonts once (importlib.resources, so frozen builds find them)."""
    global _registered
    with _lock:
        if _registered:
            return
        fonts = resources.files("frontdesk.resources") / "fonts"
        for name, filename in ((FONT, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf")):
            data = (fonts / filename).read_bytes()
            font = TTFont(name, io.BytesIO(data))
            _cache_subsets(font)
            _freeze_widths(font)
            pdfmetrics.registerFont(font)
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
        pdfdoc.PDFZCompress = _RememberingFlate()
        _registered = True


def _cache_subsets(font: TTFont) -> None:
    """Keep the last few font subsets made (the TrueType bytes of the glyphs a document uses):
    a subset is a pure function of the font and the characters in their code order."""
    make = font.face.makeSubset
    made: dict[tuple[int, ...], bytes] = {}

    def cached(subset: list[int]) -> bytes:
        key = tuple(subset)
        with _lock:
            found = made.get(key)
        if found is None:
            found = make(subset)
            with _lock:
                if len(made) >= 16:
                    made.pop(next(iter(made)))
                made[key] = found
        return found

    font.face.makeSubset = cached


class _Formatted(pdfdoc.PDFObject):  # type: ignore[misc]
    """A PDF value whose bytes were formatted once (they depend on no document)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def format(self, document: Any) -> bytes:
        return self.data


def _freeze_widths(font: TTFont) -> None:
    """Format each embedded subset's table of glyph widths once per process: formatting the
    hundreds of numbers again for every document was a sixth of an invoice's render."""
    add = font.addObjects
    made: dict[tuple[float, ...], _Formatted] = {}

    def add_objects(doc: Any) -> None:
        add(doc)
        for obj in doc.idToObject["BasicFonts"].dict.values():
            widths = getattr(obj, "Widths", None)
            if not isinstance(obj, pdfdoc.PDFTrueTypeFont) or not isinstance(
                widths, pdfdoc.PDFArray
            ):
                continue
            key = tuple(widths.sequence)
            if not all(type(w) in (int, float) for w in key):
                continue
            with _lock:
                found = made.get(key)
                if found is None:
                    if len(made) >= 32:
                        made.pop(next(iter(made)))
                    found = made[key] = _Formatted(widths.format(doc))
            obj.Widths = found

    font.addObjects = add_objects


class _RememberingFlate(pdfdoc.PDFStreamFilterZCompress):  # type: ignore[misc]
    """ReportLab's Flate filter, remembering the output for a stream it has seen before: the
    font subsets and their ToUnicode maps, the same bytes in most documents, were compressed
    again for every one (a quarter of an invoice's render). Keyed by the whole content, so the
    output is always what zlib would give."""

    def __init__(self) -> None:
        self._seen: dict[int, None] = {}  # hashes of recent long streams, oldest first
        self._made: dict[bytes, bytes] = {}

    def encode(self, text: str | bytes) -> bytes:
        data = text.encode("utf8") if isinstance(text, str) else text
        if len(data) < 1024:
            return zlib.compress(data)
        with _lock:
            found = self._made.get(data)
        if found is not None:
            return found
        out = zlib.compress(data)
        key = hash(data)
        with _lock:
            if key in self._seen:
                if len(self._made) >= 16:
                    self._made.pop(next(iter(self._made)))
                self._made[data] = out
            else:
                if len(self._seen) >= 64:
                    self._seen.pop(next(iter(self._seen)))
                self._seen[key] = None
        return out


class SeededCanvas(Canvas):  # type: ignore[misc]
    """A canvas whose document gives ``SEEDED`` the same codes in every document."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in (FONT, BOLD):
            pdfmetrics.getFont(name).splitString(SEEDED, self._doc)


@lru_cache(maxsize=1)
def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12, textColor=INK)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=10, textColor=MUTED),
        "label": ParagraphStyle("label", parent=base, fontSize=7.5, leading=10, textColor=MUTED),
        "clinic": ParagraphStyle("clinic", parent=base, fontName=BOLD, fontSize=14, leading=17),
        "title": ParagraphStyle(
            "title",
            parent=base,
            fontName=BOLD,
            fontSize=20,
            leading=24,
            alignment=TA_RIGHT,
            textColor=ACCENT,
        ),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
        "cellr": ParagraphStyle("cellr", parent=base, fontSize=8.5, leading=11, alignment=TA_RIGHT),
        "big": ParagraphStyle(
            "big", parent=base, fontName=BOLD, fontSize=11, leading=14, alignment=TA_RIGHT
        ),
        "notice": ParagraphStyle("notice", parent=base, fontName=BOLD, fontSize=9),
    }


def p(text: str, style: str = "body") -> Paragraph:
    """A paragraph of plain text (escaped; newlines kept)."""
    return Paragraph(escape(text).replace("\n", "<br/>"), styles()[style])


def money(cents: int, clinic: ClinicInfo) -> str:
    return format_money(cents, clinic.currency_symbol)


def day(value: date | None, clinic: ClinicInfo) -> str:
    return value.strftime(clinic.date_format) if value else ""


_logo_cache: dict[str, ImageReader] = {}


def logo_reader(data: bytes) -> ImageReader | None:
    """The clinic's logo read once per process, or None when it cannot be drawn."""
    key = hashlib.sha1(data, usedforsecurity=False).hexdigest()
    reader = _logo_cache.get(key)
    if reader is None:
        try:
            reader = ImageReader(io.BytesIO(data))
        except Exception:  # a broken logo must never stop an invoice printing
            return None
        _logo_cache[key] = reader
    w, h = reader.getSize()
    return reader if w and h else None


def _logo(data: bytes) -> Image | None:
    reader = logo_reader(data)
    if reader is None:
        return None
    w, h = reader.getSize()
    scale = min(40 * mm / w, 22 * mm / h)
    return Image(io.BytesIO(data), width=w * scale, height=h * scale)


def identity_lines(clinic: ClinicInfo) -> list[str]:
    """The lines under the clinic's name on every document: legal name, business number,
    address, phone and email."""
    lines = []
    if clinic.legal_name and clinic.legal_name != clinic.name:
        lines.append(clinic.legal_name)
    if clinic.business_number:
        lines.append(f"{clinic.business_number_label} {clinic.business_number}")
    if clinic.address:
        lines.append(clinic.address)
    contact = "  ·  ".join(x for x in (clinic.phone, clinic.email) if x)
    if contact:
        lines.append(contact)
    return lines


def header(clinic: ClinicInfo, title: str, facts: Sequence[tuple[str, str]]) -> Table:
    """Logo and clinic identity on the left; the document's title and key facts on the right."""
    ident: list[Any] = []
    logo = _logo(clinic.logo_png) if clinic.logo_png else None
    if logo is not None:
        logo.hAlign = "LEFT"
        ident += [logo, Spacer(1, 2 * mm)]
    ident.append(p(clinic.name, "clinic"))
    ident.append(p("\n".join(identity_lines(clinic)), "body"))
    right: list[Any] = [p(title, "title"), Spacer(1, 2 * mm)]
    rows = [[k, v] for k, v in facts if v]
    if rows:
        t = Table(rows, colWidths=[28 * mm, 40 * mm], hAlign="RIGHT")
        t.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("FONT", (0, 0), (0, -1), FONT, 7.5, 10),
                    ("FONT", (1, 0), (1, -1), FONT, 9, 12),
                    ("TEXTCOLOR", (0, 0), (0, -1), MUTED),
                    ("TEXTCOLOR", (1, 0), (1, -1), INK),
                    ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 1),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ]
            )
        )
        right.append(t)
    outer = Table([[ident, right]], colWidths=[WIDTH - 72 * mm, 72 * mm])
    outer.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return outer


def boxes(blocks: Sequence[tuple[str, list[str]]]) -> Table:
    """Side-by-side labelled blocks (Bill to, Patient, Practitioner)."""
    cells = [
        [p(label.upper(), "label"), p("\n".join(x for x in text if x))] for label, text in blocks
    ]
    width = WIDTH / max(1, len(blocks))
    t = Table([cells], colWidths=[width] * len(blocks))
    t.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, -1), SHADE),
                ("LINEAFTER", (0, 0), (-2, -1), 2, colors.white),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return t


def grid(head: list[str], rows: list[list[Any]], widths: list[float], right_from: int) -> Table:
    """A table of lines: bold header, hairlines, numbers right-aligned from ``right_from``.

    Plain strings are drawn as table text (cheap); pass a Paragraph where text must wrap."""
    t = Table([head, *rows], colWidths=widths, repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), BOLD, 8.5, 11),
                ("FONT", (0, 1), (-1, -1), FONT, 8.5, 11),
                ("TEXTCOLOR", (0, 0), (-1, -1), INK),
                ("ALIGN", (right_from, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
                ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return t


def totals(rows: Sequence[tuple[str, str, bool]]) -> Table:
    """Right-hand totals block: (label, amount, emphasised)."""
    t = Table([[k, v] for k, v, _strong in rows], colWidths=[55 * mm, 30 * mm], hAlign="RIGHT")
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), FONT, 9, 12),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for i, (_k, _v, strong) in enumerate(rows):
        if strong:
            commands.append(("LINEABOVE", (0, i), (-1, i), 0.8, INK))
            commands.append(("FONT", (0, i), (-1, i), BOLD, 9, 12))
    t.setStyle(TableStyle(commands))
    return t


def build(
    story: list[Any],
    title: str,
    footer: str = "",
    watermark: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """Lay the story out on A4 pages with a footer line and page numbers; return PDF bytes.
    ``progress(done, of)`` is told how many of the story's parts are laid out (it may raise
    to stop the work)."""
    register_fonts()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 6 * mm,
        title=title,
        author="frontdesk",
        invariant=True,
    )

    def decorate(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(MUTED)
        if footer:
            canvas.drawString(MARGIN, MARGIN, footer[:150])
        canvas.drawRightString(PAGE_W - MARGIN, MARGIN, f"Page {document.page}")
        if watermark:
            canvas.setFont(BOLD, 90)
            canvas.setFillColor(colors.Color(0.8, 0.1, 0.1, alpha=0.15))
            canvas.translate(PAGE_W / 2, PAGE_H / 2)
            canvas.rotate(35)
            canvas.drawCentredString(0, 0, watermark)
        canvas.restoreState()

    if progress is not None:
        size, seen = [max(1, len(story))], [0]

        def on_progress(kind: str, value: int) -> None:
            if kind == "SIZE_EST":
                size[0] = max(1, int(value))
            elif kind in ("PROGRESS", "FINISHED"):
                # a part split over pages is counted again: the bar never goes back
                seen[0] = max(seen[0], size[0] if kind == "FINISHED" else int(value))
                progress(min(seen[0], size[0]), size[0])

        doc.setProgressCallBack(on_progress)
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate, canvasmaker=SeededCanvas)
    return buf.getvalue()
