"""The synthetic language and the recurrent model of chapter 7's bottom-up section."""
import numpy as np
import pytest

from nnsrm_utils import language
from nnsrm_utils.cca import pwcca

NUMBER = {w: plural for key in ("noun", "intransitive", "transitive")
          for plural, words in enumerate(language.WORDS[key]) for w in words}


def test_relative_clauses_agree_with_their_noun():
    rng = np.random.default_rng(0)
    sentences = [language.sentence(rng) for _ in range(2000)]
    assert all(s[-1] == "." and s.count(".") == 1 for s in sentences)
    pairs = [(s[i - 1], s[i + 1]) for s in sentences for i, w in enumerate(s) if w == "that"]
    assert len(pairs) > 200
    assert all(NUMBER[noun] == NUMBER[verb] for noun, verb in pairs)


def test_corpus_is_fixed_by_its_seed():
    assert np.array_equal(language.corpus(50, 3), language.corpus(50, 3))
    assert not np.array_equal(language.corpus(50, 3)[:100], language.corpus(50, 4)[:100])
    assert language.corpus(50, 3).max() < len(language.VOCAB)


def test_held_out_sentences_never_reach_a_training_text():
    held_out = language.probe_sentences(100)
    assert len(set(held_out)) == 100
    stream = [language.VOCAB[i] for i in language.corpus(3000, 0, leave_out=held_out)]
    ends = [i for i, w in enumerate(stream) if w == "."]
    sentences = {tuple(stream[a + 1:b + 1]) for a, b in zip([-1] + ends, ends)}
    assert len(sentences) > 200 and not sentences & set(held_out)


def test_training_is_reproducible_and_records_every_layer():
    a, b = (language.train_and_record(1, steps=10, record_at=(0, 10), n_train=300, n_probe=20) for _ in range(2))
    assert sorted(a["states"]) == [0, 10] and len(a["states"][10]) == 3
    assert a["probe"].shape[1] == 33 and a["states"][10][0].shape == (64, 32 * len(a["probe"]))
    assert all(np.array_equal(x, y) for x, y in zip(a["states"][10], b["states"][10]))
    assert not np.array_equal(a["states"][0][0], a["states"][10][0])


def test_record_steps_must_lie_within_training():
    with pytest.raises(ValueError, match="record_at"):
        language.train_and_record(0, steps=10, record_at=(0, 20))


def test_layers_start_ordered_bottom_up_and_the_model_learns():
    """Chapter 7's finding, loosely: early in training the lower layers are nearer their final
    representation, an order already present at initialisation."""
    run = language.train_and_record(0)
    final = run["states"][800]
    for step in (0, 50):
        similarity = [pwcca(x, y) for x, y in zip(run["states"][step], final)]
        assert similarity[0] > similarity[1] > similarity[2], (step, similarity)
    assert run["loss"][800] < run["loss"][0] - 1.5  # 3.4 to 1.6 nats on the development machine
