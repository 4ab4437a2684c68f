"""The application entry: builds the services (a ReadingSource) and starts the GUI.

The Qt side lives in :mod:`mdaread.ui.application`; this module only forwards to it, so that
nothing outside ``mdaread.ui`` imports PyQt6.
"""

from __future__ import annotations

from pathlib import Path

from mdaread.workflow.worklist import ReadingSource


def run_workstation(source: ReadingSource, *, subject: str | None = None,
                    timepoint: str | None = None, screenshot: str | Path | None = None,
                    message: str = "") -> int:
    """Show the workstation on ``source`` (see mdaread.ui.application.run_workstation)."""
    from mdaread.ui.application import run_workstation as run

    return run(source, subject=subject, timepoint=timepoint, screenshot=screenshot,
               message=message)
