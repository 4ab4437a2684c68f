"""The workstation's widgets: the only package that imports PyQt6 and pyqtgraph.

Widgets observe a ``mdaread.workflow.reading.ReadingSession`` and call its commands; they hold no
reading state of their own beyond zoom and pan.

Extension points of ``mdaread.ui.main_window.MainWindow`` (for the registration and guided-read
panels):

- ``window.session`` — the ReadingSession: ``subject``, ``sides[side]`` (timepoint, series,
  volume, mpr, cursor in LPS mm, window), ``set_registration(matrix4x4 | None)`` (baseline LPS →
  follow-up LPS; linked navigation follows it at once), ``set_cursor``, ``step``, and plain
  signals ``opened``, ``timepoint_changed``, ``series_changed``, ``cursor_changed``,
  ``window_changed``, ``link_changed``, ``registration_changed``.
- ``window.set_side_panel(widget, title)`` — fills and shows the right-hand dock
  (``window.guided_read_dock``).
- ``window.registration_toolbar`` — a QToolBar for registration actions;
  ``window.registration_status`` is its status label.
- ``window.panels[side].views[plane]`` — SliceView: ``add_overlay(callback(view, state))`` is
  called after every redraw; draw in ``view.view_box`` in scene mm (pixel (c, r) of
  ``view.geometry_`` at (c × du, r × dv)); ``view.slice_index`` is the shown slice.
- ``window.show_error(title, message)`` — the non-blocking one-line error dialog;
  ``window.load_side(side, SeriesChoice)`` and ``mdaread.ui.loader.Job`` for worker-thread jobs
  with progress and cancel.
"""
