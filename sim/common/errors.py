"""One-line errors for files a user writes (scenarios, experiments, calibrations): the key path, the value
as written and what is allowed, e.g. ``tianjin.yaml: horizon = 2019: must be after base_year (2020) and at
most 2035``."""

from __future__ import annotations

import re
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, ValidationError


class ScenarioError(Exception):
    """A file that cannot be used; the message is the one line shown to the user."""


class Strict(BaseModel):
    """A schema that refuses unknown keys and values of the wrong type."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True, allow_inf_nan=False)


SHOWN_CHARACTERS = 60  # a value longer than this is cut in messages


def cut(text: str) -> str:
    """Text for a one-line message: its start and its length when it is long."""
    text = " ".join(text.split())
    if len(text) <= SHOWN_CHARACTERS + 20:
        return text
    return f"{text[:SHOWN_CHARACTERS]}... ({len(text):,} characters)"


def show(value: Any) -> str:
    """A value as the user wrote it (whole numbers without '.0': validation turns them into floats), cut
    when long."""
    return cut(_written(value))


def _written(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:  # beyond: 1e+308, not 309 digits
        return str(int(value))
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_written(k)}: {_written(v)}" for k, v in list(value.items())[:50]) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_written(v) for v in value[:50]) + "]"
    return repr(value)


class FieldError(ValueError):
    def __init__(self, key: str, value: Any, allowed: str):
        super().__init__(f"{key} = {show(value)}: {allowed}")
        self.key, self.value, self.allowed = key, value, allowed

    @classmethod
    def passed_on(cls, error: ScenarioError, source: str) -> FieldError:
        """A one-line error of a file this one builds (``source: key = value: allowed``), for this file."""
        found = cls("", None, "")
        found.args = (str(error).removeprefix(f"{source}: "),)
        return found


_MESSAGES = {
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "missing": "is required",
    "model_type": "must be a mapping of keys to values",
    "dict_type": "must be a mapping of keys to values",
    "finite_number": "must be a finite number (not NaN or infinity)",
    "list_type": "must be a list",
}


def fields_at(loc: tuple, root: type[BaseModel]) -> list[str]:
    model = root
    for part in loc[:-1]:
        if isinstance(part, int):  # an item of a list: its schema is the list's item type, taken below
            continue
        models = _models_in(model.model_fields[part].annotation)
        if len(models) != 1:
            return []
        model = models[0]
    return sorted(model.model_fields)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The schemas a field's value may take: the model itself, a list's items, a form of a union."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


UNION_BRANCH = re.compile(r"(float|int|str|bool|none|Profile|(dict|list)\[.*\])")


def first_problem(errors: list[dict]) -> dict:
    """The error to show: for a value that may take several forms (a number or a mapping year -> number),
    the one in the form the user wrote, which goes deepest; the form's tag is dropped from the key."""
    best = max(errors, key=lambda e: len(e["loc"]))
    return best | {"loc": tuple(p for p in best["loc"] if not (isinstance(p, str) and UNION_BRANCH.fullmatch(p)))}


def describe(err: dict, root: type[BaseModel]) -> str:
    loc = tuple(err["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    kind, ctx, value = err["type"], err.get("ctx", {}), err.get("input")
    if kind == "value_error" and isinstance(ctx.get("error"), FieldError):
        return str(ctx["error"])
    key = cut(key)
    if kind == "extra_forbidden":
        allowed = fields_at(loc, root)
        return f"{key} = {show(value)}: unknown key (allowed: {', '.join(allowed) if allowed else 'none yet'})"
    if kind == "missing":
        return f"{key}: is required"
    bounds = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}
    if kind in bounds:
        limit = next(iter(ctx.values()))
        return f"{key} = {show(value)}: must be {bounds[kind]} {limit:g}"
    if kind == "value_error":
        return f"{key} = {show(value)}: {ctx.get('error', err['msg'])}"
    if kind == "literal_error":
        return f"{key} = {show(value)}: must be one of {ctx['expected'].replace(chr(39), '')}"
    # a type error shows the value exactly as it came (2021.0 is not a whole number for a strict int)
    shown = cut(repr(value)) if kind.endswith("_type") else show(value)
    return f"{key} = {shown}: {_MESSAGES.get(kind, err['msg'])}"


def parse_mapping[M: BaseModel](schema: type[M], raw: Any, source: str) -> M:
    """Validate a mapping against a schema; raise ScenarioError with one line naming the first problem."""
    if not isinstance(raw, dict):
        raise ScenarioError(f"{source}: must be a mapping of keys to values, got {type(raw).__name__}")
    try:
        return schema.model_validate(raw)
    except ValidationError as e:
        raise ScenarioError(f"{source}: {describe(first_problem(e.errors()), schema)}") from None
    except FieldError as e:
        raise ScenarioError(f"{source}: {e}") from None
