"""What a newcomer met (issue 29): the terminal targets table, targets.csv's digits, `sim evaluate`'s evaluation
year and scale, and `sim region-template`'s hint."""

import pandas as pd
from rich.console import Console
from typer.testing import CliRunner

from sim.cli import app
from sim.outputs.terminal import targets_table
from tests.conftest import ROOT

runner = CliRunner()


def test_targets_table_and_csv_read_as_a_planner_reads_them(tmp_path):
    out = tmp_path / "run"
    plan = ROOT / "scenarios" / "shengzhou-2026.yaml"
    args = ["run", str(plan), "--out", str(out), "--set", "horizon=2026", "--no-charts"]
    assert runner.invoke(app, args).exit_code == 0
    targets = pd.read_csv(out / "targets.csv")

    class Result:
        pass

    result = Result()
    result.targets = targets
    console = Console(width=80, record=True)
    console.print(targets_table(result))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "Nursing-type share of" in text and "nursing_share" not in text and "58.0%" in text
    for line in (out / "targets.csv").read_text().splitlines()[1:]:
        numbers = [f for f in line.split(",") if f.replace(".", "").replace("-", "").isdigit()]
        assert all(len(n.replace("-", "").replace(".", "").strip("0")) <= 6 for n in numbers), line


def test_evaluate_refuses_a_year_after_the_observations_and_says_the_scale(tmp_path):
    out = tmp_path / "ev"
    args = ["evaluate", str(ROOT / "scenarios" / "city003-14th-fyp.yaml"), "--as-of", "2030", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and not out.exists()
    assert "--as-of = 2030: after the last observed year (2022)" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_evaluate_without_a_scale_chooses_the_coarsest_faithful_one_and_says_so():
    from sim.cli.analysis import with_evaluation_scale
    from sim.scenario.files import load_scenario

    path = ROOT / "scenarios" / "city003-14th-fyp.yaml"
    chosen, note = with_evaluation_scale(path, load_scenario(path), None)
    assert chosen.scale == 23 and "no scale given: evaluating at scale 23" in note
    assert with_evaluation_scale(path, load_scenario(path), ["scale=40"]) == (load_scenario(path), None)


def test_region_template_hint_names_the_file_as_a_scenario_beside_it_does(tmp_path):
    out = tmp_path / "new" / "my-city.yaml"
    result = runner.invoke(app, ["region-template", "浙江", "--out", str(out)])
    assert result.exit_code == 0 and out.exists()
    assert "`region: my-city.yaml`" in " ".join(result.output.split())


def test_reports_say_why_trainees_are_not_workers_and_new_beds_stay_empty(tmp_path):
    from sim.outputs.labels import labels
    from sim.outputs.report import write_report
    from sim.outputs.report_content import why_notes
    from sim.results.folder import Run
    from sim.results.runs import run_scenario, write_run
    from tests.conftest import make_scenario

    policy = {"beds": {"total": {2030: 11100}}, "workforce": {"trained_per_year": 400}}  # beds tripled
    scenario = make_scenario(name="plan", horizon=2030, replicates=1, policy=policy)
    run = Run.load(write_run(run_scenario(scenario), tmp_path / "plan"))
    notes = why_notes([run], "en")
    assert any(n.startswith("Workers trained are not workers in post") for n in notes), notes
    assert any(n.startswith("Beds went from") for n in notes), notes
    html = write_report([run], tmp_path / "r.html", "html", "zh").read_text(encoding="utf-8")
    assert labels("zh")["why"]["heading"] in html and "培训人数不等于在岗人数" in html


def test_what_if_titles_name_the_lever_in_the_language():
    from sim.outputs.labels import change_words, labels

    assert (
        change_words("policy.beds.total={2025: 120000}", labels("en")) == "Care-home beds (all types) = 120,000 by 2025"
    )
    assert change_words("policy.beds.total={2025: 120000}", labels("zh")) == "养老机构床位总数 = 2025年 120,000"
    assert change_words("horizon=2026", labels("en")) == "horizon = 2026"
