"""The modelfleet runtime: everything a model service gets for free."""

from .model import Action, Model, Schema
from .registry import Manifest, Registry
from .settings import RuntimeSettings

__all__ = ["Action", "Manifest", "Model", "Registry", "RuntimeSettings", "Schema"]
