"""The Simplified-Chinese font of the charts and reports, as a TrueType file matplotlib embeds whole-glyph.

Noto Sans SC (SIL Open Font License 1.1) comes with the package ``pylopdf-fonts-zh-cn`` as an OpenType
file with CFF outlines. Matplotlib embeds CFF fonts in a PDF as Type 3 (glyph drawings that PDF readers
neither search well nor hint), so the outlines are converted once to TrueType quadratic curves (within
one font unit of the original) and the result is kept in the user's cache; PDFs then embed a real font
(Type 0 / CIDFontType2 subset) with its Unicode map, so the text can be searched, copied and pasted.
The conversion takes about half a minute, once per machine and font version.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import cache
from pathlib import Path

from matplotlib import font_manager

FAMILY = "Noto Sans SC"
# The largest distance, in font units (of 1,000 per em), between a cubic outline and its quadratic copy.
MAX_ERROR_UNITS = 1.0


def source_font() -> Path:
    import pylopdf_fonts_zh_cn

    return Path(pylopdf_fonts_zh_cn.__file__).with_name("NotoSansSC-Regular.otf")


def user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sim" / "fonts"


def cache_dir() -> Path:
    """Where the converted font is written: ``SIM_CACHE_DIR/fonts`` when set (``sim app`` keeps everything it
    writes in its runs folder), else the user's cache."""
    return Path(os.environ["SIM_CACHE_DIR"]) / "fonts" if os.environ.get("SIM_CACHE_DIR") else user_cache_dir()


@cache
def chinese_font_path() -> Path:
    """The TrueType copy of Noto Sans SC (made on first use, or read where an earlier use left it),
    registered with matplotlib."""
    source = source_font()
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    name = f"NotoSansSC-Regular-{digest}.ttf"
    made = [folder / name for folder in (cache_dir(), user_cache_dir()) if (folder / name).is_file()]
    if made:
        font_manager.fontManager.addfont(str(made[0]))
        return made[0]
    places = (
        [cache_dir()] if os.environ.get("SIM_CACHE_DIR") else [cache_dir(), Path(tempfile.gettempdir()) / "sim-fonts"]
    )
    for folder in places:
        path = folder / name
        if not path.exists():
            try:
                folder.mkdir(parents=True, exist_ok=True)
                _write_truetype(source, path)
            except OSError:
                continue  # a read-only home: the temporary folder instead
        font_manager.fontManager.addfont(str(path))
        return path
    raise OSError(f"cannot write the converted Chinese font to {' or '.join(str(p) for p in places)}")


def _write_truetype(source: Path, path: Path) -> None:
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(source)
    glyphs = font.getGlyphSet()
    order = font.getGlyphOrder()
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        # PostScript outlines run counter-clockwise, TrueType ones clockwise
        glyphs[name].draw(Cu2QuPen(pen, MAX_ERROR_UNITS, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"], font["loca"] = glyf, newTable("loca")
    for table in ("CFF ", "VORG"):
        del font[table]
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for field in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    font["post"].formatType = 3.0  # no glyph names: 31,000 of them would add megabytes and serve nothing
    font.sfntVersion = "\x00\x01\x00\x00"
    # another process converting at the same time writes its own file; the rename makes either one whole
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    font.save(tmp)
    os.replace(tmp, path)
