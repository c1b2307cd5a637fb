"""Configuration that ops edit: YAML files in `dialplans/`, validated by pydantic."""

from acd.config.loader import ConfigError, load_config
from acd.config.models import Config

__all__ = ["Config", "ConfigError", "load_config"]
