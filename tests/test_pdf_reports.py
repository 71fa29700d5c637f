"""PDF reports read back as a reader's software sees them: real fonts, whole words and numbers, tables on the page."""

from __future__ import annotations

import re

import pandas as pd
import pypdf
import pytest
from conftest import plan_and_base_runs

from sim.outputs.labels import font_family, run_title
from sim.outputs.pdf_pages import NO_LINE_END, NO_LINE_START, TEXT_WIDTH, break_lines, split_columns, text_width
from sim.outputs.report import write_report
from sim.outputs.report_content import key_indicator_table, targets_table

PLAN = dict(
    region="shengzhou",
    seed=3,
    horizon=2030,
    replicates=2,
    title={"en": "Shengzhou: beds and insurance", "zh": "嵊州：床位与长期护理保险"},
    description={
        "en": "A test plan: nursing beds to 58% by 2024 (GB/T 42195-2022 levels), insurance from 2023.",
        "zh": "测试规划：2024年护理型床位占比58%（按GB/T 42195-2022评估），2023年起实施长期护理保险，"
        "覆盖全体参保人员；2021—2025年培训养老护理员2万名。",
    },
    policy={"beds": {"nursing_share": {2024: 0.58}}, "insurance": {"start_year": 2023, "coverage": "all"}},
    targets=[
        {"indicator": "nursing_share", "value": 0.58, "year": 2024},
        {"indicator": "waiting_list", "value": 100, "year": 2026, "direction": "at_most"},
    ],
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = dict(region="shengzhou", seed=3, horizon=2030, replicates=2)
    return plan_and_base_runs(tmp_path_factory.mktemp("runs"), PLAN, base)


def pdf_text_and_fonts(path) -> tuple[list[str], set[tuple[str, str]]]:
    reader = pypdf.PdfReader(path)
    pages, fonts = [], set()
    for page in reader.pages:
        pages.append(page.extract_text())
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            subtypes = [str(font["/Subtype"])]
            subtypes += [str(d.get_object()["/Subtype"]) for d in font.get("/DescendantFonts", [])]
            fonts.add(("/".join(subtypes), str(font["/BaseFont"]).split("+")[-1]))
    return pages, fonts


def latin(character: str) -> bool:
    return bool(re.match(r"[A-Za-z0-9/\-.,%()]", character))


@pytest.mark.parametrize(
    "text",
    [
        PLAN["description"]["zh"],
        PLAN["description"]["en"],
        "养老服务体系建设（GB/T 42195-2022《老年人能力评估规范》）要求，护理型床位占比不低于55%。" * 3,
    ],
)
@pytest.mark.parametrize("width", [60.0, 150.0, 400.0])
def test_lines_break_where_chinese_and_english_typesetting_allow(text, width):
    family = font_family("zh")
    lines = break_lines(text, width, 8, family)
    assert all(text_width(line, 8, family) <= width + 1e-6 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")  # nothing lost or added
    for before, after in zip(lines, lines[1:], strict=False):
        assert after[0] not in NO_LINE_START and before[-1] not in NO_LINE_END
    # every break falls at a space or beside a Chinese character, never inside a Latin word or a number
    position = 0
    for line in lines[:-1]:
        position = text.index(line, position) + len(line)
        assert text[position] == " " or not (latin(text[position - 1]) and latin(text[position])), line
    for word in ("GB/T", "42195-2022", "2021—2025", "58%"):
        if word in text and width >= 60:
            assert any(word in line for line in lines)


def test_a_table_too_wide_for_the_page_is_split_into_column_groups_that_fit():
    family = font_family("zh")
    table = pd.DataFrame(
        {"指标": ["60岁及以上人口", "有照护需求的老年人（轻度失能及以上）"]}
        | {f"方案{i} {year}": ["3,002,691", "334,744"] for i in range(3) for year in (2020, 2025, 2030, 2035)}
    )
    parts = split_columns(table, 7, family)
    assert len(parts) > 1
    assert all(part.columns[0] == "指标" for part in parts)
    assert [c for part in parts for c in part.columns[1:]] == list(table.columns[1:])  # each once, in order
    for part in parts:
        numbers = sum(max(text_width(str(v), 7, family) for v in part[c]) for c in part.columns[1:])
        assert numbers < TEXT_WIDTH


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pdf_report_embeds_a_real_font_and_keeps_every_table_cell_whole(runs, tmp_path, lang):
    plan, base = runs
    path = write_report([plan], tmp_path / f"r_{lang}.pdf", "pdf", lang)
    pages, fonts = pdf_text_and_fonts(path)
    assert fonts and all("Type3" not in subtype for subtype, _ in fonts), fonts
    if lang == "zh":
        assert ("/Type0//CIDFontType2", "NotoSansSC-Regular") in fonts
    first = re.sub(r"\s+", " ", pages[0])
    assert run_title(plan, lang) in first
    table = key_indicator_table([plan], lang)
    assert list(table.columns)[-1] == "2030"  # the horizon column is there and on the page
    for name, row in table.iterrows():
        assert name in first
        for cell in row:
            assert str(cell) in first, (name, cell)
    for _, row in targets_table([plan], lang).iterrows():
        assert str(row.iloc[0]) in first and str(row.iloc[-1]) in first
    # the description is broken into lines but no word or number is cut
    for word in ("GB/T", "42195-2022", "58%"):
        assert word in first


def test_a_comparison_pdf_keeps_every_scenarios_columns(runs, tmp_path):
    plan, base = runs
    path = write_report([plan, base], tmp_path / "c.pdf", "pdf", "zh")
    pages, _ = pdf_text_and_fonts(path)
    text = re.sub(r"\s+", " ", " ".join(pages[:2]))
    table = key_indicator_table([plan, base], "zh")
    for column in table.columns:
        assert column in text
        for cell in table[column]:
            assert str(cell) in text
