from pathlib import Path

import pytest

from sim.model.model import AgeingModel
from sim.scenario import parse_scenario

ROOT = Path(__file__).resolve().parents[1]


def make_scenario(**values):
    values.setdefault("region", "shengzhou")
    return parse_scenario(values, "test")


def plan_and_base_runs(folder: Path, plan: dict, base: dict):
    """Two results folders written without charts, a plan and its baseline, loaded as report runs."""
    from sim.results.folder import Run
    from sim.results.runs import run_scenario, write_run

    return tuple(
        Run.load(write_run(run_scenario(make_scenario(name=name, **values)), folder / name))
        for name, values in (("plan", plan), ("base", base))
    )


@pytest.fixture(scope="session")
def tianjin_run():
    """Tianjin's population at one agent per person, 2020-2035, seed 1: shared by the tests that need a city
    of millions (the care system is left out; it does not change the population, see test_model)."""
    model = AgeingModel(make_scenario(region="tianjin", seed=1), care=False)
    model.run()
    return model
