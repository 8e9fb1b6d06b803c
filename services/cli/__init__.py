"""The developer's tool, `modelfleet`: what runs on a laptop or in CI, never in a pod.

- `main`: the command line (models, train, serve, up, new)
- `serve`: how one model service is launched (gunicorn + MODELFLEET_* env)
- `fleet/`: the local fleet of `make run` (stack, supervisor, routes, Prometheus)
- `scaffold`: `modelfleet new`; `dashboards/`: the Grafana dashboards as code

It imports the runtime (`services.runtime`); the runtime never imports it, so a
model image ships without it.
"""

from .main import main

__all__ = ["main"]
