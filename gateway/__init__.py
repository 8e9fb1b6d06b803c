"""modelfleet gateway: routes requests to model versions over HTTP only.

It imports nothing from `services/`: the routes file and HTTP are its only
contracts with the model services.
"""

from .app import create_app
from .settings import GatewaySettings

__all__ = ["GatewaySettings", "create_app"]
