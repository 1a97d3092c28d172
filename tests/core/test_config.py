import pytest

from luxembedder.config import BaseConfig
from luxembedder.errors import ConfigError


class Inner(BaseConfig):
    threshold: float = 0.7


class Outer(BaseConfig):
    name: str = "x"
    inner: Inner = Inner()


def test_unknown_and_invalid_keys_are_named(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("name: ok\ninner:\n  threshold: high\n  typo: 1\n")
    with pytest.raises(ConfigError) as exc:
        Outer.from_yaml(p)
    msg = str(exc.value)
    assert "inner.threshold" in msg and "inner.typo" in msg and str(p) in msg


def test_roundtrip_and_overrides(tmp_path):
    cfg = Outer.from_dict({"inner": {"threshold": 0.5}}).with_overrides(name="y", missing=None)
    path = cfg.save(tmp_path / "resolved.yaml")
    again = Outer.from_yaml(path)
    assert again == cfg and again.inner.threshold == 0.5 and again.name == "y"
