"""Use cases that orchestrate the core packages (ingest, reading session, guided read, re-read).

Qt-free: long jobs take ``progress=`` and ``cancel=`` callables; state changes are announced with
plain-Python signals so that the UI (or a test) can observe them.
"""
