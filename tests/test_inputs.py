"""Nothing gets in: every bad input (file, --set, option, results folder) is refused in one line naming the key,
the value (cut when long) and what is allowed, exit code 2, nothing written; and a fuzz test derives hundreds
of malformed inputs from the shipped files and checks that rule for each."""

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import ROOT
from typer.testing import CliRunner

from sim.cli import app
from sim.results.files import replace_folder

runner = CliRunner()
PLAN = ROOT / "scenarios" / "shengzhou-2026.yaml"
MAX_LINE = 1500  # an error line stays one readable line whatever the value (lists of what is allowed can be long)
LONG_RUN = "x" * 100  # the fuzz's 5,000-character value must never be echoed whole


def _one_line(result, path=None) -> str:
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line and "Traceback" not in line and line.startswith("error: "), line
    assert len(line) < MAX_LINE, len(line)
    return line


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("policy.beds.total.2026=.nan", "policy.beds.total.2026 = nan: must be a finite number"),
        ("policy.beds.total.2026=.inf", "policy.beds.total.2026 = inf: must be a finite number"),
        ("policy.beds.nursing_share={2024: .nan}", "policy.beds.nursing_share.2024 = nan: must be a finite number"),
        ("policy.beds.total.2026=1.0e+308", "policy.beds.total = {2026: 1e+308}: must be at most"),
        ("data.population_60plus=1000000000000000000000", "population_60plus = 1000000000000000000000: must be <="),
        ("data.parameters.burden_limit=.nan", "data.parameters.burden_limit = nan: must be a finite number"),
        ("data.parameters.dementia_prevalence_60plus=1.5", "dementia_prevalence_60plus = 1.5: must be between 0 and"),
        ("data.parameters.attrition_rate=-0.25", "data.parameters.attrition_rate = -0.25: must be between 0 and 1"),
        ("data.parameters.need_hours_per_week=[0, 7, 21, .inf, 63]", "need_hours_per_week.3 = inf: must be a finite"),
        ("data.parameters.staffing_grade=0.5", "staffing_grade = 0.5: must be 0 (derive it: the grade the base-year"),
        ("data.parameters.empty_bed_level=2.5", "empty_bed_level = 2.5: must be a whole number between 0 and 4"),
        ("data.parameters.children_location={none: 0.5}", "children_location = {'none': 0.5}: its shares must sum"),
        ("targets.0.value=.nan", "targets.0.value = nan: must be a finite number"),
        ("name=../../escaped", "name = '../../escaped': must be letters, digits"),
        ("name=.hidden", "name = '.hidden': must be letters, digits"),
        ("policy.insurance.start_year=2040", "policy.insurance.start_year = 2040: must be from 2020 to the horizon"),
    ],
)
def test_bad_values_are_one_line(tmp_path, setting, expected):
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(PLAN), "--set", setting, "--out", str(out), "--no-charts"])
    line = _one_line(result)
    assert expected in line, line
    assert not out.exists() and not any(tmp_path.iterdir())


def _bomb() -> str:
    lines = ["region: shengzhou", "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return "\n".join([*lines, "targets: *a8"]) + "\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_bomb(), "line 2: anchors and aliases (&name, *name) are not allowed"),
        ("region: shengzhou\ndata: " + "[" * 20000 + "]" * 20000 + "\n", "line 2: nested deeper than 32 levels"),
        ("region: shengzhou\nhorizon: 2030\nregion: tianjin\n", "line 3: key 'region' is given twice"),
        ("region: shengzhou\n# " + "x" * 2_000_000 + "\n", "bytes; a file here is at most 1,000,000"),
        ("region: shengzhou\nhorizon: '" + "9" * 200_000 + "'\n", "horizon = '99999999999"),
    ],
)
def test_hostile_yaml_is_refused_before_it_is_expanded(tmp_path, text, expected):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    line = _one_line(runner.invoke(app, ["validate", str(path)]))
    assert expected in line, line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", str(PLAN), "--seed", "abc"], "error: --seed = 'abc': must be a whole number"),
        (["run", str(PLAN), "--seed=abc"], "error: --seed = 'abc': must be a whole number"),
        (["run", str(PLAN), "--bogus"], "error: No such option: --bogus"),
        (["run"], "error: Missing argument 'scenario'."),
        (["bogus"], "error: No such command 'bogus' (allowed: app, calibrate, compare, emulate, evaluate,"),
        (["evaluate", str(PLAN), "--on-track", "x"], "error: --on-track = 'x': must be a number"),
    ],
)
def test_command_line_mistakes_are_one_line(args, expected):
    line = _one_line(runner.invoke(app, args))
    assert line.startswith(expected), line


def test_a_damaged_results_folder_is_one_line(tmp_path):
    run = tmp_path / "run"
    result = runner.invoke(app, ["run", str(PLAN), "--set", "horizon=2026", "--out", str(run), "--no-charts"])
    assert result.exit_code == 0, result.output
    (run / "summary.parquet").write_bytes((run / "summary.parquet").read_bytes()[:100])
    for command in (["plot", str(run)], ["report", str(run)], ["compare", str(run), str(run)]):
        line = _one_line(runner.invoke(app, command))
        assert line == f"error: {run}: its results cannot be read (ArrowInvalid); run the scenario again"


def test_an_unwritable_place_is_refused_before_the_run(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = runner.invoke(app, ["run", str(PLAN), "--out", str(blocker / "out")])
    line = _one_line(result)
    expected = f"error: {blocker / 'out'}: cannot be written ({blocker} is not a writable folder)"
    assert line == expected + "; choose another --out"


# --- writes that recover -------------------------------------------------------------------------------
def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("finished") / "run"
    result = runner.invoke(app, ["run", str(PLAN), "--set", "horizon=2026", "--out", str(out), "--no-charts"])
    assert result.exit_code == 0, result.output
    return out


def _killed_between_the_renames(finished: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of a results folder as a writer killed after its first rename leaves it: only aside."""
    out = tmp_path / "run"
    aside = tmp_path / f".run.old-{_dead_pid()}"
    shutil.copytree(finished, aside)
    return out, aside


@pytest.mark.parametrize(
    "command",
    [
        ["plot", "{out}", "--chart", "occupancy", "--out", "{tmp}/charts"],
        ["compare", "{out}", "{out}", "--out", "{tmp}/compare.csv"],
        ["report", "{out}", "--out", "{tmp}/report.md"],
    ],
)
def test_every_command_that_reads_results_restores_a_write_killed_between_the_renames(finished_run, tmp_path, command):
    out, aside = _killed_between_the_renames(finished_run, tmp_path)
    args = [a.format(out=out, tmp=tmp_path) for a in command]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (out / "manifest.json").exists() and not aside.exists()


def test_the_app_restores_a_stored_run_killed_between_the_renames(finished_run, tmp_path):
    from sim.analysis.executors import LocalProcesses
    from sim.app.jobs import RunQueue
    from sim.app.results_view import run_at

    with LocalProcesses(1) as executor:
        queue = RunQueue(tmp_path, executor)
        queue.store.mkdir(parents=True)
        out, aside = _killed_between_the_renames(finished_run, queue.store)
        assert queue.stored(out.name) == out  # found stored, not run again
    assert run_at(str(out)).manifest == json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert not aside.exists()


def test_debris_of_a_killed_writer_is_cleaned_and_a_live_one_is_left(tmp_path):
    out = tmp_path / "run"
    dead = tmp_path / f".run.{_dead_pid()}.abc.tmp"
    live = tmp_path / f".run.{os.getppid()}.abc.tmp"
    for folder in (dead, live):
        folder.mkdir()
        (folder / "manifest.json").write_text("{}")
    with replace_folder(out) as tmp:
        (tmp / "manifest.json").write_text("{}")
    assert not dead.exists() and live.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, "run"])


def test_folders_follow_the_users_umask(tmp_path):
    old = os.umask(0o022)
    try:
        with replace_folder(tmp_path / "run") as tmp:
            (tmp / "manifest.json").write_text("{}")
    finally:
        os.umask(old)
    assert (tmp_path / "run").stat().st_mode & 0o777 == 0o755


# --- fuzz: malformed inputs derived from the shipped files -------------------------------------------------
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
REPLACEMENTS = [
    "text",
    -1,
    -1e308,
    1e308,
    float("nan"),
    float("inf"),
    True,
    None,
    [],
    {},
    [[[[[1]]]]],
    {"unknown_key": 1},
    "x" * 5000,
    12345678901234567890,
]


def _paths(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


def _mutants(rng: np.random.Generator, count: int):
    """(description, YAML text) pairs: one value replaced, an unknown key added, a key duplicated, nesting
    deepened, at random places of random shipped scenarios (fixed seed)."""
    raws = {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in SHIPPED}
    for k in range(count):
        name = sorted(raws)[k % len(raws)]
        raw = copy.deepcopy(raws[name])
        paths = list(_paths(raw))
        path = paths[int(rng.integers(len(paths)))]
        parent = raw
        for part in path[:-1]:
            parent = parent[part]
        kind = k % 5
        if kind in (0, 1):
            parent[path[-1]] = REPLACEMENTS[int(rng.integers(len(REPLACEMENTS)))]
            yield f"{name}: {path} replaced", yaml.safe_dump(raw, allow_unicode=True)
        elif kind == 2 and isinstance(parent, dict):
            parent[f"bogus_{k}"] = 1
            yield f"{name}: unknown key beside {path}", yaml.safe_dump(raw, allow_unicode=True)
        elif kind == 3:
            text = yaml.safe_dump(raw, allow_unicode=True)
            first = text.splitlines()[0]
            yield f"{name}: first key repeated", text + first + "\n"
        else:
            deep: list = [1]
            for _ in range(40):
                deep = [deep]
            parent[path[-1]] = deep
            yield f"{name}: {path} nested deeply", yaml.safe_dump(raw, allow_unicode=True)


def test_fuzz_malformed_scenarios_get_one_line_or_are_valid(tmp_path):
    """240 inputs: each is either a valid scenario (exit 0) or refused in one line with exit 2; never a
    traceback, never another exit code, never a long value echoed whole."""
    rng = np.random.default_rng(20261129)
    refused = 0
    for k, (what, text) in enumerate(_mutants(rng, 240)):
        path = tmp_path / f"m{k}.yaml"
        path.write_text(text, encoding="utf-8")
        result = runner.invoke(app, ["validate", str(path)])
        assert result.exit_code in (0, 2), (what, result.output[-500:])
        if result.exit_code == 2:
            refused += 1
            line = result.output.strip()
            assert "\n" not in line and line.startswith(f"error: {path}"), (what, line[:500])
            assert len(line) < MAX_LINE and LONG_RUN not in line, (what, len(line))
    assert refused >= 150  # most mutations break something


def _mutate(raw: dict, rng: np.random.Generator, k: int) -> str:
    raw = copy.deepcopy(raw)
    paths = list(_paths(raw))
    path = paths[int(rng.integers(len(paths)))]
    parent = raw
    for part in path[:-1]:
        parent = parent[part]
    if k % 3 == 2 and isinstance(parent, dict):
        parent[f"bogus_{k}"] = 1
    else:
        parent[path[-1]] = REPLACEMENTS[int(rng.integers(len(REPLACEMENTS)))]
    text = yaml.safe_dump(raw, allow_unicode=True)
    return text + text.splitlines()[0] + "\n" if k % 7 == 6 else text  # now and then a key given twice


@pytest.mark.parametrize("kind", ["experiments", "calibration"])
def test_fuzz_malformed_experiments_and_calibrations_get_one_line(tmp_path, kind):
    """80 of each, derived from the shipped files: loaded, or refused with one short line naming the file."""
    from sim.analysis.experiment import ExperimentError, load_experiment
    from sim.analysis.fitting import load_spec
    from sim.common.errors import ScenarioError

    load = load_experiment if kind == "experiments" else load_spec
    sources = sorted((ROOT / kind).glob("*.yaml"))
    rng = np.random.default_rng(7)
    refused = 0
    for k in range(80):
        raw = yaml.safe_load(sources[k % len(sources)].read_text(encoding="utf-8"))
        if kind == "experiments" and isinstance(raw.get("scenario"), str):
            raw["scenario"] = str((ROOT / kind / raw["scenario"]).resolve())
        path = tmp_path / f"m{k}.yaml"
        path.write_text(_mutate(raw, rng, k), encoding="utf-8")
        try:
            load(path)
        except (ExperimentError, ScenarioError) as e:
            refused += 1
            line = str(e)
            assert "\n" not in line and line.startswith(str(path)), line[:300]
            assert len(line) < MAX_LINE and LONG_RUN not in line, len(line)
    assert refused >= 50


@pytest.mark.parametrize("command", ["sweep", "calibrate", "evaluate"])
def test_every_command_refuses_an_unwritable_place_before_it_starts(tmp_path, command):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    out = blocker / "out"
    args = {
        "sweep": ["sweep", str(ROOT / "experiments" / "ishigami-sobol.yaml"), "--workers", "1"],
        "calibrate": ["calibrate", str(ROOT / "calibration" / "shengzhou-2020.yaml")],
        "evaluate": ["evaluate", str(ROOT / "scenarios" / "tianjin-14th-fyp.yaml"), "--set", "scale=16"],
    }[command]
    line = _one_line(runner.invoke(app, [*args, "--out", str(out)]))
    assert f"{out}: cannot be written ({blocker} is not a writable folder)" in line


# --- limits a user's number can exceed, and output places, checked before any work (issue 30) ----------
@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (
            "policy.insurance.premium_per_person=1.0e+308",
            "policy.insurance.premium_per_person = 1e+308: must be <= 1e+06",
        ),
        (
            "policy.insurance.institution_daily=1000000000000",
            "policy.insurance.institution_daily = 1000000000000: must be <=",
        ),
        ("policy.subsidies.old_age_allowance_monthly=1.0e+300", "old_age_allowance_monthly = 1e+300: must be between"),
        (
            "policy.workforce.trained_per_year=1000000000000",
            "policy.workforce.trained_per_year = 1000000000000: must be at most",
        ),
        (
            "policy.workforce.migrants_per_year={2025: 1000000000000000}",
            "migrants_per_year = {2025: 1000000000000000}: must be at",
        ),
    ],
)
def test_money_and_counts_beyond_any_plan_are_refused(tmp_path, setting, expected):
    out = tmp_path / "out"
    line = _one_line(runner.invoke(app, ["run", str(PLAN), "--set", setting, "--out", str(out), "--no-charts"]))
    assert expected in line, line
    assert not any(tmp_path.iterdir())


def test_a_run_that_would_not_fit_in_memory_is_refused_before_it_starts(tmp_path):
    city = tmp_path / "huge.yaml"
    text = (ROOT / "docs" / "examples" / "shaoxing.yaml").read_text(encoding="utf-8")
    plan = tmp_path / "plan.yaml"
    plan.write_text("region: huge.yaml\n", encoding="utf-8")
    # 10^12 people: refused as a typing slip, before anything is built
    city.write_text(text.replace("value: 5270977", "value: 1000000000000"), encoding="utf-8")
    line = _one_line(runner.invoke(app, ["validate", str(plan)]))
    assert "population_2020.value = 1000000000000: must be at most 1,500,000,000" in line, line
    # China at one agent per person is 590 million agent-lives by 2035: more memory than any machine of ours
    line = _one_line(runner.invoke(app, ["run", str(ROOT / "scenarios" / "china-baseline.yaml"), "--set", "scale=1"]))
    assert "scale = 1: a run needs about" in line and "GiB of memory" in line and "persons per agent" in line, line


def test_observations_with_a_stray_quote_or_extra_fields_are_refused_naming_the_line(tmp_path):
    header = "indicator,year,value,tolerance,source\n"
    cases = {
        'population,2021,3000000,10000,"bulletin\npopulation,2022,3100000,10000,b\n': "line 2: a quote opened here",
        "population,2021,3000000,10000,bulletin,extra\n": "line 2: 6 fields, the header has 5",
        "population,2021,3000000,10000\n": "line 2: 4 fields, the header has 5",
    }
    for body, message in cases.items():
        observed = tmp_path / "observed.csv"
        observed.write_text(header + body, encoding="utf-8")
        args = ["evaluate", str(ROOT / "scenarios" / "tianjin-14th-fyp.yaml"), "--observed", str(observed)]
        line = _one_line(runner.invoke(app, [*args, "--set", "scale=16", "--out", str(tmp_path / "ev")]))
        assert message in line, line
    assert not (tmp_path / "ev").exists()


def test_files_that_are_not_regular_files_are_refused_without_reading_them(tmp_path):
    for special in ("/dev/zero", "/dev/urandom", str(tmp_path)):
        line = _one_line(runner.invoke(app, ["validate", special]))
        assert "not a regular file" in line or "cannot be read" in line, line


LONG_NAME = "x" * 300


@pytest.mark.parametrize(
    "args",
    [
        ["region-template", "zhejiang", "--out"],
        ["validate-published", "--out"],
        ["evaluate", str(ROOT / "scenarios" / "tianjin-14th-fyp.yaml"), "--set", "scale=16", "--out"],
    ],
)
def test_every_output_place_is_checked_before_any_work(tmp_path, args):
    blocker = tmp_path / "a-file.md"
    blocker.write_text("x")
    places = {
        f"/proc/sim-{os.getpid()}.md": "is not a writable folder",
        str(tmp_path / f"{LONG_NAME}.md"): "a name on this path is longer than 255 bytes",
        str(blocker / "out.md"): "is not a writable folder",
    }
    if args[0] == "region-template":
        places[str(blocker)] = "exists; choose another --out"
    for out, message in places.items():
        line = _one_line(runner.invoke(app, [*args, out]))
        assert message in line, (out, line)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file.md"]
    assert not Path(f"/proc/sim-{os.getpid()}.md").exists()


def test_report_refuses_a_damaged_evaluation_or_another_plans(tmp_path):
    run = tmp_path / "run"
    args = ["run", str(PLAN), "--set", "horizon=2026", "--out", str(run), "--no-charts"]
    assert runner.invoke(app, args).exit_code == 0
    evaluation = tmp_path / "ev"
    evaluation.mkdir()
    line = _one_line(runner.invoke(app, ["report", str(run), "--evaluation", str(evaluation)]))
    assert "not a folder of sim evaluate (no evaluation.csv)" in line
    for name in ("evaluation.csv", "fans.csv", "observed.csv"):
        (evaluation / name).write_text("target\n", encoding="utf-8")
    (evaluation / "evaluation.json").write_text("{not json", encoding="utf-8")
    line = _one_line(runner.invoke(app, ["report", str(run), "--evaluation", str(evaluation)]))
    assert "its files cannot be read (JSONDecodeError)" in line
    other = {"scenario": {"name": "tianjin-14th-fyp", "region": "tianjin"}, "as_of": 2023}
    (evaluation / "evaluation.json").write_text(json.dumps(other), encoding="utf-8")
    columns = "target,kind,target_year,target_value,scheduled,p_met,verdict,expected\n"
    (evaluation / "evaluation.csv").write_text(columns + "beds_total,commitment,2025,1,1,1,on track,1\n")
    line = _one_line(runner.invoke(app, ["report", str(run), "--evaluation", str(evaluation)]))
    assert "an evaluation of tianjin-14th-fyp (tianjin) as of 2023, not of the report's run shengzhou" in line
    assert not list(run.glob("report_*"))
