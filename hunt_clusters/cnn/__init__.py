"""The CNN: models, targets, training on volunteer or expert labels, evaluation and prediction.

The public names are loaded on first use (PEP 562), so that ``hunt-clusters --help`` and the other
stages never import TensorFlow.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "HEADS": "_config", "HOLDOUTS": "_config", "LABEL_SOURCES": "_config", "TrainConfig": "_config",
    "ARCHITECTURES": "_config", "OUTPUTS": "_config", "TARGETS": "_config", "CLASS_WEIGHTS": "_config",
    "SIZES": "_config",
    "TensorSet": "_data", "load_tensors": "_data", "make_dataset": "_data", "resize": "_data",
    "TEST_METRICS": "_evaluate", "agreement_scores": "_evaluate", "binary_scores": "_evaluate",
    "is_cluster": "_evaluate", "accuracy_interval": "_evaluate", "choose_threshold": "_evaluate",
    "paired_comparison": "_evaluate", "wilson_interval": "_evaluate", "needed_test_size": "_evaluate",
    "Experiment": "_experiment", "Targets": "_experiment", "prepare_experiment": "_experiment",
    "read_catalogue": "_experiment", "read_labels": "_experiment",
    "dirichlet_multinomial_loss": "_losses", "loss_for": "_losses", "probabilities": "_losses",
    "DirichletConcentration": "_models", "RandomDihedral": "_models", "make_model": "_models",
    "load_ensemble": "_predict", "predict": "_predict", "read_run": "_predict",
    "fit_one": "_train", "collapsed": "_train", "comparisons": "_train", "p_cluster_of": "_train", "predict_proba": "_train", "train_comparison": "_train",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


__all__ = sorted(_EXPORTS)
