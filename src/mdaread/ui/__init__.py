"""The workstation's widgets: the only package that imports PyQt6 and pyqtgraph.

Widgets observe a ``mdaread.workflow.reading.ReadingSession`` and call its commands; they hold no
reading state of their own beyond zoom and pan.
"""
