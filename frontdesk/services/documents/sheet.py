"""Billing documents drawn straight onto a ReportLab canvas, with the look of layout.py's
platypus documents but without building flowables: text is measured with the fonts' widths and
wrapped here, money is right-aligned by its width, and pages break between table rows (a row
taller than a page breaks between its lines), each later page repeating a short heading and the
table's header row. Drawing waits until the layout is done, so every page can say "Page n of m".

Platypus layout was most of an invoice's render time (docs/performance.md, section 6)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth

from frontdesk.services.billing.views import ClinicInfo
from frontdesk.services.documents.layout import (
    ACCENT,
    BOLD,
    FONT,
    INK,
    MARGIN,
    MUTED,
    PAGE_H,
    PAGE_W,
    RULE,
    SHADE,
    WIDTH,
    SeededCanvas,
    identity_lines,
    logo_reader,
    register_fonts,
)

# The body's top and bottom: platypus's frame kept 6 pt inside these margins, and so do we.
TOP: float = PAGE_H - MARGIN - 6
BOTTOM: float = MARGIN + 6 * mm + 6  # the footer line sits below this
RIGHT = PAGE_W - MARGIN
PAD = 3.0  # a table cell's padding on every side
INSET = (
    6.0  # paragraphs and the totals block sit this far inside the margins (as platypus put them)
)


@dataclass(frozen=True)
class Style:
    font: str
    size: float
    leading: float
    color: colors.Color = INK
    right: bool = False


BODY = Style(FONT, 9, 12)
SMALL = Style(FONT, 7.5, 10, MUTED)
LABEL = SMALL
RIGHT_BODY = Style(FONT, 9, 12, right=True)
NOTICE = Style(BOLD, 9, 12)
CELL = Style(FONT, 8.5, 11)
CELL_HEAD = Style(BOLD, 8.5, 11)
CLINIC = Style(BOLD, 14, 17)
TITLE = Style(BOLD, 20, 24, ACCENT, right=True)


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` in lines no wider than ``width``: its own line breaks kept, words moved to the
    next line, a word wider than the whole line cut where it must be."""
    out: list[str] = []
    for para in text.split("\n"):
        if stringWidth(para, font, size) <= width:
            out.append(para)
            continue
        line = ""
        for word in para.split(" "):
            trial = f"{line} {word}" if line else word
            if stringWidth(trial, font, size) <= width:
                line = trial
                continue
            if line:
                out.append(line)
            rest = word
            while stringWidth(rest, font, size) > width and len(rest) > 1:
                cut = len(rest) - 1
                while cut > 1 and stringWidth(rest[:cut], font, size) > width:
                    cut -= 1
                out.append(rest[:cut])
                rest = rest[cut:]
            line = rest
        out.append(line)
    return out


# A text drawn on a page: x, baseline y, text, font, size, colour.
_Text = tuple[float, float, str, str, float, colors.Color]


class Sheet:
    """A document being laid out: ``y`` is where the next block starts on the current page.
    Blocks add shapes and texts to the current page; ``pdf()`` draws every page."""

    def __init__(self, title: str, footer: str, heading: str, watermark: str = "") -> None:
        register_fonts()
        self.title, self.footer, self.heading, self.watermark = title, footer, heading, watermark
        self.pages: list[tuple[list[tuple[str, tuple[object, ...]]], list[_Text]]] = []
        self.y: float = TOP
        self._start_page(first=True)

    # -- layout ---------------------------------------------------------------------------
    def _start_page(self, first: bool = False) -> None:
        self.pages.append(([], []))
        self.y = TOP
        if not first:
            # A short heading so a loose page is still known (clinic, title, number), in the
            # top margin as the footer is in the bottom one: a later page holds as many lines
            # as it did with platypus, so the totals are not pushed onto a page of their own.
            base = PAGE_H - MARGIN + 4
            self.text(MARGIN, base, self.heading, BOLD, 8.5, MUTED)
            self.text_right(RIGHT, base, "continued", FONT, 7.5, MUTED)
            self.line(MARGIN, PAGE_H - MARGIN, RIGHT, PAGE_H - MARGIN, 0.3, RULE)

    def new_page(self) -> None:
        self._start_page()

    def room(self) -> float:
        return self.y - BOTTOM

    def need(self, height: float) -> bool:
        """Start a new page unless ``height`` fits on this one; True if a page was started."""
        if height > self.room() and self.y < TOP - 1:
            self.new_page()
            return True
        return False

    def space(self, height: float) -> None:
        self.y = max(self.y - height, BOTTOM)

    # -- drawing primitives (kept, drawn by pdf()) ----------------------------------------
    def text(self, x: float, y: float, s: str, font: str, size: float, color: colors.Color) -> None:
        if s:
            self.pages[-1][1].append((x, y, s, font, size, color))

    def text_right(
        self, right: float, y: float, s: str, font: str, size: float, color: colors.Color
    ) -> None:
        self.text(right - stringWidth(s, font, size), y, s, font, size, color)

    def line(
        self, x1: float, y1: float, x2: float, y2: float, width: float, color: colors.Color
    ) -> None:
        self.pages[-1][0].append(("line", (x1, y1, x2, y2, width, color)))

    def rect(self, x: float, y: float, w: float, h: float, color: colors.Color) -> None:
        self.pages[-1][0].append(("rect", (x, y, w, h, color)))

    def image(self, reader: ImageReader, x: float, y: float, w: float, h: float) -> None:
        self.pages[-1][0].append(("image", (reader, x, y, w, h)))

    # -- output ---------------------------------------------------------------------------
    def pdf(self) -> bytes:
        buf = io.BytesIO()
        c = SeededCanvas(buf, pagesize=A4, invariant=True)
        c.setTitle(self.title)
        c.setAuthor("frontdesk")
        count = len(self.pages)
        for number, (shapes, texts) in enumerate(self.pages, 1):
            self._decorate(c, number, count)
            for kind, args in shapes:
                if kind == "line":
                    x1, y1, x2, y2, width, color = args
                    c.setLineWidth(width)
                    c.setStrokeColor(color)
                    c.line(x1, y1, x2, y2)
                elif kind == "rect":
                    x, y, w, h, color = args
                    c.setFillColor(color)
                    c.rect(x, y, w, h, stroke=0, fill=1)
                else:
                    reader, x, y, w, h = args
                    c.drawImage(reader, x, y, w, h, mask="auto")
            t = c.beginText()
            font: tuple[str, float] = ("", 0.0)
            fill: colors.Color | None = None
            for x, y, s, name, size, color in texts:
                if (name, size) != font:
                    font = (name, size)
                    t.setFont(name, size)
                if color is not fill:
                    fill = color
                    t.setFillColor(color)
                t.setTextOrigin(x, y)
                t.textOut(s)
            c.drawText(t)
            c.showPage()
        c.save()
        return buf.getvalue()

    def _decorate(self, c: SeededCanvas, number: int, count: int) -> None:
        c.saveState()
        c.setFont(FONT, 7.5)
        c.setFillColor(MUTED)
        if self.footer:
            c.drawString(MARGIN, MARGIN, self.footer[:150])
        c.drawRightString(RIGHT, MARGIN, f"Page {number} of {count}")
        if self.watermark:
            c.setFont(BOLD, 90)
            c.setFillColor(colors.Color(0.8, 0.1, 0.1, alpha=0.15))
            c.translate(PAGE_W / 2, PAGE_H / 2)
            c.rotate(35)
            c.drawCentredString(0, 0, self.watermark)
        c.restoreState()


# -- blocks -------------------------------------------------------------------------------


def lines_at(
    sheet: Sheet, x: float, top: float, lines: Sequence[str], style: Style, width: float
) -> float:
    """Draw already-wrapped ``lines`` from ``top`` down (the first baseline one font size below
    it, as platypus puts it); returns the height used."""
    y = top - style.size
    for s in lines:
        if style.right:
            sheet.text_right(x + width, y, s, style.font, style.size, style.color)
        else:
            sheet.text(x, y, s, style.font, style.size, style.color)
        y -= style.leading
    return len(lines) * style.leading


def para(sheet: Sheet, text: str, style: Style = BODY, keep: float = 0.0) -> None:
    """A paragraph the width of the page, breaking across pages between its lines; ``keep``
    more points (what follows it) are kept on the page with its first line."""
    width = WIDTH - 2 * INSET
    for i, s in enumerate(wrap(text, style.font, style.size, width)):
        sheet.need(style.leading + (keep if i == 0 else 0.0))
        sheet.y -= lines_at(sheet, MARGIN + INSET, sheet.y, [s], style, width)


def header(sheet: Sheet, clinic: ClinicInfo, title: str, facts: Sequence[tuple[str, str]]) -> None:
    """Logo and clinic identity on the left; the document's title and key facts on the right."""
    top = sheet.y - PAD
    left_w = WIDTH - 72 * mm
    y = top
    logo = logo_reader(clinic.logo_png) if clinic.logo_png else None
    if logo is not None:
        w, h = logo.getSize()
        scale = min(40 * mm / w, 22 * mm / h)
        sheet.image(logo, MARGIN, y - h * scale, w * scale, h * scale)
        y -= h * scale + 2 * mm
    y -= lines_at(sheet, MARGIN, y, wrap(clinic.name, BOLD, 14, left_w), CLINIC, left_w)
    ident = "\n".join(identity_lines(clinic))
    y -= lines_at(sheet, MARGIN, y, wrap(ident, FONT, 9, left_w), BODY, left_w)
    right_x = RIGHT - 72 * mm
    r = top - lines_at(sheet, right_x, top, wrap(title, BOLD, 20, 72 * mm), TITLE, 72 * mm)
    r -= 2 * mm
    label_x = RIGHT - 68 * mm
    for k, v in facts:
        if not v:
            continue
        base = r - 1 - 9
        sheet.text(label_x, base, k, FONT, 7.5, MUTED)
        sheet.text_right(RIGHT, base, v, FONT, 9, INK)
        r -= 14
    sheet.y = min(y, r) - PAD


def boxes(sheet: Sheet, blocks: Sequence[tuple[str, list[str]]]) -> None:
    """Side-by-side shaded blocks with a small capital label (Bill to, Patient, Practitioner)."""
    width = WIDTH / max(1, len(blocks))
    inner = width - 12
    texts = [wrap("\n".join(x for x in text if x), FONT, 9, inner) for _label, text in blocks]
    height = 5 + 10 + max((len(t) for t in texts), default=0) * 12 + 6
    sheet.need(height)
    top = sheet.y
    sheet.rect(MARGIN, top - height, WIDTH, height, SHADE)
    for i, ((label, _text), lines) in enumerate(zip(blocks, texts, strict=True)):
        x = MARGIN + i * width
        if i:
            sheet.line(x, top, x, top - height, 2, colors.white)
        lines_at(sheet, x + 6, top - 5, [label.upper()], LABEL, inner)
        lines_at(sheet, x + 6, top - 15, lines, BODY, inner)
    sheet.y = top - height


def table(
    sheet: Sheet, head: list[str], rows: list[list[str]], widths: list[float], right_from: int
) -> None:
    """Lines under a bold header row, with hairlines; columns from ``right_from`` right-aligned
    (money). Rows move whole to the next page, where the header row is repeated; a row taller
    than a page breaks between its lines."""
    xs = [MARGIN + sum(widths[:i]) for i in range(len(widths))]
    lead = CELL.leading

    def draw(cells: list[list[str]], style: Style, rule: float, color: colors.Color) -> None:
        top = sheet.y
        depth = max(len(c) for c in cells)
        # line by line across the row, so text read back (or copied) keeps a row together
        for j in range(depth):
            y = top - PAD - style.size - j * lead
            for i, (x, w, lines) in enumerate(zip(xs, widths, cells, strict=True)):
                if j >= len(lines):
                    continue
                if i >= right_from:
                    sheet.text_right(x + w - PAD, y, lines[j], style.font, style.size, style.color)
                else:
                    sheet.text(x + PAD, y, lines[j], style.font, style.size, style.color)
        sheet.y = top - depth * lead - 2 * PAD
        sheet.line(MARGIN, sheet.y, MARGIN + sum(widths), sheet.y, rule, color)

    def wrapped(row: list[str], font: str) -> list[list[str]]:
        return [wrap(s, font, CELL.size, w - 2 * PAD) for s, w in zip(row, widths, strict=True)]

    head_cells = wrapped(head, BOLD)
    head_h = max(len(c) for c in head_cells) * lead + 2 * PAD

    def draw_head() -> None:
        draw(head_cells, CELL_HEAD, 0.8, INK)

    first_h = max(len(c) for c in wrapped(rows[0], FONT)) * lead + 2 * PAD if rows else 0
    sheet.need(head_h + first_h)
    draw_head()
    fresh = True
    for row in rows:
        cells = wrapped(row, FONT)
        while True:
            height = max(len(c) for c in cells) * lead + 2 * PAD
            if height <= sheet.room():
                draw(cells, CELL, 0.3, RULE)
                fresh = False
                break
            fit = int((sheet.room() - 2 * PAD) // lead)
            if not fresh or fit < 1:
                sheet.new_page()
                draw_head()
                fresh = True
                continue
            draw([c[:fit] for c in cells], CELL, 0.3, RULE)
            cells = [c[fit:] for c in cells]
            sheet.new_page()
            draw_head()


def totals(sheet: Sheet, rows: Sequence[tuple[str, str, bool]]) -> None:
    """The right-hand totals block, kept on one page: (label, amount, emphasised)."""
    sheet.need(16 * len(rows))
    right = RIGHT - INSET
    x0 = right - 85 * mm
    for label, amount, strong in rows:
        top = sheet.y
        font = BOLD if strong else FONT
        if strong:
            sheet.line(x0, top, right, top, 0.8, INK)
        base = top - 2 - 9
        sheet.text_right(x0 + 55 * mm - 6, base, label, font, 9, INK)
        sheet.text_right(right - 6, base, amount, font, 9, INK)
        sheet.y = top - 16
