"""Ctrl-C: the command stops at a safe point and says ``interrupted`` (exit 130), never a traceback.

Python raises `KeyboardInterrupt` wherever the main thread is when SIGINT arrives. Inside
TensorFlow's native code that surfaces as an unrelated error (``SystemError: Objects/listobject.c:338:
bad argument to internal function`` from a C callback). So the command line installs `handler`
(`installed`), and work that runs TensorFlow does so inside `deferred`: there SIGINT only sets a
flag, Keras stops at the end of the current batch (`StopOnInterrupt`), and `KeyboardInterrupt` is
raised from Python when the block ends or at the next `check`. Anywhere else SIGINT raises at once.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

_state = {"depth": 0, "deferred": 0, "interrupted": False}


def _handler(signum: int, frame: Any) -> None:
    _state["interrupted"] = True
    if not _state["deferred"]:
        raise KeyboardInterrupt


def _unraisable(previous: Any) -> Any:
    """A `sys.unraisablehook` that keeps `_handler`'s `KeyboardInterrupt` quiet where Python cannot
    raise it (a weakref or finaliser callback, e.g. importlib's module-lock ``cb`` while TensorFlow
    loads: "Exception ignored in ..." and a traceback). The flag is set; `check` raises it at the next
    safe point. Anything else goes to the previous hook."""

    def hook(unraisable: Any) -> None:
        if unraisable.exc_type is KeyboardInterrupt and _state["interrupted"]:
            return
        previous(unraisable)

    return hook


def interrupted() -> bool:
    """Whether SIGINT arrived since the command line started (`installed`)."""
    return bool(_state["interrupted"])


def nested() -> bool:
    """Whether this is a command run by another one (the demo runs each step through the command line)."""
    return int(_state["depth"]) > 1


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """Handle SIGINT with `handler` for the block (the main thread only; a no-op elsewhere).

    Nested blocks share the outer one's state; the outermost restores the previous handler.
    """
    main = threading.current_thread() is threading.main_thread()
    previous = None
    previous_hook = sys.unraisablehook
    if _state["depth"] == 0:
        _state["interrupted"] = False
        _state["deferred"] = 0
        if main:
            previous = signal.signal(signal.SIGINT, _handler)
            sys.unraisablehook = _unraisable(previous_hook)
    _state["depth"] = int(_state["depth"]) + 1
    try:
        yield
    finally:
        _state["depth"] = int(_state["depth"]) - 1
        if _state["depth"] == 0 and previous is not None:
            signal.signal(signal.SIGINT, previous)
            sys.unraisablehook = previous_hook


def check() -> None:
    """Raise `KeyboardInterrupt` if SIGINT arrived (a safe point between two pieces of work)."""
    if _state["interrupted"]:
        raise KeyboardInterrupt


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Inside the block SIGINT only sets the flag; `KeyboardInterrupt` is raised when the block ends."""
    _state["deferred"] = int(_state["deferred"]) + 1
    try:
        yield
    finally:
        _state["deferred"] = int(_state["deferred"]) - 1
    check()


def ignore_in_worker() -> None:
    """``initializer=`` of worker pools: Ctrl-C (sent to the whole process group) is the parent's to
    handle; the workers ignore it and are stopped by the parent's pool, without a traceback each."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def stop_on_interrupt() -> Any:
    """A Keras callback that stops training (``model.stop_training``) at the end of the batch during
    which SIGINT arrived; `deferred` then raises `KeyboardInterrupt` once ``fit`` has returned."""
    import keras

    class StopOnInterrupt(keras.callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            if _state["interrupted"]:
                self.model.stop_training = True

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.on_train_batch_end(0)

    return StopOnInterrupt()


__all__ = ["check", "deferred", "ignore_in_worker", "installed", "interrupted", "nested", "stop_on_interrupt"]
