"""Progress bars only where someone watches them."""
import sys


def progress_bar(total, desc, enabled=None, **kwargs):
    """A tqdm bar; ``enabled=None`` shows it only on Colab or in a terminal (else it is silent).

    Executed notebooks (the book build, nbval) get none: a bar there is stderr noise."""
    from tqdm.auto import tqdm

    if enabled is None:
        enabled = "google.colab" in sys.modules or sys.stderr.isatty()
    return tqdm(total=total, desc=desc, disable=not enabled, **kwargs)
