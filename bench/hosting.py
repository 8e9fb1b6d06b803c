"""A model version loaded outside the runtime's app, exactly as a model service loads it:
the reference app and the in-process ceiling both use it."""

from __future__ import annotations

from typing import Any

from services.runtime.model import Model
from services.runtime.registry import Registry
from services.runtime.service import load_version, model_class, model_thread
from services.runtime.settings import RuntimeSettings

__all__ = ["HostedModel"]


class HostedModel:
    def __init__(self, settings: RuntimeSettings) -> None:
        self.settings = settings
        self.model: Model[Any, Any] = model_class(settings.model)(
            torch_threads=settings.torch_threads
        )
        self.thread = model_thread(self.model)
        """Where `load` and every `predict` must run."""

    def load(self) -> None:
        """Verify, load and warm up the configured version (call it in `thread`)."""
        registry = Registry(self.settings.registry)
        load_version(self.model, registry, self.settings.model, self.settings.version)
