"""One look for every figure in the book: seaborn's white grid, a colour-blind-safe palette."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import seaborn as sns

__all__ = ["set_style", "palette"]


def set_style(context: str = "notebook") -> None:
    """Apply the book's style (call once per chapter, before plotting)."""
    sns.set_theme(
        context=context,
        style="whitegrid",
        palette="colorblind",
        rc={
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "axes.titlesize": "medium",
            "axes.titleweight": "bold",
            "legend.frameon": False,
            "image.cmap": "viridis",
        },
    )


def palette(n: int) -> list:
    """n distinguishable colours: colorblind (<= 10), tab20 (<= 20), else evenly spaced hues."""
    if n <= 10:
        return sns.color_palette("colorblind", n)
    if n <= 20:
        return sns.color_palette("tab20", n)
    return [mpl.colors.hsv_to_rgb((h, 0.65, 0.85)) for h in np.linspace(0, 1, n, endpoint=False)]
