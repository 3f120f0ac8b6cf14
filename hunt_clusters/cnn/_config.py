"""The settings of a training comparison, as one frozen record."""

from __future__ import annotations

import dataclasses
from typing import Any

#: Targets, with the output layer each needs: class probabilities, or Dirichlet concentrations.
TARGETS: dict[str, str] = {"hard": "softmax", "soft": "softmax", "dirichlet": "dirichlet"}
#: Architectures `make_model` knows.
ARCHITECTURES: tuple[str, ...] = ("custom", "resnet")
#: Output layers of `make_model`.
OUTPUTS: tuple[str, ...] = ("softmax", "dirichlet")

#: Where training labels come from.
LABEL_SOURCES: tuple[str, ...] = ("votes", "expert", "truth")
#: What is never trained on: the overlap with the experts and the spectroscopic test set, or the
#: test set only (the paper's split).
HOLDOUTS: tuple[str, ...] = ("overlap", "spec")
#: Class weights of the hard target: sklearn's "balanced" (each class weighs the same in the loss), or none.
CLASS_WEIGHTS: tuple[str, ...] = ("balanced", "none")
#: Training-set sizes: every model on the same number of candidates (subsampled to the smallest with the
#: run's seed), or each on all the candidates its labels cover.
SIZES: tuple[str, ...] = ("equal", "all")
#: Output heads: the five classes (p_cluster = p(low-z) + p(hi-z)) or cluster / non-cluster.
HEADS: tuple[str, ...] = ("five", "binary")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How `train_comparison` trains and compares its models.

    One model is trained per (label source, target) pair: the targets apply to ``votes``; expert
    and truth labels are one class per candidate and are trained with the ``hard`` target.

    Attributes
    ----------
    label_sources : tuple of str
        Among ``votes`` (the consensus of ``labels.csv``), ``expert`` (``expert_class``),
        ``truth`` (``true_class``, mock catalogues only).
    targets : tuple of str
        Among ``hard`` (the consensus class, cross-entropy with balanced class weights),
        ``soft`` (the vote fractions as target distribution), ``dirichlet`` (Dirichlet-multinomial
        likelihood of the vote counts).
    method : str or None
        The consensus method whose rows of ``labels.csv`` are used (None: ``majority`` if present,
        else the only method in the file).
    head : str
        ``five`` or ``binary``.
    architecture : str
        ``custom`` or ``resnet`` (see `make_model`).
    holdout : str
        ``overlap``: the overlap with the experts and the test set are never trained on;
        ``spec``: only the spectroscopic test set is held out (Kosiba et al. 2020's split).
    sizes : str
        ``equal`` (default): every model trains on the same number of candidates, each model's
        candidates subsampled (stratified by class, with ``seed``) to the smallest; ``all``: each
        on every candidate its labels cover. With ``truth`` among the label sources, two more
        models train on the true classes of exactly the votes' and exactly the experts'
        candidates (``truth-hard-votes-set``, ``truth-hard-expert-set``), so that label quality
        and the number of candidates are separate rows.
    class_weight : str
        ``balanced`` (default) or ``none``: class weights of the hard target.
    retries : int
        A collapsed run (one class for the whole validation split, or no epoch better than the
        first) is retrained with a fresh seed at most this many times; counted either way.
    runs, epochs, batch_size, learning_rate, patience, val_fraction, input_size, seed, filters, dropout
        Repeated runs (different seeds and validation splits), the epoch cap, Adam's step,
        early-stopping patience on the validation loss, the fraction of the training candidates kept
        for validation, the side in pixels the tensors are averaged down to, the master seed, the
        convolution filters per block and the dropout rate.
    """

    label_sources: tuple[str, ...] = ("votes", "expert")
    targets: tuple[str, ...] = ("hard",)
    method: str | None = None
    head: str = "five"
    architecture: str = "custom"
    holdout: str = "overlap"
    runs: int = 10
    epochs: int = 40
    batch_size: int = 32
    learning_rate: float = 2e-3
    patience: int = 6
    val_fraction: float = 0.15
    input_size: int = 32
    seed: int = 0
    sizes: str = "equal"
    class_weight: str = "balanced"
    retries: int = 2
    filters: tuple[int, ...] = (16, 32, 64, 64)
    dropout: float = 0.3

    def __post_init__(self) -> None:
        checks = [
            ("label_sources", bool(self.label_sources) and set(self.label_sources) <= set(LABEL_SOURCES),
             f"one or more of {', '.join(LABEL_SOURCES)}"),
            ("targets", bool(self.targets) and set(self.targets) <= set(TARGETS), f"one or more of {', '.join(TARGETS)}"),
            ("head", self.head in HEADS, " or ".join(HEADS)),
            ("architecture", self.architecture in ARCHITECTURES, " or ".join(ARCHITECTURES)),
            ("holdout", self.holdout in HOLDOUTS, " or ".join(HOLDOUTS)),
            ("runs", self.runs >= 1, "at least 1"),
            ("epochs", self.epochs >= 1, "at least 1"),
            ("batch_size", self.batch_size >= 1, "at least 1"),
            ("learning_rate", self.learning_rate > 0, "positive"),
            ("patience", self.patience >= 1, "at least 1"),
            ("val_fraction", 0 < self.val_fraction < 0.5, "between 0 and 0.5"),
            ("sizes", self.sizes in SIZES, " or ".join(SIZES)),
            ("class_weight", self.class_weight in CLASS_WEIGHTS, " or ".join(CLASS_WEIGHTS)),
            ("retries", self.retries >= 0, "0 or more"),
            ("input_size", 8 <= self.input_size <= 512, "between 8 and 512 pixels"),
        ]
        for name, ok, valid in checks:
            if not ok:
                raise ValueError(f"TrainConfig.{name} = {getattr(self, name)!r}: must be {valid}")

    @property
    def models(self) -> tuple[tuple[str, str], ...]:
        """The (label source, target) pairs trained, in order.

        Examples
        --------
        >>> TrainConfig(targets=("hard", "soft")).models
        (('votes', 'hard'), ('votes', 'soft'), ('expert', 'hard'))
        """
        out: list[tuple[str, str]] = []
        for source in self.label_sources:
            for target in (self.targets if source == "votes" else ("hard",)):
                if (source, target) not in out:
                    out.append((source, target))
        return tuple(out)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        fields = {f.name for f in dataclasses.fields(cls)}
        kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in fields}
        return cls(**kw)


__all__ = ["ARCHITECTURES", "CLASS_WEIGHTS", "HEADS", "SIZES", "HOLDOUTS", "LABEL_SOURCES", "OUTPUTS", "TARGETS", "TrainConfig"]
