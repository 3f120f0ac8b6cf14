"""Consensus methods by name, for the command line and configuration files."""

from __future__ import annotations

from typing import Any

from .._errors import InputError
from ._base import ConsensusEstimator
from ._dawid_skene import DawidSkene
from ._majority import MajorityVote
from ._swap import SWAP

#: Method name (the ``method`` column of the labels table) -> estimator class.
METHODS: dict[str, type[ConsensusEstimator]] = {
    MajorityVote.method: MajorityVote,
    DawidSkene.method: DawidSkene,
    SWAP.method: SWAP,
}


def make_estimator(name: str, **settings: Any) -> ConsensusEstimator:
    """Build a consensus estimator from its method name.

    Parameters
    ----------
    name : {"majority", "dawid-skene", "swap"}
        The method (``"ds"`` and ``"dawid_skene"`` are accepted for ``"dawid-skene"``).
    **settings
        Keyword settings of the estimator's constructor.

    Raises
    ------
    InputError
        An unknown method name.

    Examples
    --------
    >>> make_estimator("swap", prior=0.3)
    SWAP(prior=0.3, threshold=0.5, initial=0.5, pseudo_count=2.0, cap=0.99, tie_break='first-vote')
    """
    key = name.strip().lower().replace("_", "-")
    aliases = {"ds": "dawid-skene", "dawidskene": "dawid-skene", "mv": "majority", "majority-vote": "majority"}
    key = aliases.get(key, key)
    if key not in METHODS:
        raise InputError(f"unknown consensus method {name!r}; valid methods are {', '.join(METHODS)}")
    return METHODS[key](**settings)


__all__ = ["METHODS", "make_estimator"]
