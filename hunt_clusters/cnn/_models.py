"""The CNNs: pure functions of the input shape and the number of outputs (Keras 3 functional API)."""

from __future__ import annotations

from typing import Any

from . import _tf  # noqa: F401  (TensorFlow first, quietly)
import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

from ._config import ARCHITECTURES, OUTPUTS  # noqa: E402


@keras.saving.register_keras_serializable(package="hunt_clusters")
class RandomDihedral(layers.Layer):
    """Random flips and transposes of square images: each of the 8 symmetries of the square.

    The sky has no up: a cluster is a cluster whichever way north points, so training sees every
    candidate in all 8 orientations (the dihedral group D4: 4 rotations by 90 degrees, each with or
    without a mirror), drawn independently per image. Identity at inference.
    """

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self._generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if not training:
            return inputs
        n = ops.shape(inputs)[0]
        draws = keras.random.uniform((3, n, 1, 1, 1), seed=self._generator)
        x = ops.where(draws[0] < 0.5, ops.flip(inputs, axis=1), inputs)
        x = ops.where(draws[1] < 0.5, ops.flip(x, axis=2), x)
        return ops.where(draws[2] < 0.5, ops.transpose(x, (0, 2, 1, 3)), x)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="hunt_clusters")
class DirichletConcentration(layers.Layer):
    """Logits -> Dirichlet concentrations ``alpha = 1 + 100 * sigmoid(z)`` in (1, 101), as Zoobot."""

    def call(self, inputs: Any) -> Any:
        return 1.0 + 100.0 * ops.sigmoid(inputs)


def _head(x: Any, n_outputs: int, output: str, dropout: float) -> Any:
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(64, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    z = layers.Dense(n_outputs, name="logits")(x)
    if output == "softmax":
        return layers.Softmax(name="probabilities")(z)
    return DirichletConcentration(name="concentrations")(z)


def _custom(x: Any, filters: tuple[int, ...]) -> Any:
    for i, f in enumerate(filters):
        x = layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"conv{i + 1}")(x)
        # Without batch normalisation the Dirichlet head collapsed (every concentration at 1, dead ReLUs)
        # in 10 runs of 10 on the paper-sized mock; momentum 0.9: ~32 steps an epoch at this size.
        x = layers.BatchNormalization(momentum=0.9, name=f"bn{i + 1}")(x)
        x = layers.Activation("relu", name=f"relu{i + 1}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i + 1}")(x)
    return layers.GlobalAveragePooling2D()(x)


def _resnet(x: Any, filters: tuple[int, ...]) -> Any:
    x = layers.Conv2D(filters[0], 3, padding="same", use_bias=False, name="stem")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    for i, f in enumerate(filters):
        stride = 1 if i == 0 else 2
        shortcut = x
        y = layers.Conv2D(f, 3, strides=stride, padding="same", use_bias=False)(x)
        y = layers.BatchNormalization()(y)
        y = layers.Activation("relu")(y)
        y = layers.Conv2D(f, 3, padding="same", use_bias=False)(y)
        y = layers.BatchNormalization()(y)
        if stride != 1 or shortcut.shape[-1] != f:
            shortcut = layers.Conv2D(f, 1, strides=stride, use_bias=False)(shortcut)
            shortcut = layers.BatchNormalization()(shortcut)
        x = layers.Activation("relu", name=f"block{i + 1}")(layers.Add()([y, shortcut]))
    return layers.GlobalAveragePooling2D()(x)


def make_model(
    input_shape: tuple[int, int, int],
    n_outputs: int,
    *,
    architecture: str = "custom",
    output: str = "softmax",
    filters: tuple[int, ...] = (16, 32, 64, 64),
    dropout: float = 0.3,
    augment: bool = True,
    seed: int | None = None,
) -> keras.Model:
    """A CNN for candidate tensors: images in, class probabilities (or concentrations) out.

    Parameters
    ----------
    input_shape : tuple of int
        ``(S, S, C)``: square images with C channels ([optical, X-ray] for hunt-clusters tensors).
    n_outputs : int
        Number of classes: 5 (low-z, hi-z, galaxy, point, other) or 2 (cluster, non-cluster).
    architecture : {"custom", "resnet"}
        ``"custom"``: in the spirit of Kosiba et al. (2020)'s custom CNN: blocks of a 3x3
        convolution, batch normalisation, ReLU and a 2x2 max-pooling, global average pooling,
        dropout, a dense layer.
        ``"resnet"``: a small residual network (a stem, one residual block per entry of
        ``filters`` with batch normalisation, strided from the second block on).
    output : {"softmax", "dirichlet"}
        ``"softmax"``: class probabilities (for cross-entropy on hard or soft targets).
        ``"dirichlet"``: Dirichlet concentrations ``alpha`` in (1, 101) (for the
        Dirichlet-multinomial likelihood of vote counts); the expected vote fractions are
        ``alpha / sum(alpha)``.
    filters : tuple of int
        Filters per block.
    dropout : float
        Dropout rate before and after the dense layer.
    augment : bool
        Put a `RandomDihedral` layer (flips and 90-degree rotations) first; active in training only.
    seed : int, optional
        Seed of the augmentation.

    Returns
    -------
    keras.Model
        Not compiled.

    Examples
    --------
    >>> m = make_model((32, 32, 2), 5)
    >>> m.output_shape
    (None, 5)
    >>> make_model((32, 32, 2), 2, architecture="resnet", output="dirichlet").output_shape
    (None, 2)
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}, not {architecture!r}")
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {', '.join(OUTPUTS)}, not {output!r}")
    if len(input_shape) != 3 or input_shape[0] != input_shape[1]:
        raise ValueError(f"input_shape must be (S, S, C) with square images, not {input_shape!r}")
    if n_outputs < 2:
        raise ValueError(f"n_outputs must be at least 2, not {n_outputs}")
    inputs = keras.Input(shape=input_shape, name="tensor")
    x = RandomDihedral(seed=seed, name="augment")(inputs) if augment else inputs
    x = _custom(x, filters) if architecture == "custom" else _resnet(x, filters)
    outputs = _head(x, n_outputs, output, dropout)
    return keras.Model(inputs, outputs, name=f"{architecture}_{output}")


__all__ = ["ARCHITECTURES", "OUTPUTS", "DirichletConcentration", "RandomDihedral", "make_model"]
