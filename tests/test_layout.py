"""The package's layout holds: the layers follow the model's flow (import-linter's contract in pyproject.toml,
run as CI runs it), no module imports another's private names, and no module grows past what one reads in
one pass without a stated reason."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIM = ROOT / "sim"
MAX_LINES = 500
LONGER = {}  # module -> why it is longer (none today)


def modules():
    return [p for p in sorted(SIM.rglob("*.py")) if "assets" not in p.parts]


def test_the_layers_follow_the_models_flow():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Layers follow the model's flow KEPT" in result.stdout


def test_no_module_imports_another_modules_private_names():
    found = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim"):
                private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                if private:
                    found.append(f"{path.relative_to(ROOT)}: {node.module}.{', '.join(private)}")
    assert not found, found


def test_no_module_is_longer_than_one_reads_in_one_pass():
    long = {
        str(p.relative_to(ROOT)): n
        for p in modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES and str(p.relative_to(ROOT)) not in LONGER
    }
    assert not long, long


def test_the_model_description_names_every_parameter_lever_indicator_and_submodel():
    """docs/model.md is the model's description (ODD): a parameter, lever, indicator or submodel added
    without its description there fails here."""
    from sim.catalogues.indicators import catalogue
    from sim.catalogues.levers import lever_catalogue
    from sim.data.parameters import parameter_names

    doc = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip() for line in doc.splitlines() if line.startswith("| `")}
    missing = [f"parameter {n}" for n in parameter_names() if f"`{n}`" not in rows]
    missing += [f"lever {key}" for key in lever_catalogue().levers if f"`{key}`" not in rows]
    missing += [f"indicator {name}" for name in catalogue().indicators if f"`{name}`" not in doc]
    missing += [
        f"submodel {p.stem}" for p in (SIM / "model").glob("*.py") if p.stem != "__init__" and f"`{p.stem}`" not in doc
    ]
    assert not missing, missing
