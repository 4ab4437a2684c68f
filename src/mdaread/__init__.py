"""mdaread: a workstation for reading bone-metastasis response under the MD Anderson criteria."""

__version__ = "0.1.0"
