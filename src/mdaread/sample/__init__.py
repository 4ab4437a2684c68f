"""The synthetic sample trial: an analytic thoracolumbar spine phantom, scripted lesion
evolutions covering every MDA outcome, and the writer of DICOM + truth.json + observations.json.

Entry point: ``mdaread.sample.trial.generate_trial`` (or ``mdaread sample OUT``). The package is
Qt-free; the DICOM writing itself lives in ``mdaread.io.writer`` (pydicom stays in mdaread.io).
Heavy modules (scipy) are not imported here, so importing the package is cheap.
"""
