"""hunt-clusters: confirm X-ray galaxy cluster candidates with Zooniverse volunteers and a CNN."""

__version__ = "0.1.0"

CLASSES: tuple[str, ...] = ("low-z", "hi-z", "galaxy", "point", "other")
"""The five classes of Kosiba et al. (2020), in the published order."""

CLUSTER_CLASSES: frozenset[str] = frozenset({"low-z", "hi-z"})
"""Classes that count as a galaxy cluster in the binary cluster / non-cluster question."""

__all__ = ["CLASSES", "CLUSTER_CLASSES", "__version__"]
