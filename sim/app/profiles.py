"""Time profiles in the editor: beside a schedule lever's table of years, a select of how its change comes (the
table, or a named profile of ``sim.scenario.policy.PROFILES``: linear, front-loaded, back-loaded, a step), and a
lever written as a profile edited as its value, year and start year. A profile is written as the scenario files
and ``--set`` write it (``{to: V, by: Y, profile: P, start: S}``), so the run, the link and the downloaded
scenario keep it; ``change`` (the editor's) checks it with the command line's code."""

from __future__ import annotations

from collections.abc import Callable

import solara

from sim.app.state import draft, guarded
from sim.app.texts import t


def profile_label(name: str, language: str) -> str:
    """A time profile's name as the reports write it (``table``: the year-by-year table)."""
    from sim.outputs.labels import labels

    return t("profile_table", language) if name == "table" else labels(language)["optimize_report"]["profiles"][name]


def number_text(v) -> str:
    """A number as YAML reads it back (``1e+06`` would be read as words)."""
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


@solara.component
def ProfileSelect(key: str, profile: dict | None, rows: list[tuple], language: str, change: Callable):
    """How a schedule lever's change comes: the year-by-year table, or a named profile (linear, front-loaded,
    back-loaded, a step) to a value by a year; a table turns into a profile to its last year's value."""
    from sim.scenario.policy import PROFILES

    names = {profile_label(name, language): name for name in ("table", *PROFILES)}
    current = profile["profile"] if profile else "table"

    def pick(shown: str) -> None:
        name = names[shown]
        if name == current:
            return
        if name == "table":  # the profile's end as a one-year target (a straight line from the base year)
            change(key, "{" + f"{profile['by']}: {number_text(profile['to'])}" + "}")
            return
        if profile:
            to, by = profile["to"], profile["by"]
        else:
            dated = [(int(y), v) for y, v in rows if str(y).isdigit()]
            first = min(2025, draft.value.scenario().horizon)  # the plans' year, or the horizon if sooner
            by, to = dated[-1] if dated else (first, rows[-1][1] if rows else None)
            if to is None:  # no value set: the region's own figure in that year
                from sim.scenario.levers import lever_path

                to = lever_path(draft.value.scenario(), key)[by]
        start = profile.get("start") if profile else None
        write_profile(key, {"to": to, "by": by, "profile": name, "start": start}, change)

    solara.Select(
        t("profile", language),
        values=list(names),
        value=profile_label(current, language),
        on_value=guarded(pick),
        classes=["profile-select"],
        style={"max-width": "260px"},
    )


def write_profile(key: str, profile: dict, change: Callable) -> None:
    parts = [f"{k}: {number_text(v) if k == 'to' else v}" for k, v in profile.items() if v not in (None, "")]
    change(key, "{" + ", ".join(parts) + "}")


@solara.component
def ProfilePath(key: str, profile: dict, label: str, error: str, css: list[str], language: str, change: Callable):
    """A schedule lever as a named profile: the value reached, the year it is reached and the year the change
    starts (blank: the base year), each editable, the profile picked beside them."""

    def set_part(part: str, text: str) -> None:
        write_profile(key, dict(profile) | {part: text.strip()}, change)

    with solara.Column(classes=css, style={"gap": "0px"}):
        solara.Text(label, style={"font-weight": "500"})
        ProfileSelect(key, profile, [], language, change)
        with solara.Row(style={"align-items": "center"}):
            solara.InputText(
                t("profile_to", language),
                value=number_text(profile["to"]),
                on_value=lambda v: set_part("to", v),
                continuous_update=False,
                classes=["profile-to"],
            )
            solara.InputText(
                t("profile_by", language),
                value=str(profile["by"]),
                on_value=lambda v: set_part("by", v),
                continuous_update=False,
                classes=["profile-by"],
                style={"max-width": "110px"},
            )
            solara.InputText(
                t("profile_start", language),
                value="" if profile.get("start") is None else str(profile["start"]),
                on_value=lambda v: set_part("start", v),
                continuous_update=False,
                classes=["profile-start"],
                style={"max-width": "150px"},
            )
        if error:
            solara.Error(error, classes=["field-error"])
