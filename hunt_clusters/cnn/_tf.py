"""TensorFlow imported once, quietly: every module of the package that needs it imports this first."""

from __future__ import annotations

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

import tensorflow as tf  # noqa: E402  (already imported above; the name for the package)

__all__ = ["tf"]
