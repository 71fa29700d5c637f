"""Charts and reports: their content, checked through matplotlib's objects, in English and Chinese."""

import re

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from conftest import make_scenario, plan_and_base_runs
from matplotlib.collections import PolyCollection
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text
from typer.testing import CliRunner

from sim.catalogues.indicators import catalogue
from sim.cli import app
from sim.outputs.charts import CHARTS, RUN_COLOURS, SETTING_COLOURS, figure
from sim.outputs.fonts import chinese_font_path
from sim.outputs.labels import labels
from sim.outputs.report import html_report, write_report
from sim.outputs.report_content import differences
from sim.results.folder import Run
from sim.results.query import value
from sim.results.runs import run_scenario, write_run

PLAN = dict(
    region="shengzhou",
    seed=8,
    horizon=2027,
    replicates=2,
    policy={
        "beds": {"nursing_share": {2024: 0.58}, "family_beds": {2024: 200}},
        "insurance": {"start_year": 2023, "coverage": "all"},
    },
    targets=[
        {"indicator": "nursing_share", "value": 0.58, "year": 2024},
        {"indicator": "waiting_list", "value": 100, "year": 2026, "direction": "at_most"},
    ],
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return plan_and_base_runs(tmp_path_factory.mktemp("runs"), PLAN, dict(region="shengzhou", seed=8, horizon=2027))


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def legend_labels(fig) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def test_demand_capacity_shows_need_by_level_against_beds_staffed_beds_and_home_care(runs):
    plan, _ = runs
    fig = figure("demand_capacity", [plan])
    L = labels("en")
    ax = fig.axes[0]
    assert L["charts"]["demand_capacity"]["title"] in texts(fig)
    assert ax.get_xlabel() == "Year" and ax.get_ylabel() == "persons or places"
    names = legend_labels(fig)
    for level in ("mild", "moderate", "severe", "total"):
        assert catalogue().value_label("elders_by_capacity", "capacity", level) in names
    beds = next(line for line in ax.get_lines() if line.get_label() == "Care-home beds")
    years, values = beds.get_data()
    summary = plan.series("beds", "all/all")["mean"]
    assert list(years) == list(summary.index) and np.allclose(values, summary.values)
    assert {"Staffed beds", "Home-care capacity (persons at full package)"} <= set(names)
    assert any(isinstance(c, PolyCollection) for c in ax.collections)  # the 90% band across replicates
    source = [t for t in texts(fig) if t.startswith("Source:")]
    assert len(source) == 1 and "scenario plan (Shengzhou), seed 8, 2 replicate(s)" in source[0]


def test_care_arrangements_keep_one_colour_per_setting(runs):
    plan, _ = runs
    fig = figure("care_arrangements", [plan])
    stacks = [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]
    assert [s.get_label() for s in stacks] == [
        catalogue().value_label("elders_by_setting", "group", s) for s in SETTING_COLOURS
    ]
    assert stacks[-1].get_label() == "Care home"
    for stack, setting in zip(stacks, SETTING_COLOURS, strict=True):
        assert mcolors.to_hex(stack.get_facecolor()[0]) == SETTING_COLOURS[setting].lower()
    assert fig.axes[0].get_ylabel() == "older people (persons)"


def test_occupancy_is_a_share_and_the_queue_is_in_persons(runs):
    plan, _ = runs
    fig = figure("occupancy", [plan])
    top, bottom = fig.axes[:2]
    assert top.get_ylim() == (0, 1) and top.get_ylabel() == "occupied share of beds"
    assert {line.get_label() for line in top.get_lines()} == {
        "All homes",
        "Public",
        "Private and publicly built privately run",
        "Nursing-type",
    }
    assert bottom.get_ylabel() == "persons waiting (persons)"
    waiting = plan.series("waiting_list")["mean"]
    assert np.allclose(bottom.get_lines()[0].get_ydata(), waiting.values)


def test_workforce_and_insurance_charts(runs):
    plan, base = runs
    fig = figure("workforce", [plan])
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    needed = lines["Required for every care need (standards, hours)"]
    assert np.allclose(needed.get_ydata(), plan.series("workers_required")["mean"].values)
    posts = lines["Employers' posts (in post + vacancies)"]
    assert np.allclose(posts.get_ydata(), (plan.series("workers") + plan.series("vacancies"))["mean"].values)
    fig = figure("insurance", [plan])
    assert fig.axes[0].get_ylabel() == "million yuan"
    balance = next(line for line in fig.axes[0].get_lines() if line.get_label() == "Insurance fund balance")
    assert np.allclose(balance.get_ydata(), plan.series("ltci_balance")["mean"].values / 1e6)
    assert "No long-term-care insurance in this scenario" in texts(figure("insurance", [base]))


def test_target_dashboard_draws_each_target_line_and_verdict(runs):
    plan, _ = runs
    fig = figure("targets", [plan])
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 2
    titles = [" ".join(ax.get_title(loc="left").split()) for ax in panels]  # titles wrap to the panel
    delivered = plan.targets.set_index("target").loc["nursing_share", "met_at_target_year"]
    verdict = "commitment, delivered" if delivered else "commitment, not delivered"  # the scenario sets it
    assert titles[0] == f"Nursing-type share of beds: {verdict}"
    lines = {
        round(float(line.get_ydata()[0]), 6)
        for ax in panels
        for line in ax.get_lines()
        if line.get_linestyle() == "--" and line.get_label() == "Target"
    }
    assert lines == {0.58, 100.0}


@pytest.mark.parametrize("chart", [c for c in CHARTS if c != "targets"])
def test_comparison_overlays_the_runs_on_the_panels_of_one_run_with_a_legend_of_the_runs(runs, chart):
    import matplotlib.pyplot as plt

    plan, base = runs  # plan: two replicates, with insurance; base: one replicate, without
    plan_colour, base_colour = (mcolors.to_hex(c) for c in RUN_COLOURS[:2])
    one, fig = figure(chart, [plan]), figure(chart, [plan, base])
    assert len(fig.axes) == len(one.axes)  # overlaid, not side by side
    assert legend_labels(fig) == ["plan (90% interval)", "base (one replicate, no interval)"]
    for ax in fig.axes:
        colours = {mcolors.to_hex(line.get_color()) for line in ax.get_lines()}
        bands = {mcolors.to_hex(c.get_facecolor()[0]) for c in ax.collections if isinstance(c, PolyCollection)}
        if chart == "insurance":  # base has no insurance: its note says so in its colour
            note = next(t for t in ax.texts if t.get_text().startswith("base: "))
            assert mcolors.to_hex(note.get_color()) == base_colour and colours == {plan_colour}
        else:
            assert colours == {plan_colour, base_colour}
        assert bands == {plan_colour}  # a band for the run of several replicates only
    if chart == "occupancy":
        waiting = [line for line in fig.axes[1].get_lines() if mcolors.to_hex(line.get_color()) == base_colour]
        assert np.allclose(waiting[0].get_ydata(), base.series("waiting_list")["mean"].values)
    if chart == "care_arrangements":  # each setting a line style, the same in both runs, named in the panel
        settings = [catalogue().value_label("elders_by_setting", "group", s) for s in SETTING_COLOURS]
        assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == settings
        styles = {line.get_label(): set() for line in fig.axes[0].get_lines()}
        for line in fig.axes[0].get_lines():
            styles[line.get_label()].add(str(line.get_linestyle()))
        assert list(styles) == settings and all(len(s) == 1 for s in styles.values())
    twin = Run.load(base.folder)
    twin.scenario = {**twin.scenario, "name": "base-b"}  # single replicates: no band at all
    single = figure(chart, [base, twin], "zh")
    assert not [c for c in single.findobj(PolyCollection)]
    assert legend_labels(single) == ["base（仅一次重复，无区间）", "base-b（仅一次重复，无区间）"]
    plt.close("all")


def test_differences_table_subtracts_the_first_run(runs):
    table = differences(list(runs))
    row = value(table, "ltci_balance", 2027, column=["plan", "base", "base - plan"])
    assert row["base - plan"] == pytest.approx(row["base"] - row["plan"]) and row["plan"] > 0 == row["base"]
    population = value(table, "population", age_group="80+", column="plan")  # the key indicators' breakdowns
    assert population.index.tolist() == [2024, 2026, 2027] and (population > 0).all()


@pytest.mark.parametrize("chart", list(CHARTS))
def test_chinese_charts_use_the_cjk_font_for_every_character(runs, chart):
    plan, _ = runs
    fig = figure(chart, [plan], lang="zh")
    font = FT2Font(str(chinese_font_path()))
    charmap = font.get_charmap()
    chinese = [t for t in fig.findobj(Text) if re.search(r"[\u4e00-\u9fff]", t.get_text())]
    assert chinese, "the chart has Chinese text"
    for t in chinese:
        assert t.get_fontname() == "Noto Sans SC"
        missing = [c for c in t.get_text() if ord(c) > 127 and ord(c) not in charmap]
        assert not missing, missing


def test_every_chinese_label_can_be_drawn():
    charmap = FT2Font(str(chinese_font_path())).get_charmap()

    def strings(node):
        if isinstance(node, dict):
            for v in node.values():
                yield from strings(v)
        elif isinstance(node, str):
            yield node

    missing = {c for s in strings(labels("zh")) for c in s if ord(c) > 127 and ord(c) not in charmap}
    assert not missing
    assert set(labels("zh")) == set(labels("en"))  # one table per language, the same keys


def test_reports_render_to_html_and_pdf(runs, tmp_path):
    plan, base = runs
    page = html_report([plan], "zh")
    assert "<title>人口老龄化与长期照护：plan</title>" in page
    assert page.count("data:image/png;base64,") == len(CHARTS)
    assert "护理型床位占比" in page and "数据来源与方法" in page
    pdf = write_report([plan], tmp_path / "r.pdf", "pdf", "en").read_bytes()
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type /Page\b", pdf)) == len(CHARTS) + 2
    both = write_report([plan, base], tmp_path / "c.html", "html", "en").read_text(encoding="utf-8")
    assert "Scenario comparison: plan / base" in both
    assert not list(tmp_path.glob(".*.tmp"))


def test_plot_compare_and_report_commands(runs, tmp_path):
    plan, base = runs
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "plot",
            str(plan.folder),
            "--chart",
            "occupancy",
            "--format",
            "svg",
            "--lang",
            "zh",
            "--out",
            str(tmp_path / "c"),
        ],
    )
    assert result.exit_code == 0 and (tmp_path / "c" / "occupancy.svg").exists()
    result = runner.invoke(app, ["compare", str(plan.folder), str(base.folder), "--out", str(tmp_path / "cmp")])
    assert result.exit_code == 0
    diff = pd.read_csv(tmp_path / "cmp" / "differences.csv")
    assert {"plan", "base", "base - plan"} <= set(diff.columns)
    assert len(list((tmp_path / "cmp" / "charts" / "en").glob("*.png"))) == len(CHARTS)
    args = ["compare", str(plan.folder), str(base.folder), "--out", str(tmp_path / "hours"), "--format", "svg"]
    result = runner.invoke(app, [*args, "--indicator", "care_hours"])
    assert result.exit_code == 0, result.output
    hours = pd.read_csv(tmp_path / "hours" / "differences.csv")
    assert sorted(hours.group.unique()) == ["formal", "informal", "need", "unmet"] and set(hours.year) == {
        2024,
        2026,
        2027,
    }
    bad = runner.invoke(app, [*args, "--indicator", "happiness"])
    assert bad.exit_code == 2 and bad.output.strip().startswith(
        "error: --indicator = 'happiness': must be one of admissions"
    )
    result = runner.invoke(app, ["report", str(plan.folder), "--format", "pdf", "--out", str(tmp_path / "r.pdf")])
    assert result.exit_code == 0 and (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    bad = runner.invoke(app, ["report", str(plan.folder), "--lang", "fr"])
    assert bad.exit_code == 2 and bad.output.strip() == "error: --lang = 'fr': must be one of en, zh"
    bad = runner.invoke(app, ["plot", str(tmp_path)])
    assert bad.exit_code == 2 and "not a results folder" in bad.output


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_word_and_excel_reports_read_back_with_the_runs_numbers(runs, tmp_path, lang):
    import openpyxl
    from docx import Document

    from sim.outputs.labels import labels

    plan, _ = runs
    R = labels(lang)["report"]
    docx = write_report([plan], tmp_path / f"r_{lang}.docx", "docx", lang)
    doc = Document(docx)
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings[0] == R["title"].format(scenario="plan")
    assert R["key_indicators"] in headings and R["targets"] in headings and R["sources"] in headings
    assert len(doc.inline_shapes) == len(CHARTS)  # every chart as a picture a writer can move
    indicators = doc.tables[1]
    year = str(plan.scenario["horizon"])
    column = [c.text for c in indicators.rows[0].cells].index(year)
    population = plan.series("population", age_group="60+")["mean"][int(year)]
    assert indicators.rows[1].cells[column].text == f"{population:,.0f}"
    targets = doc.tables[2]
    nursing = next(r for r in targets.rows[1:] if r.cells[0].text == catalogue().target("nursing_share").labels[lang])
    assert nursing.cells[3].text.endswith("%")  # shares as percentages

    xlsx = write_report([plan], tmp_path / f"r_{lang}.xlsx", "xlsx", lang)
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == [R["summary"], R["indicator"], R["targets"], R["percentiles"], R["sources"]]
    sheet = book[R["indicator"]]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    first = next(r for r in rows if r[R["year"]] == plan.scenario["base_year"])
    assert isinstance(first[R["mean"]], float | int)  # numbers as numbers
    assert first[R["mean"]] == pytest.approx(plan.series("population", age_group="60+")["mean"][2020])
    assert first[R["p05"]] <= first[R["mean"]] <= first[R["p95"]]
    targets = book[R["targets"]]
    values = [c.value for c in targets[2]]
    assert isinstance(values[4], float) and values[2] in R["kinds"].values()


def test_a_report_takes_the_scenarios_title_and_description_in_its_language(tmp_path):
    scenario = make_scenario(
        name="plan-x",
        region="shengzhou",
        horizon=2022,
        title={"en": "Shengzhou test plan", "zh": "嵊州测试规划"},
        description={"en": "An English description.", "zh": "中文说明。"},
    )
    run = Run.load(write_run(run_scenario(scenario), tmp_path / "run"))
    zh = html_report([run], "zh")
    assert "<title>人口老龄化与长期照护：嵊州测试规划</title>" in zh and "中文说明。" in zh
    assert "An English description." not in zh
    en = html_report([run], "en")
    assert "Shengzhou test plan" in en and "An English description." in en


def test_the_comparison_target_chart_has_a_legend_of_the_scenarios(runs):
    plan, base = runs
    two = Run.load(plan.folder)
    two.scenario = {**two.scenario, "name": "plan-b"}  # the same results under another name
    fig = figure("targets", [plan, two])
    legend = fig.legends[0]
    names = [t.get_text() for t in legend.get_texts()]
    assert "plan" in names and "plan-b" in names and labels("en")["charts"]["targets"]["target"] in names
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_visible()]
    assert titles[0] == "Nursing-type share of beds"  # each run's verdict is its marker, not one title
