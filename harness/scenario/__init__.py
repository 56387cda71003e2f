"""Scenarios: the models (`model`), the YAML loader (`loader`) and the JSON Schema (`schema`)."""

from harness.scenario import model
from harness.scenario.loader import load_file, load_paths, load_text, parse_duration
from harness.scenario.model import *  # the models are this package's API

__all__ = ["load_file", "load_paths", "load_text", "parse_duration"]
__all__ += model.__all__
