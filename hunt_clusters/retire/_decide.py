"""One posterior per subject from the CNN (prior) and the volunteers (SWAP skills), and a decision."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import InputError
from ..consensus import SWAP

log = logging.getLogger(__name__)

#: The decisions, in the order of the rules that give them (see `decide`).
DECISIONS: tuple[str, ...] = ("experts", "retire-cluster", "retire-non-cluster", "more-eyes")

#: Columns of ``decisions.csv`` (see ``docs/human-machine.md``).
DECISION_COLUMNS: tuple[str, ...] = (
    "candidate_id", "subject_id", "n_votes", "p_cnn", "p_cnn_std", "log_bayes_volunteers",
    "p_volunteers", "p_posterior", "decision", "reason", "information", "priority",
)

#: Priority scores `cnn_priority` knows.
PRIORITY_SCORES: tuple[str, ...] = ("bald", "spread", "entropy")

_RUN_COLUMN = re.compile(r"^p_cluster_run(\d+)$")


@dataclass(frozen=True)
class RetireConfig:
    """Thresholds of the retirement decision (defaults and their sources in ``docs/human-machine.md``).

    Attributes
    ----------
    retire_cluster : float
        Retire as a cluster when the posterior is at least this. Default 0.95, Space Warps' SWAP
        ``detection_threshold`` (Marshall et al. 2016); Gravity Spy retires at 0.9.
    retire_non_cluster : float
        Retire as a non-cluster when the posterior is at most this. Default 1e-7, SWAP's
        ``rejection_threshold``; a symmetric Gravity Spy style rule is 0.1.
    min_votes : int
        Volunteer votes a subject needs before any decision but "more eyes" (default 3, the
        ">= 3 views" of Gravity Spy's example Caesar rule). 0 lets the CNN alone retire.
    max_votes : int or None
        A subject still undecided after this many votes goes to the experts (default 20, the
        classification count at which The Hunt for Galaxy Clusters' workflow retires). None: never.
    disagree : float
        The CNN and the volunteers disagree (and the subject goes to the experts) when one says
        cluster with probability at least ``disagree`` and the other non-cluster with at least
        ``disagree`` (default 0.9). The volunteers' side is their SWAP posterior without the CNN.
    max_spread : float
        A subject whose CNN ensemble spread (``p_cnn_std``) is at least this, and which the
        thresholds do not retire after ``min_votes`` votes, goes to the experts (default 0.25).
    cnn_prior : bool
        Use the CNN's ``p_cluster`` as the prior (default). False: SWAP's prior for every subject.
    cnn_floor : float
        The CNN's probability is clipped to ``[cnn_floor, 1 - cnn_floor]`` before it becomes a
        prior (default 1e-3), so that one overconfident network cannot outvote any number of
        volunteers.
    """

    retire_cluster: float = 0.95
    retire_non_cluster: float = 1e-7
    min_votes: int = 3
    max_votes: int | None = 20
    disagree: float = 0.9
    max_spread: float = 0.25
    cnn_prior: bool = True
    cnn_floor: float = 1e-3

    def __post_init__(self) -> None:
        for name in ("retire_cluster", "retire_non_cluster", "disagree"):
            v = getattr(self, name)
            if not 0 < v < 1:
                raise InputError(f"{name.replace('_', '-')} {v!r} must be strictly between 0 and 1")
        if not self.retire_non_cluster < self.retire_cluster:
            raise InputError(f"retire-non-cluster {self.retire_non_cluster!r} must be below "
                             f"retire-cluster {self.retire_cluster!r}")
        if self.disagree <= 0.5:
            raise InputError(f"disagree {self.disagree!r} must be above 0.5 (a side with at least this probability)")
        if self.min_votes < 0:
            raise InputError(f"min-votes {self.min_votes!r} must be 0 or more")
        if self.max_votes is not None and self.max_votes < max(self.min_votes, 1):
            raise InputError(f"max-votes {self.max_votes!r} must be at least min-votes ({self.min_votes}) and 1")
        if not self.max_spread > 0:
            raise InputError(f"max-spread {self.max_spread!r} must be positive")
        if not 0 < self.cnn_floor < 0.5:
            raise InputError(f"cnn-floor {self.cnn_floor!r} must be strictly between 0 and 0.5")


def binary_entropy(p: np.ndarray | float) -> np.ndarray:
    """Entropy in bits of a cluster / non-cluster probability (0 at 0 and 1, 1 at 0.5).

    Examples
    --------
    >>> binary_entropy(np.array([0.0, 0.5, 1.0])).tolist()
    [0.0, 1.0, 0.0]
    """
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    return np.where((p <= 0) | (p >= 1), 0.0, h)


def bald(runs: np.ndarray) -> np.ndarray:
    """BALD (Houlsby et al. 2011): the mutual information between a label and the ensemble member.

    ``BALD = H(mean_k p_k) - mean_k H(p_k)`` in bits, over the ensemble's ``p_cluster`` of each
    run; high where the runs disagree with each other, not where they agree on 0.5 (the
    acquisition function of Walmsley et al. 2020).

    Parameters
    ----------
    runs : numpy.ndarray
        ``(n_candidates, n_runs)`` probabilities.

    Examples
    --------
    >>> bald(np.array([[0.0, 1.0], [0.5, 0.5]])).tolist()
    [1.0, 0.0]
    """
    runs = np.asarray(runs, dtype=np.float64)
    if runs.ndim != 2 or runs.shape[1] < 1:
        raise ValueError("bald needs an (n_candidates, n_runs) array")
    return binary_entropy(runs.mean(axis=1)) - binary_entropy(runs).mean(axis=1)


def read_predictions(path: str | Path) -> pd.DataFrame:
    """Read and check ``predict``'s output (``candidate_id, p_cluster[, p_cluster_std, p_cluster_runN]``).

    Raises
    ------
    InputError
        Naming the file, row and value: a missing column, a repeated candidate, a probability
        outside [0, 1] or missing.
    """
    p = Path(path)
    try:
        df = pd.read_csv(p, dtype={"candidate_id": str}, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise InputError(f"{p}: predictions file not found (write it with 'hunt-clusters predict')") from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"{p}: not a CSV table ({exc})") from None
    missing = [c for c in ("candidate_id", "p_cluster") if c not in df.columns]
    if missing:
        raise InputError(f"{p}: missing column(s) {', '.join(missing)}; 'hunt-clusters predict' writes "
                         f"candidate_id, p_cluster, p_cluster_std (it has {', '.join(map(str, df.columns))})")
    dup = df["candidate_id"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(f"{p}, row {i + 2}: candidate {df['candidate_id'].iloc[i]!r} appears twice; "
                         "give one model's predictions (one row per candidate)")
    cols = ["p_cluster", *(c for c in df.columns if c == "p_cluster_std" or _RUN_COLUMN.match(str(c)))]
    for c in cols:
        v = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=np.float64)
        hi = 0.5 if c == "p_cluster_std" else 1.0
        bad = ~((v >= 0) & (v <= hi))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raw = df[c].iloc[i]
            shown = "(empty)" if pd.isna(raw) else repr(raw.item() if isinstance(raw, np.generic) else raw)
            raise InputError(f"{p}, row {i + 2} ({df['candidate_id'].iloc[i]}): {c} {shown} "
                             f"is not a number between 0 and {hi:g}")
        df[c] = v
    df.attrs["source"] = str(p)
    return df


def run_columns(predictions: pd.DataFrame) -> list[str]:
    """The per-run ``p_cluster_runN`` columns of a predictions table, in run order."""
    found = [(int(m.group(1)), str(c)) for c in predictions.columns if (m := _RUN_COLUMN.match(str(c)))]
    return [c for _, c in sorted(found)]


def cnn_priority(predictions: pd.DataFrame, by: str = "bald") -> pd.DataFrame:
    """Rank candidates for prioritised selection, most informative first (priority 1).

    Parameters
    ----------
    predictions : pandas.DataFrame
        ``predict``'s table: ``candidate_id``, ``p_cluster``, ``p_cluster_std`` and, for BALD, the
        per-run ``p_cluster_run0, p_cluster_run1, ...``.
    by : {"bald", "spread", "entropy"}
        ``bald``: `bald` over the ensemble's runs (Walmsley et al. 2020); ``spread``: the runs'
        standard deviation ``p_cluster_std``; ``entropy``: the binary entropy of the mean (the
        plain uncertainty, which also ranks an agreed 0.5 first).

    Returns
    -------
    pandas.DataFrame
        ``candidate_id, score, priority``: priority 1 is the highest score (ties: the table's
        order). Zooniverse's prioritised selection serves the lowest ``#priority`` first.

    Examples
    --------
    >>> t = pd.DataFrame({"candidate_id": ["A", "B", "C"], "p_cluster": [0.5, 0.5, 0.9],
    ...                   "p_cluster_run0": [0.5, 0.0, 0.9], "p_cluster_run1": [0.5, 1.0, 0.9]})
    >>> cnn_priority(t, "bald")[["candidate_id", "priority"]].values.tolist()
    [['A', 2], ['B', 1], ['C', 3]]
    """
    src = predictions.attrs.get("source", "predictions")
    if by == "bald":
        cols = run_columns(predictions)
        if len(cols) < 2:
            raise InputError(f"{src}: BALD needs the per-run columns p_cluster_run0, p_cluster_run1, ... "
                             "(written by 'hunt-clusters predict' of this version, with at least 2 runs); "
                             "or rank by spread")
        score = bald(predictions[cols].to_numpy(dtype=np.float64))
    elif by == "spread":
        if "p_cluster_std" not in predictions.columns:
            raise InputError(f"{src}: ranking by spread needs the column p_cluster_std")
        score = predictions["p_cluster_std"].to_numpy(dtype=np.float64)
    elif by == "entropy":
        score = binary_entropy(predictions["p_cluster"].to_numpy(dtype=np.float64))
    else:
        raise InputError(f"priority score {by!r} unknown; valid: {', '.join(PRIORITY_SCORES)}")
    order = np.argsort(-score, kind="stable")
    priority = np.empty(len(score), dtype=np.int64)
    priority[order] = np.arange(1, len(score) + 1)
    return pd.DataFrame({"candidate_id": predictions["candidate_id"].astype(str).to_numpy(),
                         "score": score, "priority": priority})


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


def decide(
    votes: pd.DataFrame | None,
    predictions: pd.DataFrame | None = None,
    *,
    gold: pd.Series | pd.DataFrame | None = None,
    config: RetireConfig | None = None,
    swap: SWAP | None = None,
) -> pd.DataFrame:
    """A posterior and a decision per subject from the volunteers' votes and the CNN's ensemble.

    The volunteers' skills are SWAP's (`hunt_clusters.consensus.SWAP`, learned on the gold
    subjects); each vote adds its log-likelihood ratio, and the CNN's ensemble mean is the prior
    (Beck et al. 2018's SWAP + machine; Gravity Spy counts the machine as the first vote):

        ``logit(p_posterior) = logit(clip(p_cnn)) + log_bayes_volunteers``

    where ``log_bayes_volunteers = logit(p_volunteers) - logit(SWAP prior)`` is the sum of the
    votes' log-likelihood ratios. A subject without a CNN score (or with ``cnn_prior=False``)
    keeps SWAP's prior; a scored subject without votes has the CNN's probability.

    The decision, by the first rule that holds (thresholds in `RetireConfig`):

    1. ``experts`` (reason ``disagree``): at least ``min_votes`` votes, and the CNN and the
       volunteers (``p_volunteers``) each at least ``disagree`` sure of opposite sides;
    2. ``retire-cluster``: at least ``min_votes`` votes and ``p_posterior >= retire_cluster``;
    3. ``retire-non-cluster``: at least ``min_votes`` votes and ``p_posterior <= retire_non_cluster``;
    4. ``experts`` (reason ``spread``): at least ``min_votes`` votes and ``p_cnn_std >= max_spread``;
    5. ``experts`` (reason ``undecided``): at least ``max_votes`` votes;
    6. ``more-eyes``, with ``priority`` 1, 2, ... by decreasing ``information`` (the binary
       entropy of the posterior, bits): the most uncertain subjects first.

    Parameters
    ----------
    votes : pandas.DataFrame or None
        Aggregate's votes table (``subject_id, candidate_id, user, class``); None: no votes yet.
    predictions : pandas.DataFrame, optional
        ``predict``'s table (``candidate_id, p_cluster[, p_cluster_std]``), joined on ``candidate_id``.
    gold : pandas.Series or pandas.DataFrame, optional
        Expert classes of gold subjects, from which SWAP learns the skills (see
        `hunt_clusters.consensus.parse_gold`). Without gold every volunteer keeps ``P_L = P_D = 0.5``
        and the votes carry no weight.
    config : RetireConfig, optional
    swap : SWAP, optional
        The SWAP estimator to fit (default ``SWAP()``), e.g. with a fixed prior.

    Returns
    -------
    pandas.DataFrame
        The columns of `DECISION_COLUMNS`, one row per subject (voted or scored), sorted by
        ``candidate_id``. ``subject_id`` is empty for candidates that have no votes.

    Examples
    --------
    >>> votes = pd.DataFrame({"subject_id": [1, 1, 2, 2, 3, 3], "candidate_id": list("AABBCC"),
    ...                       "user": ["ann", "bob"] * 3,
    ...                       "class": ["low-z", "point", "galaxy", "galaxy", "hi-z", "other"]})
    >>> gold = pd.Series({"A": "low-z", "B": "galaxy"})
    >>> cnn = pd.DataFrame({"candidate_id": ["C"], "p_cluster": [0.8], "p_cluster_std": [0.05]})
    >>> d = decide(votes, cnn, gold=gold, config=RetireConfig(min_votes=2))
    >>> round(float(d.set_index("candidate_id").loc["C", "p_posterior"]), 6)   # odds 4 x 2 = 8
    0.888889
    """
    cfg = config or RetireConfig()
    est = swap if swap is not None else SWAP()
    # -- volunteers ---------------------------------------------------------------------------
    if votes is not None and len(votes):
        est.fit(votes, gold)
        lab = est.labels_
        prior_logit = float(_logit(np.array(est.prior_)))
        vol = pd.DataFrame({
            "candidate_id": lab["candidate_id"].astype(object),
            "subject_id": lab["subject_id"].to_numpy(),
            "n_votes": lab["n_votes"].to_numpy(dtype=np.int64),
            "log_odds": est.log_odds_.reindex(lab["subject_id"]).to_numpy(dtype=np.float64),
        })
        missing_cid = vol["candidate_id"].isna()
        vol.loc[missing_cid, "candidate_id"] = "subject " + vol.loc[missing_cid, "subject_id"].astype(str)
        vol["candidate_id"] = vol["candidate_id"].astype(str)
        dup = vol["candidate_id"].duplicated(keep=False) & ~missing_cid
        if dup.any():
            cid = vol.loc[dup, "candidate_id"].iloc[0]
            subs = ", ".join(vol.loc[vol["candidate_id"] == cid, "subject_id"].astype(str))
            raise InputError(f"{votes.attrs.get('source', 'votes table')}: candidate {cid!r} is in subjects {subs}; "
                             "one subject per candidate is needed to join the CNN's predictions")
        vol["log_bayes_volunteers"] = np.where(vol["n_votes"] > 0, vol["log_odds"] - prior_logit, 0.0)
    else:
        prior_logit = float(_logit(np.array(est.prior if est.prior is not None else 0.5)))
        vol = pd.DataFrame({"candidate_id": pd.Series(dtype=str), "subject_id": pd.Series(dtype=object),
                            "n_votes": pd.Series(dtype=np.int64),
                            "log_bayes_volunteers": pd.Series(dtype=np.float64)})
    vol = vol[["candidate_id", "subject_id", "n_votes", "log_bayes_volunteers"]]
    # -- the CNN ------------------------------------------------------------------------------
    if predictions is not None:
        cnn = pd.DataFrame({"candidate_id": predictions["candidate_id"].astype(str),
                            "p_cnn": predictions["p_cluster"].to_numpy(dtype=np.float64)})
        cnn["p_cnn_std"] = (predictions["p_cluster_std"].to_numpy(dtype=np.float64)
                            if "p_cluster_std" in predictions.columns else np.nan)
        table = vol.merge(cnn, on="candidate_id", how="outer")
    else:
        table = vol.assign(p_cnn=np.nan, p_cnn_std=np.nan)
    table["n_votes"] = table["n_votes"].fillna(0).astype(np.int64)
    table["log_bayes_volunteers"] = table["log_bayes_volunteers"].fillna(0.0)
    table = table.sort_values("candidate_id", kind="stable").reset_index(drop=True)
    # -- the posterior ------------------------------------------------------------------------
    from scipy.special import expit

    llr = table["log_bayes_volunteers"].to_numpy(dtype=np.float64)
    p_cnn = table["p_cnn"].to_numpy(dtype=np.float64)
    has_cnn = np.isfinite(p_cnn) & cfg.cnn_prior
    prior_p = np.full(len(table), float(expit(prior_logit)))
    prior_p[has_cnn] = np.clip(p_cnn[has_cnn], cfg.cnn_floor, 1 - cfg.cnn_floor)
    p_vol = expit(prior_logit + llr)
    # without evidence the posterior is the prior itself (not logit and back: 0.9 stays 0.9)
    post = np.where(llr == 0, prior_p, expit(_logit(prior_p) + llr))
    table["p_volunteers"] = np.where(table["n_votes"] > 0, p_vol, np.nan)
    table["p_posterior"] = post
    # -- the decision -------------------------------------------------------------------------
    n = table["n_votes"].to_numpy()
    enough = n >= cfg.min_votes
    cnn_sure_yes = np.isfinite(p_cnn) & (p_cnn >= cfg.disagree)
    cnn_sure_no = np.isfinite(p_cnn) & (p_cnn <= 1 - cfg.disagree)
    voted = n > 0
    disagree = enough & voted & ((cnn_sure_yes & (p_vol <= 1 - cfg.disagree)) | (cnn_sure_no & (p_vol >= cfg.disagree)))
    spread = table["p_cnn_std"].to_numpy(dtype=np.float64)
    wide = enough & np.isfinite(spread) & (spread >= cfg.max_spread)
    undecided = np.zeros(len(table), dtype=bool) if cfg.max_votes is None else n >= cfg.max_votes
    conditions = [disagree, enough & (post >= cfg.retire_cluster), enough & (post <= cfg.retire_non_cluster),
                  wide, undecided]
    decision = np.select(conditions, ["experts", "retire-cluster", "retire-non-cluster", "experts", "experts"],
                         default="more-eyes")
    reason = np.select(conditions, ["disagree", "posterior", "posterior", "spread", "undecided"], default="uncertain")
    table["decision"] = decision
    table["reason"] = reason
    info = binary_entropy(post)
    table["information"] = info
    more = decision == "more-eyes"
    priority = np.zeros(len(table), dtype=np.int64)
    idx = np.flatnonzero(more)
    priority[idx[np.argsort(-info[idx], kind="stable")]] = np.arange(1, len(idx) + 1)
    table["priority"] = pd.array(np.where(more, priority, 0), dtype="Int64")
    table.loc[~more, "priority"] = pd.NA
    counts = pd.Series(decision).value_counts().to_dict()
    log.info("decisions: %s", ", ".join(f"{counts.get(d, 0)} {d}" for d in DECISIONS))
    return table[list(DECISION_COLUMNS)]


__all__ = ["DECISIONS", "DECISION_COLUMNS", "PRIORITY_SCORES", "RetireConfig", "bald", "binary_entropy",
           "cnn_priority", "decide", "read_predictions", "run_columns"]
