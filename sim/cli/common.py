"""What every command shares: the Typer app whose mistakes are one line, the consoles, the one-line
failure, and the checks of options, scenarios, results folders and output places."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from sim.common.errors import ScenarioError, cut, show
from sim.scenario import Scenario
from sim.scenario.files import load_what_if


class OneLineErrors(TyperGroup):
    """The command line's own mistakes (an unknown option, a missing argument, a value of the wrong type)
    as one line naming the option, the value and what is allowed, exit code 2, like every other error."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        argv = list(sys.argv[1:] if args is None else args)
        try:
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.TyperException as e:  # typer's own click: usage errors, bad values, no arguments
            if type(e).__name__ == "NoArgsIsHelpError":
                e.show()
            else:
                line = usage_line(e, argv, sorted(self.commands))
                err.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
            sys.exit(e.exit_code)
        except typer.Abort:
            err.print("[bold red]error:[/] interrupted", highlight=False)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


TYPE_WORDS = {"valid integer": "must be a whole number", "valid number": "must be a number"}


def usage_line(e: typer.TyperException, argv: list[str], commands: list[str]) -> str:
    message = " ".join(e.format_message().split())
    if message.startswith("No such command"):
        return f"{cut(message).rstrip('.')} (allowed: {', '.join(commands)})"
    if isinstance(e, typer.BadParameter) and e.param is not None and e.param.opts:
        option = max(e.param.opts, key=len)
        given = next((a.split("=", 1)[1] for a in argv if a.startswith(option + "=")), None)
        if given is None and option in argv and argv.index(option) + 1 < len(argv):
            given = argv[argv.index(option) + 1]
        what = message.split(": ", 1)[-1]
        what = next((words for key, words in TYPE_WORDS.items() if key in what), what)
        if option.startswith("-") and given is not None:
            return f"{option} = {cut(given)!r}: {what}"
    command = " ".join(["sim", *[a for a in argv[:1] if not a.startswith("-")]])
    return f"{cut(message)} (see `{command} --help`)"


app = typer.Typer(
    cls=OneLineErrors,
    help="Simulate ageing and long-term-care capacity of a Chinese city, year by year.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


console = Console(soft_wrap=True, highlight=False)


err = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def load_scenario_option(path: Path, seed: int | None, replicates: int | None, sets: list[str] | None) -> Scenario:
    overrides = list(sets or [])
    if seed is not None:
        overrides.append(f"seed={seed}")
    if replicates is not None:
        overrides.append(f"replicates={replicates}")
    try:
        scenario = load_what_if(path, overrides)
    except ScenarioError as e:
        fail(str(e))
    note_if_uncalibrated(scenario)
    return scenario


def note_if_uncalibrated(scenario: Scenario) -> None:
    """One line when the region has no calibration of its own: its care choice then rests on its province's
    fit (a user's city) or on the documented defaults."""
    from sim.data.fits import DEFAULT, resolve

    if scenario.calibration != DEFAULT:
        return
    fit = resolve(DEFAULT, scenario.region, scenario.base_year, scenario.region_file)
    if fit is not None and scenario.region_file is not None:
        err.print(
            f"note: region {scenario.region} has no calibration of its own: its care choice uses its province's "
            f"({fit['name']}); make one with `sim calibrate` (a calibration file with `region: "
            f'{scenario.region_file["file"]}`, README "Add your city"), then `calibration: '
            f"calibration/<name>/fit.yaml` in the scenario",
            highlight=False,
            soft_wrap=True,
        )
    if fit is not None:
        return
    if scenario.region_file is not None:
        how = (
            f'a calibration file with `region: {scenario.region_file["file"]}` (README, "Add your city"), then '
            f"`calibration: calibration/<name>/fit.yaml` in the scenario"
        )
    else:
        how = (
            f"a file like calibration/shengzhou-2020.yaml, then copy its fit.yaml to "
            f"sim/data/calibrations/{scenario.region}-{scenario.base_year}.yaml"
        )
    err.print(
        f"note: region {scenario.region} has no calibration: its care choice uses the documented defaults, "
        f"not fitted to what it observed; make one with `sim calibrate` ({how})",
        highlight=False,
        soft_wrap=True,
    )


def at_least(option: str, value: int | None, least: int) -> None:
    if value is not None and value < least:
        fail(f"{option} = {value}: must be at least {least}")


SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a scenario key, e.g. --set data.mortality_multiplier=0.9 (repeatable)."),
]


Lang = Annotated[str, typer.Option(help="Language of labels: en or zh.")]


Charts = Annotated[list[str] | None, typer.Option("--chart", help="A chart to draw (repeatable; default: all).")]


def results_folders(folders: list[Path]):
    """The results folders, or one line saying which is not one, or lacks indicators of this version."""
    from sim.catalogues.indicators import catalogue
    from sim.results.files import MANIFEST, recover
    from sim.results.folder import Run

    runs = []
    for folder in folders:
        recover(folder)  # before checking it: a write killed between its two renames left the results aside
        if not (folder / MANIFEST).exists() or not (folder / "summary.parquet").exists():
            fail(f"{folder}: not a results folder of sim run (no {MANIFEST} and summary.parquet)")
        try:
            run = Run.load(folder)
        except (OSError, ValueError, KeyError, TypeError) as e:  # pyarrow's and json's errors are ValueErrors
            fail(f"{folder}: its results cannot be read ({type(e).__name__}); run the scenario again")
        missing = sorted(set(catalogue().indicators) - set(run.summary.indicator))
        if missing:
            fail(f"{folder}: made by another version of sim (no {', '.join(missing)}); run the scenario again")
        runs.append(run)
    return runs


def check_output(out: Path, kind: str = "folder", marker: str | None = None, overwrite: bool = True) -> None:
    """One line and exit 2, before any work, if the output cannot be written where asked."""
    from sim.results.files import MANIFEST, OutputError, check_output_dir, check_output_file, check_writable

    try:
        if kind == "file":
            check_output_file(out, overwrite=overwrite)
        elif marker is None:
            check_writable(out)
            if out.exists() and not out.is_dir():
                raise OutputError(f"{show(str(out))}: exists and is not a folder; choose another --out")
        else:
            check_output_dir(out, marker=marker or MANIFEST)
    except OutputError as e:
        fail(str(e))


def check_choice(key: str, value: str, allowed) -> None:
    if value not in allowed:
        fail(f"{key} = {show(value)}: must be one of {', '.join(allowed)}")
