"""What a schema field's annotation is: optional, scalar."""

from __future__ import annotations

import types
import typing
from enum import Enum
from typing import Any, Literal

__all__ = ["is_scalar", "unoptional"]

_SCALARS = (str, int, float, bool, Enum)


def unoptional(annotation: Any) -> Any:
    """`X | None` -> `X`; any other annotation unchanged."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def is_scalar(annotation: Any) -> bool:
    """A string, number, boolean, enum or `Literal` (constrained or not)."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) is Literal:
        return True
    return isinstance(annotation, type) and issubclass(annotation, _SCALARS)
