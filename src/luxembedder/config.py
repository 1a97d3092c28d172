"""Typed configuration: pydantic models loaded from YAML, validated with errors that name the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from luxembedder.errors import ConfigError
from luxembedder.utils.io import atomic_write_text

T = TypeVar("T", bound="BaseConfig")


class BaseConfig(BaseModel):
    """Base of every configuration object: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, protected_namespaces=())

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, source: str = "<config>") -> Self:
        """Validate a mapping; a bad value raises ConfigError naming the dotted key and the source."""
        try:
            return cls.model_validate(data or {})
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                key = ".".join(str(p) for p in err["loc"]) or "<root>"
                problems.append(f"{source}: key '{key}': {err['msg']}")
            raise ConfigError("\n".join(problems)) from None

    @classmethod
    def from_yaml(cls, path: str | Path, section: str | None = None) -> Self:
        """Load from a YAML file (optionally one top-level section of it)."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: the top level must be a mapping")
        if section is not None:
            data = data.get(section) or {}
        return cls.from_dict(data, source=str(path) + (f" [{section}]" if section else ""))

    def with_overrides(self, **overrides: Any) -> Self:
        """A copy with the non-None overrides applied (CLI flags), validated."""
        merged = self.model_dump()
        merged.update({k: v for k, v in overrides.items() if v is not None})
        return type(self).from_dict(merged, source="<command-line>")

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)

    def save(self, path: str | Path) -> Path:
        """Write the resolved config (atomically)."""
        return atomic_write_text(path, self.to_yaml(), skip_if_same=True)  # a rerun writes nothing
