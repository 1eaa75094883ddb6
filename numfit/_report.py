"""Plain-text tables and matplotlib figures for ``python -m numfit demo`` and the docs.

One home for the helpers every demo section uses, below the top-level demo module and the
subpackage demos (which import this module, never each other).
"""
import os

__all__ = ["table", "pyplot", "save_figure"]


def table(header, rows):
    """Print ``rows`` (sequences of cells) under ``header`` as right-aligned columns."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join(f"{h:>{w}}" for h, w in zip(header, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(f"{str(c):>{w}}" for c, w in zip(r, widths)))


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend.

    Raises
    ------
    ImportError
        When matplotlib is not installed, with the command that installs it.
    """
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError("numfit's demo draws its figures with matplotlib, which is not "
                          "installed: pip install 'numfit[demo]' (or pip install "
                          "matplotlib)") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, path, dpi=100):
    """Save ``fig`` to ``path`` (creating its folder), close it and return ``path``."""
    plt = pyplot()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
