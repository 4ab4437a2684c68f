"""Background jobs: loading (and later registration) in a QThreadPool worker.

The job function takes ``progress`` and ``cancel`` callables (mdaread.model.jobs); results, errors
and progress come back to the main thread through queued Qt signals. Cancelling sets a flag the
job polls; a cancelled or superseded job's result is dropped.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import QObject, QRunnable, QThreadPool, pyqtSignal

from mdaread.errors import Cancelled, MdareadError


class JobSignals(QObject):
    progress = pyqtSignal(float, str)
    succeeded = pyqtSignal(object)
    failed = pyqtSignal(str)
    cancelled = pyqtSignal()
    finished = pyqtSignal()


class Job(QRunnable):
    """Runs ``func(progress=..., cancel=...)`` in the pool; create it in the main thread."""

    def __init__(self, name: str, func: Callable[..., Any]) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the main window keeps it until `finished`
        self.name = name
        self.func = func
        self.signals = JobSignals()
        self._stop = threading.Event()

    def cancel(self) -> None:
        self._stop.set()

    @property
    def is_cancelled(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        try:
            result = self.func(progress=self._progress, cancel=self._stop.is_set)
            if self._stop.is_set():
                self.signals.cancelled.emit()
            else:
                self.signals.succeeded.emit(result)
        except Cancelled:
            self.signals.cancelled.emit()
        except MdareadError as exc:
            # a job interrupted by cancel may fail on the way out: that is still a cancel
            if self._stop.is_set():
                self.signals.cancelled.emit()
            else:
                self.signals.failed.emit(str(exc))
        except Exception as exc:  # a bug: say what, keep the window alive, trace on stderr
            traceback.print_exc()
            self.signals.failed.emit(f"unexpected {type(exc).__name__}: {exc}")
        finally:
            self.signals.finished.emit()

    def _progress(self, fraction: float, message: str) -> None:
        self.signals.progress.emit(float(fraction), message)


def start(job: Job) -> None:
    """Queue ``job`` on the global thread pool."""
    QThreadPool.globalInstance().start(job)
