"""Writing damaged DICOM for the bad-value and fuzz tests: raw element bytes, no validation."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pydicom
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag

PLACEHOLDER_VR = "LO"  # a text VR pydicom writes without converting; patched to the wanted VR


def set_raw(ds: Dataset, keyword: str, vr: str, value: bytes | int | None) -> None:
    """Put ``value`` into ``keyword`` (None deletes it). Text values are raw bytes written under
    a placeholder VR that :func:`encode` patches, so pydicom never parses them."""
    tag = Tag(keyword)
    if value is None:
        if tag in ds:
            del ds[tag]
        return
    if isinstance(value, int):
        ds[tag] = DataElement(tag, vr, value)
        return
    if len(value) % 2:
        value += b" "
    ds[tag] = DataElement(tag, PLACEHOLDER_VR, value.decode("latin-1"))
    patches = ds.__dict__.setdefault("_mdaread_vr_patches", {})
    patches[int(tag)] = vr


def encode(ds: Dataset) -> bytes:
    """The file bytes of ``ds`` with the placeholder VRs of :func:`set_raw` patched (explicit VR
    little endian files only; elsewhere the placeholder stays, itself a wrong VR)."""
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=False)
    data = bytearray(buffer.getvalue())
    for tag, vr in ds.__dict__.get("_mdaread_vr_patches", {}).items():
        head = struct.pack("<HH", tag >> 16, tag & 0xFFFF) + PLACEHOLDER_VR.encode()
        at = data.find(head)
        if at >= 0 and len(vr) == 2:
            data[at + 4:at + 6] = vr.encode("latin-1")
    return bytes(data)


def rewrite(path: Path, keyword: str, vr: str, value: bytes | int | None) -> None:
    """Read ``path``, set one raw value (see :func:`set_raw`) and write it back."""
    ds = pydicom.dcmread(path)
    set_raw(ds, keyword, vr, value)
    path.write_bytes(encode(ds))
