"""Progress bars only where someone watches them."""
import sys


def progress_bar(total, desc, enabled=None, **kwargs):
    """A tqdm bar; ``enabled=None`` shows it only on Colab or in a terminal (else it is silent).

    Executed notebooks (the book build, nbval) get none: a bar there is stderr noise, and so is
    the warning ``tqdm.auto`` prints where ipywidgets is missing, so a silent bar never imports it."""
    if enabled is None:
        enabled = "google.colab" in sys.modules or sys.stderr.isatty()
    if not enabled:
        from tqdm import tqdm

        return tqdm(total=total, disable=True)
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, **kwargs)
