"""Strict typed configs: unknown keys, wrong types, overrides, variants."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.conftest import ROOT
from tts_gen.config import ConfigError, apply_overrides, from_dict, load_config, save_config, to_dict
from tts_gen.experiment import ExperimentConfig, load_experiment
from tts_gen.models.decoders.flow import FlowDecoderConfig


@dataclass
class Inner:
    rate: float = 1.0
    names: list[str] = field(default_factory=list)


@dataclass
class Outer:
    steps: int = 10
    flag: bool = False
    inner: Inner = field(default_factory=Inner)
    pair: tuple[float, float] = (0.9, 0.98)
    weights: dict[str, float] = field(default_factory=dict)
    maybe: int | None = None


def test_nested_values_convert():
    config = from_dict(Outer, {"steps": 3, "inner": {"rate": 2, "names": ["a"]}, "pair": [0.1, 0.2]})
    assert config.inner.rate == 2.0 and isinstance(config.inner.rate, float)
    assert config.pair == (0.1, 0.2) and config.inner.names == ["a"]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"stepz": 3}, "unknown config key.*stepz"),
        ({"inner": {"rat": 1}}, "inner.rat"),
        ({"steps": "ten"}, "steps: expected an integer"),
        ({"steps": True}, "steps: expected an integer"),
        ({"flag": 1}, "flag: expected bool"),
        ({"inner": {"rate": "fast"}}, "inner.rate: expected a number"),
        ({"pair": [1.0]}, "pair: expected 2 items"),
        ({"weights": {"a": "x"}}, "weights.a"),
    ],
)
def test_bad_values_name_the_key(data, message):
    with pytest.raises(ConfigError, match=message):
        from_dict(Outer, data)


def test_overrides_parse_yaml_values_and_create_sections():
    data = apply_overrides({}, ["steps=5", "inner.rate=0.5", "inner.names=[x, y]", "flag=true", "maybe=null"])
    config = from_dict(Outer, data)
    assert (config.steps, config.inner.rate, config.inner.names, config.flag, config.maybe) == (
        5,
        0.5,
        ["x", "y"],
        True,
        None,
    )
    assert from_dict(Outer, apply_overrides({}, ["inner.rate=1e-4"])).inner.rate == 1e-4
    with pytest.raises(ConfigError, match="must look like"):
        apply_overrides({}, ["steps"])


def test_roundtrip_through_yaml(tmp_path):
    config = from_dict(Outer, {"steps": 7, "weights": {"a/b": 2.0}})
    save_config(config, tmp_path / "c.yaml")
    assert load_config(Outer, tmp_path / "c.yaml") == config
    assert to_dict(config)["pair"] == [0.9, 0.98]


def test_decoder_variant_is_chosen_by_family_and_checked():
    config = load_experiment(ROOT / "egs" / "demo" / "flow.yaml", ["model.decoder.n_blocks=2"])
    assert isinstance(config.model.decoder, FlowDecoderConfig) and config.model.decoder.n_blocks == 2
    with pytest.raises(ConfigError, match="unknown decoder family 'nope'; choose one of: .*flow"):
        load_experiment(ROOT / "egs" / "demo" / "flow.yaml", ["model.decoder.family=nope"])
    with pytest.raises(ConfigError, match="model.decoder.bogus"):
        load_experiment(ROOT / "egs" / "demo" / "flow.yaml", ["model.decoder.bogus=1"])
    with pytest.raises(ConfigError, match="decoder.family is required"):
        from_dict(ExperimentConfig, {"model": {"decoder": {}}})


def test_validation_errors_surface_as_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="text.edge_pauses: expected bool, got 'maybe'"):
        load_experiment(ROOT / "egs" / "demo" / "flow.yaml", ["text.edge_pauses=maybe"])
    assert load_experiment(ROOT / "egs" / "demo" / "flow.yaml", ["text.edge_pauses=false"]).text.edge_pauses is False
    with pytest.raises(ConfigError, match="train.batch_size must be >= 1"):
        load_experiment(ROOT / "egs" / "demo" / "flow.yaml", ["train.batch_size=0"])
    with pytest.raises(ConfigError, match="0 .no step limit. with a train.max_minutes budget"):
        load_experiment(ROOT / "egs" / "demo" / "flow.yaml", ["train.max_steps=0"])  # a run without any budget
    unlimited = load_experiment(ROOT / "egs" / "demo" / "flow.yaml", ["train.max_steps=0", "train.max_minutes=2"])
    assert (unlimited.train.max_steps, unlimited.train.max_minutes) == (0, 2)
    for bad, message in [("-1", "must be a finite number >= 0"), (".inf", "expected a finite number")]:
        with pytest.raises(ConfigError, match=f"train.keep_every_minutes.*{message}"):
            load_experiment(ROOT / "egs" / "demo" / "flow.yaml", [f"train.keep_every_minutes={bad}"])
    with pytest.raises(ConfigError, match="does not exist"):
        load_experiment(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("model: [1, 2")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_experiment(tmp_path / "bad.yaml")


@pytest.mark.parametrize("path", sorted((ROOT / "egs").glob("*/*.yaml")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_config_in_egs_loads_and_has_the_contract_keys(path):
    import yaml

    data = yaml.safe_load(path.read_text())
    assert "max_steps" in data.get("train", {}) and "batch_size" in data.get("train", {}), path
