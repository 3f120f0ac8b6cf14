"""The settings of a mock survey: sizes of the samples, class mix, field of view."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .. import CLASSES
from .._errors import InputError

#: Class mix of the candidates [A], mock-physics.md "Recommended mock defaults".
DEFAULT_CLASS_FRACTIONS: tuple[tuple[str, float], ...] = (
    ("low-z", 0.40),
    ("hi-z", 0.15),
    ("galaxy", 0.10),
    ("point", 0.20),
    ("other", 0.15),
)

#: ``--small`` keeps the paper's overlap structure at one tenth of its size.
SMALL_SCALE = 0.1


@dataclass(frozen=True)
class SurveyConfig:
    """Sizes and settings of a mock X-CLASS survey (defaults: Kosiba et al. 2020).

    Parameters
    ----------
    seed : int
        Master seed; every random draw derives from it, so equal configs give equal surveys.
    n_expert, n_zooniverse, n_overlap : int
        Candidates classified by the experts, shown on Zooniverse, and in both samples.
        The survey holds ``n_expert + n_zooniverse - n_overlap`` candidates.
    n_test_clusters, n_test_noncluster : int
        The spectroscopic test set, drawn inside the overlap.
    class_fractions : tuple of (class, fraction)
        The true class mix; fractions sum to 1.
    candidates_per_pointing : float
        Mean number of candidates per XMM pointing [A].
    field_arcmin : float
        Side of the square field of both images around each candidate.
    expert_lapse : float
        Probability that an expert picks a class at random [A: experts 0.9-0.95 accurate].

    Examples
    --------
    >>> SurveyConfig().n_candidates
    2903
    >>> SurveyConfig.small(seed=3).n_candidates
    291
    """

    seed: int = 0
    n_expert: int = 1707
    n_zooniverse: int = 1600
    n_overlap: int = 404
    n_test_clusters: int = 85
    n_test_noncluster: int = 85
    class_fractions: tuple[tuple[str, float], ...] = DEFAULT_CLASS_FRACTIONS
    candidates_per_pointing: float = 4.0
    field_arcmin: float = 6.0
    expert_lapse: float = 0.05

    def __post_init__(self) -> None:
        for name in ("n_expert", "n_zooniverse", "n_overlap", "n_test_clusters", "n_test_noncluster"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                flag = "--" + name.replace("_", "-")
                raise InputError(f"survey setting {name} ({flag}) = {value!r}: must be a whole number >= 0")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise InputError(f"survey setting seed (--seed) = {self.seed!r}: must be a whole number >= 0")
        if self.n_overlap > min(self.n_expert, self.n_zooniverse):
            raise InputError(
                f"survey setting n_overlap (--n-overlap) = {self.n_overlap}: must not exceed "
                f"n_expert = {self.n_expert} or n_zooniverse = {self.n_zooniverse}"
            )
        if self.n_test_clusters + self.n_test_noncluster > self.n_overlap:
            raise InputError(
                f"survey settings n_test_clusters + n_test_noncluster (--n-test-clusters, --n-test-noncluster) = "
                f"{self.n_test_clusters + self.n_test_noncluster}: the test set lies inside the overlap, "
                f"so it must not exceed n_overlap={self.n_overlap}"
            )
        if self.n_candidates < 1:
            raise InputError("survey settings: n_expert + n_zooniverse - n_overlap must be at least 1")
        names = [c for c, _ in self.class_fractions]
        if sorted(names) != sorted(CLASSES):
            raise InputError(f"survey setting class_fractions names {names}: need each of {list(CLASSES)} once")
        fracs = [f for _, f in self.class_fractions]
        if any(f < 0 for f in fracs) or abs(sum(fracs) - 1.0) > 1e-6:
            raise InputError(f"survey setting class_fractions {fracs}: need fractions >= 0 that sum to 1")
        if not 1.0 <= self.field_arcmin <= 20.0:
            raise InputError(f"survey setting field_arcmin={self.field_arcmin}: use 1-20 arcmin")
        if not 0.0 <= self.expert_lapse <= 1.0:
            raise InputError(f"survey setting expert_lapse={self.expert_lapse}: use a probability in [0, 1]")
        if self.candidates_per_pointing <= 0:
            raise InputError(
                f"survey setting candidates_per_pointing={self.candidates_per_pointing}: must be > 0"
            )

    @property
    def n_candidates(self) -> int:
        """Number of candidates in the survey (union of the expert and Zooniverse samples)."""
        return self.n_expert + self.n_zooniverse - self.n_overlap

    @classmethod
    def small(cls, seed: int = 0, **changes: object) -> SurveyConfig:
        """The paper's structure at one tenth of its size (~290 candidates), for tests and demos."""
        base = cls()
        scaled = {
            name: max(1, round(getattr(base, name) * SMALL_SCALE))
            for name in ("n_expert", "n_zooniverse", "n_overlap", "n_test_clusters", "n_test_noncluster")
        }
        return replace(cls(seed=seed, **scaled), **changes)  # type: ignore[arg-type]


__all__ = ["DEFAULT_CLASS_FRACTIONS", "SurveyConfig"]
