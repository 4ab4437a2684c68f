"""Header values decoded straight from pydicom's raw elements, and tolerant number parsing."""

from __future__ import annotations

import functools
import math
import struct
from typing import Any

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

BINARY_FORMATS = {"US": "H", "SS": "h", "UL": "I", "SL": "i", "FL": "f", "FD": "d"}


@functools.lru_cache(maxsize=256)
def tag(keyword: str) -> int:
    """The tag of a DICOM keyword (cached)."""
    found = tag_for_keyword(keyword)
    if found is None:
        raise KeyError(keyword)
    return found


def as_list(value: Any) -> list[Any]:
    """A value or multi-value as a list ([] for None)."""
    if value is None:
        return []
    if isinstance(value, str | bytes | int | float):
        return [value]
    return list(value)


def to_float(value: Any, default: float | None = None) -> float | None:
    """A finite float, or ``default`` for missing / malformed values."""
    try:
        result = float(value)
    except (TypeError, ValueError):
        return default
    return result if math.isfinite(result) else default


def to_int(value: Any) -> int | None:
    """An int, or None for missing / malformed values."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def floats(value: Any, n: int) -> tuple[float, ...] | None:
    """Exactly ``n`` finite floats, or None."""
    try:
        items = [float(v) for v in value]
    except (TypeError, ValueError):
        return None
    if len(items) != n or not all(math.isfinite(v) for v in items):
        return None
    return tuple(items)


def rounded(value: Any) -> float | None:
    """A float rounded to 3 decimals (a grouping key), or None."""
    number = to_float(value)
    return None if number is None else round(number, 3)


class RawHeader:
    """Fast ``get(keyword)`` on a freshly read data set: values straight from the raw bytes.

    pydicom's value conversion (DSfloat, IS validation, …) costs more than parsing the file;
    numbers, UIDs and code strings are decoded here instead: text values come back as a str,
    or a list of str when multi-valued; binary values as a number or a list of numbers.
    Free text (descriptions, IDs) still goes through pydicom for character sets.
    """

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds
        little = ds.original_encoding[1]
        self.order = ">" if little is False else "<"

    def get(self, keyword: str, default: Any = None) -> Any:
        key = tag(keyword)
        elem = self.ds.get_item(key)
        if elem is None:
            return default
        if not isinstance(elem, RawDataElement):
            return elem.value if elem.value is not None and elem.value != "" else default
        raw = elem.value
        if not raw:
            return default
        vr = elem.VR or dictionary_VR(key)
        if vr in BINARY_FORMATS:
            code = BINARY_FORMATS[vr]
            size = struct.calcsize(code)
            count = len(raw) // size
            values = struct.unpack(f"{self.order}{count}{code}", raw[: count * size])
            return values[0] if count == 1 else list(values)
        if vr == "SQ":
            return self.ds.get(keyword, default)
        text = raw.decode("latin-1").strip(" \0")
        if not text:
            return default
        return text.split("\\") if "\\" in text else text
