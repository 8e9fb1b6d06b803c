"""The modelfleet runtime: everything a model service gets for free."""

from .model import Action, Model, Schema
from .pictures import Image, Mask
from .registry import Manifest, Registry
from .settings import RuntimeSettings

__all__ = ["Action", "Image", "Manifest", "Mask", "Model", "Registry", "RuntimeSettings", "Schema"]
