"""Shared pytest fixtures: seeding, the gpu marker, the real PFR2 data."""

import os
import random
import sys
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"
PFR2_CSV = SHARED_DATA / "pfr2_foram_18s_32class.csv"


def _cuda_available():
    try:
        import torch
    except ImportError:  # pragma: no cover
        return False
    return torch.cuda.is_available()


def pytest_collection_modifyitems(config, items):
    if any("gpu" in item.keywords for item in items) and not _cuda_available():
        skip = pytest.mark.skip(reason="needs a CUDA device (run on a lent GPU)")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed_everything():
    """Every test starts from the same random state."""
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002 - code under test may use the legacy global RNG
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(0)
    yield


@pytest.fixture(scope="session")
def pfr2_path():
    """Path of the real PFR2 18S table in ``../shared/data`` (skip if absent)."""
    override = os.environ.get("VGESTIMATORS_PFR2_CSV")
    path = Path(override) if override else PFR2_CSV
    if not path.is_file():
        pytest.skip(f"real PFR2 data not found at {path} (see ../shared/data)")
    return path


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["np"] = np
