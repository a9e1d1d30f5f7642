"""Command-line options made from config fields: a parameter is declared once, as its
config field (:func:`sparkembed.config.param`: type, default, range or choices, help), and
each command that takes it gets ``--name`` from there.

An option given on the command line overrides the config file and ``--set``; the value is
then checked by :func:`sparkembed.config.validate` like any other, so ``--window 0`` and
``--set cooccur.window=0`` fail with the same line.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any, get_type_hints

from sparkembed.config import Config, apply_section

# Options made from config fields keep their field in the argparse destination.
PREFIX = "config:"


def option_name(field_name: str) -> str:
    """``min_count`` -> ``--min-count``."""
    return "--" + field_name.replace("_", "-")


def _section_class(section: str) -> type:
    return get_type_hints(Config)[section]


def config_fields(section: str) -> list[dataclasses.Field]:
    """The fields of one config section, in declaration order."""
    return list(dataclasses.fields(_section_class(section)))


def _comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _describe(section: str, f: dataclasses.Field) -> str:
    meta = f.metadata
    default = f.default_factory() if f.default is dataclasses.MISSING else f.default
    bounds = [f"{op} {meta[k]}" for k, op in (("ge", ">="), ("gt", ">"), ("le", "<=")) if k in meta]
    shown = ",".join(default) if isinstance(default, list) else default
    extra = "; ".join([*bounds, f"default {shown!s}" if shown != "" else 'default ""'])
    return f"{meta.get('help', '')} ({extra}; config {section}.{f.name})"


def add_config_options(parser: argparse.ArgumentParser, fields: list[str]) -> None:
    """An option per ``section.field`` in ``fields``, typed and described by the field."""
    for dotted in fields:
        section, name = dotted.split(".", 1)
        f = next(f for f in config_fields(section) if f.name == name)
        kind = get_type_hints(_section_class(section))[name]
        kw: dict[str, Any] = {
            "dest": f"{PREFIX}{dotted}",
            "default": argparse.SUPPRESS,
            "help": _describe(section, f),
        }
        if kind is bool:
            kw["action"] = argparse.BooleanOptionalAction
        elif kind is list:
            kw.update(type=_comma_list, metavar="A,B,...")
        else:
            kw["type"] = kind
            if "choices" in f.metadata:
                kw["choices"] = f.metadata["choices"]
            else:
                kw["metavar"] = name.upper()
        parser.add_argument(option_name(name), **kw)


def apply_config_options(args: argparse.Namespace, cfg: Config) -> None:
    """Set every config option given on the command line onto ``cfg`` (type-checked;
    ranges are left to :func:`sparkembed.config.validate`)."""
    for dest, value in vars(args).items():
        if dest.startswith(PREFIX):
            section, name = dest[len(PREFIX) :].split(".", 1)
            apply_section(cfg, section, {name: value})
