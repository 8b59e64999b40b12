"""Typed dataclass configs <-> YAML.

Every component of tts_gen takes one dataclass config. This module converts nested plain data (from YAML or
``--set`` overrides) into those dataclasses, strictly: an unknown key, a value of the wrong type, a negative
integer (every integer of a config is a size, count, step or seed) or a non-finite number is a ``ConfigError``
that names the dotted key.

A field whose type is a config base class with several variants (the decoder of each family, for example)
is resolved through the base class's ``resolve_variant(data) -> type`` classmethod, which looks at a
discriminating key such as ``family``.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from tts_gen.files import write_text

T = TypeVar("T")


class ConfigError(ValueError):
    """A config file or override does not match the config classes."""


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _convert(value: Any, tp: Any, key: str) -> Any:
    """Checks ``value`` against the annotation ``tp`` and converts it (dicts become dataclasses)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _convert(value, arg, key)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError(f"{key}: {value!r} matches none of {_type_name(tp)} ({'; '.join(errors)})")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{key}: {value!r} is not one of {list(args)}")
        return value
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: expected a mapping for {tp.__name__}, got {value!r}")
        return from_dict(tp, value, key)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(f"{key}: expected {len(args)} items, got {len(value)}")
            return tuple(_convert(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
        item_type = args[0] if args else Any
        items = [_convert(v, item_type, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        key_type, value_type = args if args else (Any, Any)
        return {_convert(k, key_type, f"{key}.{k}"): _convert(v, value_type, f"{key}.{k}") for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{key}: expected a finite number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        if value < 0:
            raise ConfigError(f"{key}: must not be negative, got {value} (sizes, counts, steps and seeds are >= 0)")
        return value
    if tp in (str, bool):
        if not isinstance(value, tp):
            raise ConfigError(f"{key}: expected {tp.__name__}, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported config type {_type_name(tp)}")


def from_dict(cls: type[T], data: Mapping[str, Any], key: str = "") -> T:
    """Builds the dataclass ``cls`` from nested plain data; unknown keys and wrong types raise ConfigError."""
    resolve = getattr(cls, "resolve_variant", None)
    if resolve is not None:
        try:
            cls = resolve(data)
        except (KeyError, ValueError) as error:
            raise ConfigError(f"{key or 'config'}: {error}") from None
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        where = f"{key}." if key else ""
        raise ConfigError(
            f"unknown config key(s) {', '.join(where + u for u in unknown)}; "
            f"{cls.__name__} accepts: {', '.join(sorted(fields))}"
        )
    values = {}
    for name, value in data.items():
        values[name] = _convert(value, hints[name], f"{key}.{name}" if key else name)
    try:
        return cls(**values)
    except TypeError as error:  # a required field is missing
        raise ConfigError(f"{key or cls.__name__}: {error}") from None
    except ValueError as error:  # __post_init__ validation
        raise ConfigError(f"{key or cls.__name__}: {error}") from None


def to_dict(config: Any) -> Any:
    """Converts a (nested) dataclass config to plain data that YAML can hold."""
    if dataclasses.is_dataclass(config):
        return {f.name: to_dict(getattr(config, f.name)) for f in dataclasses.fields(config)}
    if isinstance(config, (list, tuple)):
        return [to_dict(v) for v in config]
    if isinstance(config, dict):
        return {k: to_dict(v) for k, v in config.items()}
    return config


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Applies ``a.b.c=value`` overrides to nested plain data; values are parsed as YAML scalars/lists."""
    for override in overrides:
        if "=" not in override:
            raise ConfigError(f"override {override!r} must look like section.key=value")
        path, raw = override.split("=", 1)
        parts = path.strip().split(".")
        if not all(parts):
            raise ConfigError(f"override {override!r} has an empty key")
        node = data
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {override!r}: {part} is not a section")
            node = child
        try:
            node[parts[-1]] = parse_value(raw)
        except ConfigError as error:
            raise ConfigError(f"override {path.strip()}: {error}") from None
    return data


def parse_value(raw: str) -> Any:
    """An override's value as YAML would read it, plus numbers such as ``1e-4`` that YAML 1.1 reads as text."""
    if not raw.strip():
        return ""
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as error:
        reason = " ".join(str(error).split())[:160]
        raise ConfigError(f"value {raw.strip()[:80]!r} is not plain YAML data ({reason}); quote text") from None
    if isinstance(value, str) and re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+", value.strip()):
        return float(value)
    return value


def load_yaml(path: str | Path) -> dict:
    """Reads a YAML mapping, with an error that names the file when it is missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top level")
    return data


def load_config(cls: type[T], path: str | Path | None = None, overrides: list[str] | None = None) -> T:
    """Loads ``cls`` from an optional YAML file plus dotted overrides."""
    data = load_yaml(path) if path is not None else {}
    return from_dict(cls, apply_overrides(data, list(overrides or [])))


def save_config(config: Any, path: str | Path) -> None:
    """Writes the fully resolved config as YAML (atomically)."""
    write_text(path, yaml.safe_dump(to_dict(config), sort_keys=False))


def config_hash(config: Any, length: int = 10) -> str:
    """A short stable hash of a config's resolved values (used to key caches and in reports)."""
    import hashlib

    text = yaml.safe_dump(to_dict(config), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:length]
