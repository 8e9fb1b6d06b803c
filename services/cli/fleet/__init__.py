"""The local fleet (`modelfleet up`, `make run`): every version and the gateway as
processes on 127.0.0.1, from the same values file the umbrella chart reads."""

from .stack import ServiceSpec, Stack, StackError, run_stack

__all__ = ["ServiceSpec", "Stack", "StackError", "run_stack"]
