"""The `sim` command: run, validate and inspect scenarios, draw and report, analyse many runs, serve the app.

Errors the user can fix (a wrong scenario, an output folder that is not ours) are one line on stderr
and exit code 2, with nothing written. Each group of commands is a module here; importing it registers its
commands, and `sim --help` lists them in the order of GROUPS.
"""

from importlib import import_module

from sim.cli.common import app

GROUPS = ("scenarios", "documents", "analysis", "emulate", "steps", "optimize", "serve")
for group in GROUPS:
    import_module(f"sim.cli.{group}")

__all__ = ["app"]
