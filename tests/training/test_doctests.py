"""The runnable examples in the training-source modules' docstrings run and pass."""

from __future__ import annotations

import doctest

import pytest

import luxembedder.datasets.letz
import luxembedder.training.distill
import luxembedder.training.trainer


@pytest.mark.parametrize("module", [luxembedder.datasets.letz, luxembedder.training.distill,
                                    luxembedder.training.trainer])
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
