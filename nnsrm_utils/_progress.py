"""Progress bars only where someone watches them."""
import sys


def progress_bar(total, desc, enabled=None, **kwargs):
    """A tqdm bar, or ``None``; ``enabled=None`` shows one only on Colab or in a terminal.

    Executed notebooks (the book build, nbval) get none: a bar there is stderr noise."""
    if enabled is None:
        enabled = "google.colab" in sys.modules or sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, **kwargs)
