"""Training targets: hard classes, vote fractions, and the Dirichlet-multinomial likelihood of vote counts."""

from __future__ import annotations

from typing import Any

from . import _tf  # noqa: F401  (TensorFlow first, quietly)
import keras  # noqa: E402
from keras import ops  # noqa: E402

from ._config import TARGETS  # noqa: E402


@keras.saving.register_keras_serializable(package="hunt_clusters")
def dirichlet_multinomial_loss(counts: Any, alpha: Any) -> Any:
    """Negative log-likelihood of vote counts under a Dirichlet-multinomial (Walmsley et al. 2022).

    For one subject with answer counts ``k_a`` (``N = sum k_a`` votes) and predicted
    concentrations ``alpha_a``::

        log p(k | N, alpha) = log G(N+1) + log G(A) - log G(N+A)
                              + sum_a [log G(k_a + alpha_a) - log G(alpha_a) - log G(k_a + 1)],  A = sum alpha

    A subject with no votes contributes 0. Returns the loss per subject (Keras averages it).

    Examples
    --------
    One vote for class 0 under a flat Dirichlet(1, 1) has probability 1/2:

    >>> import numpy as np
    >>> loss = dirichlet_multinomial_loss(np.array([[1.0, 0.0]]), np.array([[1.0, 1.0]]))
    >>> round(float(np.exp(-np.asarray(loss))[0]), 6)
    0.5
    """
    from ._tf import tf  # keras.ops has no log-gamma; the backend is TensorFlow (Keras 3 on TF)

    k = ops.cast(counts, "float32")
    a = ops.cast(alpha, "float32")
    n = ops.sum(k, axis=-1)
    a_sum = ops.sum(a, axis=-1)
    lgamma = tf.math.lgamma
    log_p = (
        lgamma(n + 1.0) + lgamma(a_sum) - lgamma(n + a_sum)
        + ops.sum(lgamma(k + a) - lgamma(a) - lgamma(k + 1.0), axis=-1)
    )
    return -log_p


def loss_for(target: str) -> Any:
    """The Keras loss of a target: ``hard`` and ``soft`` take class distributions (one-hot or vote
    fractions) against softmax probabilities; ``dirichlet`` takes vote counts against concentrations.

    Examples
    --------
    >>> loss_for("dirichlet").__name__
    'dirichlet_multinomial_loss'
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
    if target == "dirichlet":
        return dirichlet_multinomial_loss
    return keras.losses.CategoricalCrossentropy()


def probabilities(output: Any, target: str) -> Any:
    """Class probabilities from a model's output: softmax outputs as they are, concentrations
    normalised to the expected vote fractions ``alpha / sum(alpha)``.

    Examples
    --------
    >>> import numpy as np
    >>> probabilities(np.array([[1.0, 3.0]]), "dirichlet").tolist()
    [[0.25, 0.75]]
    """
    import numpy as np

    out = np.asarray(output, dtype=np.float64)
    if TARGETS[target] == "dirichlet":
        return out / out.sum(axis=-1, keepdims=True)
    return out


__all__ = ["TARGETS", "dirichlet_multinomial_loss", "loss_for", "probabilities"]
