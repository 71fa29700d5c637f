"""Scenarios: what a user asks the model to simulate (a region, a horizon, levers, targets), read from a
YAML file, checked against the schema, and refused in one line when wrong."""

from sim.scenario.files import apply_overrides, load_scenario, read_scenario_file, set_value
from sim.scenario.policy import Insurance
from sim.scenario.schema import Scenario, Target, parse_scenario

__all__ = [
    "Insurance",
    "Scenario",
    "Target",
    "apply_overrides",
    "load_scenario",
    "parse_scenario",
    "read_scenario_file",
    "set_value",
]
