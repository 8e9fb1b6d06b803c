"""Model services: the shared runtime and one package per model."""
