"""Text pages of the PDF report: paragraphs broken into lines by measured width, and tables that fit A4.

Lines are broken the way Chinese and English typesetting expect: between any two Chinese characters,
at spaces, never inside a Latin word or a number ("GB/T", "42195-2022", "2021-2025" stay whole), and
never so that a line starts with closing punctuation (，。）”% ...) or ends with opening punctuation
(（“《 ...) (the Chinese "kinsoku" rules of GB/T 15834 practice and W3C's clreq). Widths are measured
with the font itself, not counted in characters. A table wider than the text block first wraps its
header and first-column text; if its numbers still do not fit it is split into several tables of
consecutive columns, each repeating the first column. A page that fills up continues on the next.
"""

from __future__ import annotations

import re
from functools import cache

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

A4 = (8.27, 11.69)  # inches
POINTS = 72
MARGIN = 0.08 * A4[0] * POINTS  # left and right, in points
TOP, BOTTOM = 0.05 * A4[1] * POINTS, 0.06 * A4[1] * POINTS
TEXT_WIDTH = A4[0] * POINTS - 2 * MARGIN
CELL_PAD = 6.0  # points between table columns
HEADER_MIN = 60.0  # points: a column narrower than its header widens to this much, then the header wraps

# dashes and the wave dash glue to both neighbours: a range ("2021—2025", "60～79岁") stays on one line
NO_LINE_START = set("，。、；：！？）》」』】〕”’%…·,.;:!?)]}—–～")
NO_LINE_END = set("（《「『【〔“‘([{—–～")
_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u2018-\u201d\u2014\u2026\u00b7"
# a token: one CJK character or punctuation mark, a run of spaces, or a run of anything else (a word)
_TOKEN = re.compile(rf"[{_CJK}]| +|[^{_CJK} ]+")


@cache
def _measure(family: tuple[str, ...], size: float):
    prop = FontProperties(family=list(family), size=size)
    engine = TextToPath()

    @cache
    def width(text: str) -> float:
        return engine.get_text_width_height_descent(text, prop, ismath=False)[0] if text else 0.0

    return width


def text_width(text: str, size: float, family: list[str]) -> float:
    """Width in points of ``text`` set at ``size`` points."""
    return _measure(tuple(family), size)(text)


def _units(text: str) -> list[str]:
    """Tokens glued so that no break falls where the rules forbid one."""
    units: list[str] = []
    glue_next = False
    for token in _TOKEN.findall(text):
        if units and (glue_next or (token[0] in NO_LINE_START and not token.isspace())):
            units[-1] += token
        else:
            units.append(token)
        glue_next = not token.isspace() and token[-1] in NO_LINE_END
    return units


def break_lines(text: str, width: float, size: float, family: list[str]) -> list[str]:
    """``text`` broken into lines no wider than ``width`` points (a word wider than a line is cut)."""
    measure = _measure(tuple(family), size)
    width += 1e-6  # a column as wide as its widest cell must hold that cell whatever the rounding
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line = ""
        for unit in _units(paragraph):
            if measure((line + unit).rstrip()) <= width or not line.strip():
                line += unit
            else:
                lines.append(line.rstrip())
                line = unit.lstrip()
            while measure(line.rstrip()) > width and len(line.rstrip()) > 1:  # a word wider than a line
                cut = max([i for i in range(1, len(line)) if measure(line[:i]) <= width] or [1])
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return lines


def column_widths(table: pd.DataFrame, size: float, family: list[str]) -> list[float]:
    """Each column as wide as its widest cell, its header wrapping once it is wider than that."""
    measure = _measure(tuple(family), size)
    widths = []
    for col in table.columns:
        body = max((measure(str(v)) for v in table[col]), default=0.0)
        header = measure(str(col))
        widths.append(max(body, min(header, HEADER_MIN)) + CELL_PAD)
    return widths


def split_columns(table: pd.DataFrame, size: float, family: list[str], width: float = TEXT_WIDTH) -> list:
    """The table as one or more tables whose columns fit ``width`` (each keeps the first column)."""
    first, *rest = table.columns
    natural = column_widths(table, size, family)
    label, widths = min(natural[0], width * 0.4), dict(zip(rest, natural[1:], strict=True))
    parts, current, used = [], [], label
    for c in rest:
        if current and used + widths[c] > width:
            parts.append(current)
            current, used = [], label
        current.append(c)
        used += widths[c]
    parts.append(current)
    return [table[[first, *cols]] for cols in parts]


class TextPages:
    """A4 pages filled from the top: headings, paragraphs, label-value rows and tables."""

    def __init__(self, pdf, family: list[str], size: float = 8.0, bold: str = "normal"):
        self.pdf, self.family, self.size, self.bold = pdf, family, size, bold
        self.fig = None
        self.y = 0.0  # points from the bottom of the page

    def _line_height(self, size: float) -> float:
        return size * 1.55

    def _room(self, height: float) -> None:
        if self.fig is None or self.y - height < BOTTOM:
            self.new_page()

    def new_page(self) -> None:
        self.close_page()
        self.fig = plt.figure(figsize=A4)
        self.y = A4[1] * POINTS - TOP

    def close_page(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            plt.close(self.fig)
            self.fig = None

    def _text(self, x: float, y: float, text: str, size: float, **kwargs) -> None:
        self.fig.text(x / (A4[0] * POINTS), y / (A4[1] * POINTS), text, fontsize=size, va="baseline", **kwargs)

    def heading(self, text: str, size: float = 12.0) -> None:
        lines = break_lines(text, TEXT_WIDTH, size, self.family)
        self._room(self._line_height(size) * (len(lines) + 1.5))
        self.y -= size * 0.5
        for line in lines:
            self.y -= self._line_height(size)
            self._text(MARGIN, self.y, line, size, weight=self.bold)
        self.y -= size * 0.4

    def paragraph(self, text: str, size: float | None = None, colour: str = "#222222") -> None:
        size = size or self.size
        for line in break_lines(text, TEXT_WIDTH, size, self.family):
            self._room(self._line_height(size))
            self.y -= self._line_height(size)
            self._text(MARGIN, self.y, line, size, color=colour)
        self.y -= size * 0.6

    def rows(self, pairs: list[tuple[str, str]], label_width: float = 90.0) -> None:
        """Label-value pairs, the value wrapped beside its label."""
        height = self._line_height(self.size)
        for label, value in pairs:
            lines = break_lines(value, TEXT_WIDTH - label_width, self.size, self.family)
            self._room(height * len(lines))
            for i, line in enumerate(lines):
                self.y -= height
                if i == 0:
                    self._text(MARGIN, self.y, label, self.size, weight=self.bold)
                self._text(MARGIN + label_width, self.y, line, self.size)
        self.y -= self.size * 0.6

    def table(self, table: pd.DataFrame, size: float = 7.0) -> None:
        """A table with a rule under its header; split into column groups when too wide for the page."""
        for part in split_columns(table, size, self.family):
            self._one_table(part, size)

    def _one_table(self, table: pd.DataFrame, size: float) -> None:
        cols = list(table.columns)
        natural = column_widths(table, size, self.family)
        # the first column takes what the others leave (at most its natural width)
        widths = [min(natural[0], TEXT_WIDTH - sum(natural[1:])), *natural[1:]]
        height = self._line_height(size)

        def cells(row) -> list[list[str]]:
            return [break_lines(str(v), w - CELL_PAD, size, self.family) for v, w in zip(row, widths, strict=True)]

        header = cells(cols)
        body = [cells(list(r)) for r in table.itertuples(index=False)]
        self._room(height * (max(map(len, header)) + min(3, len(body)) + 1))
        self._row(header, widths, size)
        self._rule(widths)
        for row in body:
            if self.y - height * max(map(len, row)) < BOTTOM:
                self.new_page()
                self._row(header, widths, size)
                self._rule(widths)
            self._row(row, widths, size)
        self._rule(widths)
        self.y -= height

    def _row(self, row: list[list[str]], widths: list[float], size: float) -> None:
        height = self._line_height(size)
        x = MARGIN
        for i, (lines, w) in enumerate(zip(row, widths, strict=True)):
            for k, line in enumerate(lines):
                y = self.y - height * (k + 1)
                if i == 0:
                    self._text(x, y, line, size)
                else:
                    self._text(x + w - CELL_PAD / 2, y, line, size, ha="right")
            x += w
        self.y -= height * max(map(len, row)) + size * 0.4

    def _rule(self, widths: list[float]) -> None:
        y = (self.y + self.size * 0.2) / (A4[1] * POINTS)
        left, right = MARGIN / (A4[0] * POINTS), (MARGIN + sum(widths)) / (A4[0] * POINTS)
        self.fig.add_artist(plt.Line2D([left, right], [y, y], color="#888888", linewidth=0.5))
