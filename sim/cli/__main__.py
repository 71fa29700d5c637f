"""`python -m sim.cli ...`: the sim command without its console script (as tests and job schedulers call it)."""

from sim.cli import app

app()
