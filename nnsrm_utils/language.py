"""A small recurrent language model, for Morcos et al.'s (2018) finding that the layers of an
RNN converge to their final representation bottom-up (their Fig. 6, on Penn Treebank and
WikiText-2, which this book does not download).

The text is a synthetic language from a seeded grammar, so any machine makes the same corpus
without a download: sentences whose verbs agree in number with their subject across an
optional relative clause ("the dog that chases some cats sleeps ."), so that predicting the
next word needs memory.  The model is a stack of one-layer LSTMs whose outputs are recorded,
layer by layer, on fixed held-out sentences (never part of a training text) while it trains.
Activity is ``(n_units, n_positions)``, as everywhere in the package.  Training takes seconds on a CPU, so it keeps no
checkpoints: an interrupted run is simply run again (same seed, same result on one machine).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

WORDS = {
    "det": (("the", "a", "one"), ("the", "some", "two")),           # (singular, plural)
    "noun": (("dog", "cat", "bird", "child"), ("dogs", "cats", "birds", "children")),
    "adj": ("small", "big", "old", "red"),
    "intransitive": (("sleeps", "runs", "sings"), ("sleep", "run", "sing")),
    "transitive": (("sees", "chases", "likes"), ("see", "chase", "like")),
}
VOCAB = sorted({w for group in WORDS.values() for ws in group for w in ((ws,) if isinstance(ws, str) else ws)}
               | {"that", "."})
INDEX = {w: i for i, w in enumerate(VOCAB)}


def sentence(rng: np.random.Generator, depth: int = 0) -> list[str]:
    """One sentence, as a list of words ending with ``"."``, drawn with ``rng``.

    ``depth`` 1 or more allows no further relative clause (used inside the grammar).

    Returns
    -------
    list of str
        Words of ``VOCAB``, the last one ``"."``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> " ".join(sentence(rng)), " ".join(sentence(rng))
    ('a big dog sees one bird .', 'the red cat that likes the children runs .')
    """
    plural = rng.random() < 0.5
    return _noun_phrase(rng, plural, depth) + _verb_phrase(rng, plural, depth) + ["."]


def _noun_phrase(rng, plural, depth):
    words = [rng.choice(WORDS["det"][plural])]
    if rng.random() < 0.3:
        words.append(rng.choice(WORDS["adj"]))
    words.append(rng.choice(WORDS["noun"][plural]))
    if depth < 1 and rng.random() < 0.3:  # a relative clause, whose verb agrees with this noun
        words += ["that"] + _verb_phrase(rng, plural, depth + 1)
    return words


def _verb_phrase(rng, plural, depth):
    if rng.random() < 0.5:
        return [rng.choice(WORDS["intransitive"][plural])]
    return [rng.choice(WORDS["transitive"][plural])] + _noun_phrase(rng, rng.random() < 0.5, depth + 1)


#: Seed of the held-out probe sentences, the same for every model.
PROBE_SEED = 2**31 - 1


def corpus(n_sentences: int, seed: int, leave_out: Iterable[tuple[str, ...]] = ()) -> NDArray[np.int64]:
    """``n_sentences`` sentences as one stream of word indices (an int64 array), skipping any
    sentence in ``leave_out`` (tuples of words), so that held-out sentences stay held out.

    Returns
    -------
    numpy.ndarray
        ``(n_words,)`` indices into ``VOCAB``.

    Examples
    --------
    >>> stream = corpus(2, seed=0)
    >>> " ".join(VOCAB[i] for i in stream)
    'a big dog sees one bird . the red cat that likes the children runs .'
    """
    rng, leave_out, words = np.random.default_rng(seed), set(leave_out), []
    while len(words) < n_sentences:
        s = tuple(sentence(rng))
        if s not in leave_out:
            words.append(s)
    return np.array([INDEX[w] for s in words for w in s], dtype=np.int64)


def probe_sentences(n_sentences: int) -> list[tuple[str, ...]]:
    """The held-out sentences (tuples of words): distinct, drawn with :data:`PROBE_SEED`.

    Returns
    -------
    list of tuple of str
        ``n_sentences`` distinct sentences, in the order drawn (the same on every call, so the
        first ``k`` of a longer list are ``probe_sentences(k)``).

    Examples
    --------
    >>> [" ".join(s) for s in probe_sentences(2)]
    ['the children run .', 'some children sing .']
    """
    rng, found = np.random.default_rng(PROBE_SEED), {}
    while len(found) < n_sentences:
        found.setdefault(tuple(sentence(rng)), None)
    return list(found)


class LanguageModel(nn.Module):
    """Word embedding, ``n_layers`` stacked LSTMs, and a linear read-out of the next word.

    Examples
    --------
    >>> import torch
    >>> model = LanguageModel(n_layers=2, n_units=8)
    >>> logits, outputs = model(torch.zeros(1, 5, dtype=torch.long))   # one sequence of 5 words
    >>> logits.shape, [tuple(h.shape) for h in outputs], len(VOCAB)
    (torch.Size([1, 5, 31]), [(1, 5, 8), (1, 5, 8)], 31)
    """

    def __init__(self, n_layers: int = 3, n_units: int = 64, n_embed: int = 32) -> None:
        super().__init__()
        self.embed = nn.Embedding(len(VOCAB), n_embed)
        sizes = [n_embed] + [n_units] * n_layers
        self.layers = nn.ModuleList(nn.LSTM(a, b, batch_first=True) for a, b in zip(sizes, sizes[1:]))
        self.readout = nn.Linear(n_units, len(VOCAB))

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``(logits, [each layer's output])`` for ``tokens`` ``(batch, time)``: logits
        ``(batch, time, len(VOCAB))`` and outputs ``(batch, time, n_units)``."""
        h, outputs = self.embed(tokens), []
        for lstm in self.layers:
            h = lstm(h)[0]
            outputs.append(h)
        return self.readout(h), outputs


def train_and_record(seed: int, steps: int = 800, record_at: Sequence[int] = (0, 25, 50, 100, 150, 200, 400, 800),
                     n_layers: int = 3, n_units: int = 64, seq_len: int = 32, batch_size: int = 32, lr: float = 1e-3,
                     n_train: int = 6000, n_probe: int = 200) -> dict:
    """Train one model (initial weights, training text and batches from ``seed``) on windows of
    ``seq_len`` words, and record every layer on ``n_probe`` held-out sentences (the same for
    every seed, and never in a training text) after each step in ``record_at``.  The held-out
    text is cut into windows of the same length, each started from a zero state as in training;
    every word position is one example.

    Returns
    -------
    dict
        ``"states"``: ``{step: [one float64 array (n_units, n_positions) per layer]}``, bottom
        layer first; ``"loss"``: ``{step: held-out cross-entropy, nats per word}``; ``"probe"``:
        the held-out windows, int64 ``(n_windows, seq_len + 1)`` word indices.  The steps are
        those of ``record_at``, and ``n_positions = n_windows * seq_len``.

    Raises
    ------
    ValueError
        If ``record_at`` is empty or has a step outside ``[0, steps]``, or the held-out
        sentences are shorter than one window.

    Examples
    --------
    A toy run: two LSTM layers of 8 units, 5 steps, recorded before and after them:

    >>> run = train_and_record(0, steps=5, record_at=(0, 5), n_layers=2, n_units=8, seq_len=8,
    ...                        batch_size=4, n_train=50, n_probe=5)
    >>> [h.shape for h in run["states"][5]], run["probe"].shape
    ([(8, 24), (8, 24)], (3, 9))
    >>> round(run["loss"][0], 1)   # about log(31): the untrained model guesses among 31 words
    3.4
    """
    record_at = sorted(set(record_at))
    if not record_at or record_at[0] < 0 or record_at[-1] > steps:
        raise ValueError(f"record_at must lie in [0, steps={steps}]; got {record_at}")
    held_out = probe_sentences(n_probe)
    train = corpus(n_train, seed, leave_out=held_out)
    stream = np.array([INDEX[w] for s in held_out for w in s], dtype=np.int64)
    n_windows = (len(stream) - 1) // seq_len
    if n_windows < 1:
        raise ValueError(f"{n_probe} held-out sentences are shorter than one window of {seq_len} words")
    probe = torch.from_numpy(np.stack([stream[i * seq_len:(i + 1) * seq_len + 1] for i in range(n_windows)]))
    torch.manual_seed(seed)
    model = LanguageModel(n_layers, n_units)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    states, losses = {}, {}
    for step in range(steps + 1):
        if step in record_at:
            states[step], losses[step] = _record(model, probe)
        if step == steps:
            break
        starts = rng.integers(0, len(train) - seq_len - 1, batch_size)
        chunk = torch.from_numpy(np.stack([train[s:s + seq_len + 1] for s in starts]))
        logits = model(chunk[:, :-1])[0]
        loss = nn.functional.cross_entropy(logits.reshape(-1, len(VOCAB)), chunk[:, 1:].reshape(-1))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return {"states": states, "loss": losses, "probe": probe.numpy()}


@torch.no_grad()
def _record(model, probe):
    logits, outputs = model(probe[:, :-1])
    loss = nn.functional.cross_entropy(logits.reshape(-1, len(VOCAB)), probe[:, 1:].reshape(-1)).item()
    return [h.reshape(-1, h.shape[-1]).T.double().numpy() for h in outputs], loss
