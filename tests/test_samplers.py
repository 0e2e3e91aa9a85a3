"""Samplers: batch composition, balance, determinism, errors."""

import numpy as np
import pytest
import torch

from vgestimators.longtail import ClassBalancedSampler, make_sampler
from vgestimators.longtail._samplers import m_per_class_batch_size

COUNTS = [64, 16, 4, 1]
LABELS = np.repeat(np.arange(4), COUNTS)


def _batches(sampler, size):
    indices = list(sampler)
    return [indices[i : i + size] for i in range(0, len(indices) - size + 1, size)]


def test_random_sampler_is_a_seeded_permutation():
    first = list(make_sampler("random", LABELS, random_state=0))
    assert sorted(first) == list(range(len(LABELS)))
    assert first == list(make_sampler("random", LABELS, random_state=0))
    assert first != list(make_sampler("random", LABELS, random_state=1))


@pytest.mark.parametrize("balance, power", [("inverse", 1.0), ("sqrt", 0.5)])
def test_class_balanced_probabilities_and_draws(balance, power):
    sampler = ClassBalancedSampler(
        LABELS, balance=balance, num_samples=20000, random_state=0
    )
    counts = np.asarray(COUNTS, dtype=float)
    expected = counts ** (1 - power) / (counts ** (1 - power)).sum()
    np.testing.assert_allclose(sampler.class_probabilities_, expected)
    drawn = np.bincount(LABELS[list(sampler)], minlength=4) / 20000
    np.testing.assert_allclose(drawn, expected, atol=0.015)
    # sample weights are n_c ** -power
    np.testing.assert_allclose(sampler.weights.numpy(), counts[LABELS] ** -power)


def test_class_balanced_default_length_and_seed():
    sampler = make_sampler("class_balanced", LABELS, random_state=3)
    again = make_sampler("class_balanced", LABELS, random_state=3)
    first = list(sampler)
    assert len(sampler) == len(LABELS) == len(first)
    assert first == list(again)
    assert list(sampler) != first  # each epoch draws anew


@pytest.mark.parametrize("batch_size, m, size", [(8, 2, 8), (16, 4, 16), (12, 4, 12)])
def test_m_per_class_batches_hold_p_classes_times_m(batch_size, m, size):
    sampler = make_sampler(
        "m_per_class", LABELS, batch_size=batch_size, m_per_class=m, random_state=0
    )
    assert m_per_class_batch_size(batch_size, m, 4) == size
    assert sampler.sampler.batch_size == size
    batches = _batches(sampler, size)
    assert len(batches) * size == len(sampler) and len(batches) >= 2
    for batch in batches:
        labels, counts = np.unique(LABELS[batch], return_counts=True)
        assert len(labels) == size // m
        assert (counts == m).all()


def test_m_per_class_single_image_class_is_repeated():
    sampler = make_sampler(
        "m_per_class", LABELS, batch_size=16, m_per_class=4, random_state=0
    )
    indices = np.asarray(list(sampler))
    singleton = indices[LABELS[indices] == 3]
    assert len(singleton) > 0 and set(singleton.tolist()) == {len(LABELS) - 1}


def test_m_per_class_batch_shrinks_to_the_classes_available():
    assert m_per_class_batch_size(64, 4, 3) == 12
    assert m_per_class_batch_size(30, 4, 32) == 28
    sampler = make_sampler(
        "m_per_class", np.repeat([0, 1, 2], 10), batch_size=64, m_per_class=4
    )
    assert sampler.sampler.batch_size == 12


def test_m_per_class_is_seeded_and_leaves_numpy_alone():
    np.random.seed(0)  # noqa: NPY002 - the global state is what is checked
    expected = np.random.rand()  # noqa: NPY002
    np.random.seed(0)  # noqa: NPY002
    first = list(
        make_sampler("m_per_class", LABELS, batch_size=8, m_per_class=2, random_state=5)
    )
    assert np.random.rand() == expected  # noqa: NPY002
    second = list(
        make_sampler("m_per_class", LABELS, batch_size=8, m_per_class=2, random_state=5)
    )
    assert first == second


def test_sampler_errors():
    with pytest.raises(ValueError, match="sampler must be one of"):
        make_sampler("uniform", LABELS)
    with pytest.raises(ValueError, match="at least 2 classes"):
        make_sampler("m_per_class", [0, 0, 0, 0])
    with pytest.raises(ValueError, match="at least 2 \\* m_per_class"):
        make_sampler("m_per_class", LABELS, batch_size=6, m_per_class=4)
    with pytest.raises(ValueError, match="balance must be one of"):
        ClassBalancedSampler(LABELS, balance="log")
    with pytest.raises(ValueError, match="empty"):
        make_sampler("random", [])


@pytest.mark.parametrize("sampler", ["m_per_class", "class_balanced", "random"])
def test_embedder_training_batches(sampler):
    """The DataLoader the embedder trains with has the documented batches."""
    from vgestimators.vision import ImageDataset, TripletImageEmbedder

    images = np.zeros((len(LABELS), 8, 8), np.uint8)
    emb = TripletImageEmbedder(
        backbone="resnet18",
        image_size=8,
        embedding_dim=4,
        max_epochs=0,
        batch_size=8,
        m_per_class=2,
        sampler=sampler,
        verbose=0,
        random_state=0,
    ).fit(images, LABELS)
    loader = emb.net_.get_iterator(
        ImageDataset(images, LABELS, image_size=8), training=True
    )
    batches = [labels for _, labels in loader]
    assert all(len(b) == 8 for b in batches)  # a last short batch is dropped
    drawn = torch.cat(batches).numpy()
    if sampler == "m_per_class":
        for b in batches:
            assert (
                sorted(np.unique(b.numpy(), return_counts=True)[1].tolist()) == [2] * 4
            )
    elif sampler == "class_balanced":
        assert (np.bincount(drawn, minlength=4) > 0).all()  # the tail is drawn
    else:
        assert len(set(drawn.tolist())) == 4 and len(drawn) == 80
