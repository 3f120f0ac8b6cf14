"""Votes on demand: the mock volunteer crowd as an object, for replaying retirement policies.

`VolunteerCrowd` holds a subject set's cues and a volunteer population drawn exactly as
`hunt_clusters.mock.write_export` draws it (same `VolunteerConfig`, same seed: the same
volunteers, with the same skills, criteria, biases, lapses and activity), and gives more
classifications of any subject at any time from the same observer model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import CLASSES
from .._errors import InputError
from ._observers import class_probabilities, draw_answers
from ._volunteers import VolunteerConfig, _population, read_subject_set, subject_cues


class VolunteerCrowd:
    """The mock volunteers of a subject set, ready to classify any subject again.

    Parameters
    ----------
    subject_set : str, Path or pandas.DataFrame
        A rendered subject set folder (cues from its ``tensors.npz``), or a manifest table with
        ``cues``.
    config : VolunteerConfig
        Seed, population size and skills; the population is the export's for equal settings.
    cues : pandas.DataFrame, optional
        The subjects' cues (``candidate_id`` + cue columns) instead of measuring them.
    retirement : int
        Classifications per subject the population is sized for (default: config or 20).
    jobs : int
        Processes measuring uncached cues.

    Examples
    --------
    >>> from hunt_clusters.mock import synthetic_subject_set
    >>> m, c = synthetic_subject_set(5, seed=1)
    >>> crowd = VolunteerCrowd(m, VolunteerConfig(seed=1), cues=c)
    >>> votes = crowd.classify(crowd.subject_ids[:2].repeat(3), np.random.default_rng(0))
    >>> len(votes), set(votes) <= set(crowd.classes)
    (6, True)
    """

    classes: tuple[str, ...] = tuple(CLASSES)

    def __init__(self, subject_set: str | Path | pd.DataFrame, config: VolunteerConfig = VolunteerConfig(), *,
                 cues: pd.DataFrame | None = None, retirement: int | None = None, jobs: int = 1) -> None:
        manifest = read_subject_set(subject_set, first_subject_id=config.first_subject_id)
        folder = None
        if not isinstance(subject_set, pd.DataFrame):
            p = Path(subject_set)
            folder = p if p.is_dir() else p.parent
        self.candidate_ids = manifest["#candidate_id"].to_numpy(dtype=object)
        self.subject_ids = manifest["subject_id"].to_numpy(dtype=np.int64)
        self._row = pd.Index(self.subject_ids)
        self.cues = subject_cues(list(self.candidate_ids), folder, cues, jobs=jobs)
        R = retirement or config.retirement or 20
        total = len(manifest) * R
        n_vol = config.n_volunteers or max(10, R, int(round(total / config.mean_classifications)))
        rng = np.random.default_rng(config.seed)
        pop = _population(rng, n_vol, config)
        self.n_volunteers = n_vol
        self.volunteers = pop.observers.take(np.arange(n_vol))
        self.user_name = pop.user_name[:n_vol]
        w = rng.lognormal(0.0, config.activity_sigma, n_vol)
        self.activity = w / w.sum()

    def _rows(self, subject_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        rows = self._row.get_indexer(np.asarray(subject_ids, dtype=np.int64))
        if (rows < 0).any():
            bad = np.asarray(subject_ids)[rows < 0][0]
            raise InputError(f"subject {bad} is not in this crowd's subject set")
        return rows

    def probabilities(self, subject_ids: Sequence[int] | np.ndarray, volunteers: Sequence[int] | np.ndarray) -> np.ndarray:
        """Answer probabilities ``(n, 5)`` (`classes` order) of volunteer ``volunteers[i]`` for ``subject_ids[i]``."""
        rows = self._rows(subject_ids)
        v = np.asarray(volunteers, dtype=np.int64)
        if v.shape != rows.shape:
            raise InputError("give one volunteer per subject")
        return class_probabilities({k: a[rows] for k, a in self.cues.items()}, self.volunteers.take(v))

    def classify(self, subject_ids: Sequence[int] | np.ndarray, rng: np.random.Generator, *,
                 volunteers: Sequence[int] | np.ndarray | None = None, return_volunteers: bool = False) -> Any:
        """One more classification of each subject in ``subject_ids`` (repeat an id for several).

        The volunteer of each classification is drawn by activity (the busy few classify most),
        unless ``volunteers`` names them. Returns the answers (class names), and with
        ``return_volunteers`` also the volunteers' indices.
        """
        rows = self._rows(subject_ids)
        if volunteers is None:
            v = rng.choice(self.n_volunteers, rows.size, p=self.activity)
        else:
            v = np.asarray(volunteers, dtype=np.int64)
        p = class_probabilities({k: a[rows] for k, a in self.cues.items()}, self.volunteers.take(v))
        answers = np.array(self.classes, dtype=object)[draw_answers(p, rng)]
        return (answers, v) if return_volunteers else answers


__all__ = ["VolunteerCrowd"]
