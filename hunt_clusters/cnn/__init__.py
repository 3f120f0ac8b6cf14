"""The CNN: models, targets, training on volunteer or expert labels, evaluation and prediction."""

import os as _os


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow without its C++ start-up lines (oneDNN, CPU features, absl) on stderr.

    TensorFlow 2.21 prints them from native code even with TF_CPP_MIN_LOG_LEVEL set in-process, so
    file descriptor 2 points at /dev/null for the import only. A user who sets TF_CPP_MIN_LOG_LEVEL
    in the environment sees what that level allows.
    """
    import sys

    if "tensorflow" in sys.modules or "TF_CPP_MIN_LOG_LEVEL" in _os.environ:
        import tensorflow  # noqa: F401
        return
    _os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    sys.stderr.flush()
    saved = _os.dup(2)
    devnull = _os.open(_os.devnull, _os.O_WRONLY)
    try:
        _os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        _os.dup2(saved, 2)
        _os.close(saved)
        _os.close(devnull)


_import_tensorflow_quietly()

from ._config import HEADS, HOLDOUTS, LABEL_SOURCES, TrainConfig  # noqa: E402
from ._data import TensorSet, load_tensors, make_dataset, resize  # noqa: E402
from ._evaluate import TEST_METRICS, agreement_scores, binary_scores, is_cluster  # noqa: E402
from ._experiment import Experiment, Targets, prepare_experiment, read_catalogue, read_labels  # noqa: E402
from ._losses import TARGETS, dirichlet_multinomial_loss, loss_for, probabilities  # noqa: E402
from ._models import ARCHITECTURES, DirichletConcentration, RandomDihedral, make_model  # noqa: E402
from ._predict import load_ensemble, predict, read_run  # noqa: E402
from ._train import fit_one, p_cluster_of, predict_proba, train_comparison  # noqa: E402

__all__ = [
    "ARCHITECTURES", "HEADS", "HOLDOUTS", "LABEL_SOURCES", "TARGETS", "TEST_METRICS",
    "DirichletConcentration", "Experiment", "RandomDihedral", "Targets", "TensorSet", "TrainConfig",
    "agreement_scores", "binary_scores", "dirichlet_multinomial_loss", "fit_one", "is_cluster",
    "load_ensemble", "load_tensors", "loss_for", "make_dataset", "make_model", "p_cluster_of", "predict",
    "predict_proba", "prepare_experiment", "probabilities", "read_catalogue", "read_labels", "read_run",
    "resize", "train_comparison",
]
