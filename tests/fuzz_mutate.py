"""Seeded mutations of real DICOM for the fuzz test: one case = one folder built from one seed
series of :mod:`fuzz_corpus`, changed by one to three mutations, the same bytes for the same
(seed, index) on every machine.

Mutations (the ``kind`` named in a case's description):
``header``   a geometry / pixel-format / rescale value set to zero, negative, NaN, inf, huge,
             garbage, the wrong count, the wrong VR (binary for text, text for binary), the
             wrong length, or deleted — in one file or in every file;
``enhanced`` the same inside an enhanced image's functional groups;
``geometry`` plausible-looking stacks that are not: gaps, duplicate positions, tilts, a slice
             with another pixel spacing;
``text``     IDs, UIDs, dates, descriptions, code strings with control, bidirectional-override,
             non-UTF-8 or far too many characters;
``name``     a file name with control characters, a newline or an override;
``syntax``   the file meta's TransferSyntaxUID replaced (no re-encoding: the data lie);
``pixels``   pixel data shorter or longer than Rows × Columns × frames, or emptied;
``truncate`` the file cut (in the header, at the pixel data, inside it);
``bitflip``  bits flipped; ``garbage`` bytes overwritten, inserted or deleted;
``length``   an element's length field rewritten; ``mix`` files of another seed (another size)
             added, half of the time under the case's Series Instance UID; ``extra`` an empty,
             text, random or duplicated file added.
"""

from __future__ import annotations

import io
import math
import random
import struct
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from fuzz_corpus import Seed, corpus

NUMBERS = ["0", "-0", "-1", "1", "nan", "NaN", "inf", "-inf", "Infinity", "1e308", "-1e308",
           "1e-308", "1e400", "5e-324", "1e-30", "1e30", "99999999999", "2147483648",
           "-2147483649", "65536", "", " ", "abc", "1e", "0x10", "9" * 80, "\0", "1_0", "+.5",
           "\u0661", "-1e-5", "3.4e38", "1e19", "0.5"]
US_VALUES = [0, 1, 2, 3, 7, 8, 12, 15, 16, 17, 24, 31, 32, 33, 64, 255, 256, 4096, 32767,
             32768, 65535]
# keyword: (VR, number of values)
NUMERIC = {
    "ImagePositionPatient": ("DS", 3), "ImageOrientationPatient": ("DS", 6),
    "PixelSpacing": ("DS", 2), "SliceThickness": ("DS", 1), "SpacingBetweenSlices": ("DS", 1),
    "RescaleSlope": ("DS", 1), "RescaleIntercept": ("DS", 1), "SliceLocation": ("DS", 1),
    "EchoTime": ("DS", 1), "TriggerTime": ("DS", 1), "WindowCenter": ("DS", 1),
    "InstanceNumber": ("IS", 1), "SeriesNumber": ("IS", 1), "AcquisitionNumber": ("IS", 1),
    "NumberOfFrames": ("IS", 1), "EchoNumbers": ("IS", 1),
    "TemporalPositionIdentifier": ("IS", 1),
    "Rows": ("US", 1), "Columns": ("US", 1), "BitsAllocated": ("US", 1),
    "BitsStored": ("US", 1), "HighBit": ("US", 1), "PixelRepresentation": ("US", 1),
    "SamplesPerPixel": ("US", 1),
}
HOT = ["ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "RescaleSlope",
       "RescaleIntercept", "Rows", "Columns", "BitsAllocated", "SliceThickness",
       "SpacingBetweenSlices", "NumberOfFrames"]
TEXT = {"PatientID": "LO", "SeriesDescription": "LO", "SeriesInstanceUID": "UI",
        "StudyInstanceUID": "UI", "FrameOfReferenceUID": "UI", "StudyDate": "DA",
        "Modality": "CS", "ImageType": "CS", "PhotometricInterpretation": "CS",
        "SOPClassUID": "UI", "SpecificCharacterSet": "CS", "PatientName": "PN"}
STRINGS = [b"", b" ", b"A" * 300, b"\x1b[31mred\x1b[0m", "\u202eevil\u202c".encode(),
           "\u2066x\u2069\u200f".encode(), b"a\nb\rc", b"x\\y\\z", b"\xe9\xff\xfe", b"\0\0",
           b"MDA-001", b"1.2.3", b"..", b"19000101", b"99999999", b"2026-13-45", b"LOCALIZER",
           b"MONOCHROME1", b"RGB", b"PALETTE COLOR", b"1.2.840.10008.5.1.4.1.1.7",
           b"1.2.840.10008.1.3.10", b"ISO_IR 192", b"ISO 2022 IR 87", b"\x7f\x9b\x85"]
NAMES = ["IM\x1b[2J.dcm", "\u202egpj.dcm", "new\nline.dcm", "tab\there.dcm", "sp ace.dcm",
         "\x07bell", "-dash.dcm", "x" * 200]
SYNTAXES = ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2",
            "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51",
            "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80",
            "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
            "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.100", "1.2.840.10008.1.2.4.201",
            "1.2.3.4", "", "garbage\x01"]

Files = list[list[Any]]  # [name, bytes]


def make_case(seed: int, index: int, folder: Path) -> list[str]:
    """Write case ``index`` of campaign ``seed`` into ``folder``; return what was done."""
    rng = random.Random(f"{seed}:{index}")
    seeds = corpus()
    base = rng.choices(seeds, weights=[s.weight for s in seeds])[0]
    files: Files = [[n, d] for n, d in base.files]
    if len(files) > 2 and rng.random() < 0.25:
        files = files[: rng.randint(1, len(files))]
    done = [f"seed {base.name} ({len(files)} file(s))"]
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        kind = rng.choices(list(KINDS), weights=[w for w, _ in KINDS.values()])[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                done.append(f"{kind}: {KINDS[kind][1](rng, files, seeds)}")
            except Exception as exc:  # pydicom refusing a change: the case goes on without it
                done.append(f"{kind}: not applied ({type(exc).__name__}: {exc})"[:200])
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files:
        (folder / name).write_bytes(data)
    return done


# --- the data set as pydicom reads it, changed, and written back ----------------------------


def _parse(data: bytes) -> Dataset | None:
    try:
        return pydicom.dcmread(io.BytesIO(data), force=True)
    except Exception:
        return None


def _encode(ds: Dataset) -> bytes | None:
    buffer = io.BytesIO()
    try:
        ds.save_as(buffer, enforce_file_format=False)
    except Exception:
        return None
    return buffer.getvalue()


def put(ds: Dataset, keyword: str, vr: str, value: bytes | None) -> None:
    """``keyword`` holds exactly ``value`` (None deletes it), written as raw bytes under ``vr``
    with no conversion or padding: wrong VRs and odd lengths go to the file as given."""
    tag = Tag(keyword)
    if value is None:
        if tag in ds:
            del ds[tag]
        return
    implicit, little = ds.original_encoding
    ds._dict[tag] = RawDataElement(tag, vr, len(value), value, 0, bool(implicit),
                                   little is not False, True, False)


def _targets(rng: random.Random, files: Files, every: float = 0.3) -> list[list[Any]]:
    return list(files) if rng.random() < every else [rng.choice(files)]


def _on_datasets(rng: random.Random, files: Files, change: Callable[[Dataset], str],
                 every: float = 0.3) -> str:
    notes = []
    for entry in _targets(rng, files, every):
        ds = _parse(entry[1])
        if ds is None:
            notes.append(f"{entry[0]} unparsable, unchanged")
            continue
        note = change(ds)
        data = _encode(ds)
        if data is None:
            notes.append(f"{entry[0]}: {note} (not encodable, unchanged)")
            continue
        entry[1] = data
        notes.append(f"{entry[0]}: {note}")
    return "; ".join(notes[:3]) + (f"; … {len(notes) - 3} more" if len(notes) > 3 else "")


def _values(ds: Dataset, keyword: str) -> list[str]:
    try:
        value = ds.get(keyword)
    except Exception:
        return []
    if value is None:
        return []
    items = list(value) if isinstance(value, list | tuple | pydicom.multival.MultiValue) \
        else [value]
    return [str(v) for v in items]


def _numeric_value(rng: random.Random, ds: Dataset, keyword: str) -> tuple[str, bytes | None]:
    vr, n = NUMERIC[keyword]
    mode = rng.choice(("one", "one", "all", "count", "binary", "delete", "wrong-length"))
    if mode == "delete":
        return vr, None
    if vr == "US":
        if mode in ("one", "all"):
            return "US", struct.pack("<H", rng.choice(US_VALUES))
        if mode == "binary":  # text under a text VR where a binary one belongs
            return rng.choice(("IS", "DS")), rng.choice(NUMBERS).encode("latin-1", "replace")
        if mode == "count":
            return "UL", struct.pack("<I", rng.choice((0, 1 << 16, 99999999999 % 2**32)))
        return "US", rng.choice((b"\x01", b"\x01\x02\x03", b"\0" * 6, b""))
    original = _values(ds, keyword) or ["1"] * n
    items = (original + ["0"] * n)[:n]
    if mode == "one":
        items[rng.randrange(n)] = rng.choice(NUMBERS)
    elif mode == "all":
        items = [rng.choice(NUMBERS)] * n
    elif mode == "count":
        items = items[:-1] if rng.random() < 0.5 else [*items, "1"]
    elif mode == "binary":
        numbers = [rng.choice((0.0, -1.0, math.nan, math.inf, 1e308, 1.0)) for _ in range(n)]
        return rng.choice(("FD", "FL", "US")), struct.pack(f"<{n}d", *numbers)
    else:
        return vr, ("\\".join(items) + rng.choice(("\\", "\\\\", "\0"))).encode("latin-1")
    return vr, "\\".join(items).encode("latin-1", "replace")


def m_header(rng: random.Random, files: Files, seeds: Any) -> str:
    keyword = rng.choice(HOT) if rng.random() < 0.6 else rng.choice(list(NUMERIC))

    def change(ds: Dataset) -> str:
        vr, value = _numeric_value(rng, ds, keyword)
        put(ds, keyword, vr, value)
        return f"{keyword} {vr} {value!r:.60}"
    return _on_datasets(rng, files, change)


def m_enhanced(rng: random.Random, files: Files, seeds: Any) -> str:
    places = {"PlanePositionSequence": "ImagePositionPatient",
              "PlaneOrientationSequence": "ImageOrientationPatient",
              "PixelMeasuresSequence": rng.choice(("PixelSpacing", "SliceThickness",
                                                   "SpacingBetweenSlices")),
              "PixelValueTransformationSequence": rng.choice(("RescaleSlope",
                                                              "RescaleIntercept"))}

    def change(ds: Dataset) -> str:
        frames = ds.get("PerFrameFunctionalGroupsSequence")
        if not frames:
            return m_header_one(rng, ds)
        action = rng.random()
        if action < 0.1:
            del frames[rng.randrange(len(frames))]
            return "a frame's functional groups removed"
        shared = ds.get("SharedFunctionalGroupsSequence")
        groups = shared[0] if shared and rng.random() < 0.4 else rng.choice(frames)
        macro = rng.choice([m for m in places if m in groups] or list(places))
        if macro not in groups or not groups[macro].value:
            return f"{macro} absent"
        if action < 0.2:
            del groups[macro]
            return f"{macro} deleted"
        keyword = places[macro]
        vr, value = _numeric_value(rng, groups[macro][0], keyword)
        put(groups[macro][0], keyword, vr, value)
        return f"{macro} {keyword} {vr} {value!r:.60}"
    return _on_datasets(rng, files, change, every=0.1)


def m_header_one(rng: random.Random, ds: Dataset) -> str:
    keyword = rng.choice(HOT)
    vr, value = _numeric_value(rng, ds, keyword)
    put(ds, keyword, vr, value)
    return f"{keyword} {vr} {value!r:.60}"


def _floats(ds: Dataset, keyword: str, n: int) -> list[float] | None:
    try:
        values = [float(v) for v in _values(ds, keyword)]
    except ValueError:
        return None
    return values if len(values) == n else None


def _ds_text(values: list[float]) -> bytes:
    text = "\\".join(f"{v:.10g}" for v in values)
    return (text + " " * (len(text) % 2)).encode()


def m_geometry(rng: random.Random, files: Files, seeds: Any) -> str:
    mode = rng.choice(("gap", "duplicate", "tilt", "shear", "spacing", "reverse-numbers"))
    if mode == "duplicate" and len(files) > 1:
        a, b = rng.sample(files, 2)
        source, target = _parse(a[1]), _parse(b[1])
        if source is None or target is None or "ImagePositionPatient" not in source:
            return "duplicate: unparsable"
        put(target, "ImagePositionPatient", "DS",
            _ds_text(_floats(source, "ImagePositionPatient", 3) or [0, 0, 0]))
        b[1] = _encode(target) or b[1]
        return f"duplicate: {b[0]} at {a[0]}'s position"
    step = rng.choice((0.001, 0.05, 0.5, 3.0, 20.0, 500.0))
    angle = math.radians(rng.choice((0.001, 0.5, 5.0, 30.0, 90.0)))

    def change(ds: Dataset) -> str:
        position = _floats(ds, "ImagePositionPatient", 3)
        cosines = _floats(ds, "ImageOrientationPatient", 6)
        if mode == "gap" and position:
            position[2] += step
            put(ds, "ImagePositionPatient", "DS", _ds_text(position))
            return f"z + {step} mm"
        if mode == "shear" and position:
            number = int(ds.get("InstanceNumber", 1) or 1)
            position[0] += step * number
            put(ds, "ImagePositionPatient", "DS", _ds_text(position))
            return f"x + {step} mm × instance"
        if mode == "tilt" and cosines:
            c, s = math.cos(angle), math.sin(angle)
            rotated = []
            for x, y, z in (cosines[:3], cosines[3:]):
                rotated += [x, c * y - s * z, s * y + c * z]
            put(ds, "ImageOrientationPatient", "DS", _ds_text(rotated))
            return f"tilted {math.degrees(angle):g}°"
        spacing = _floats(ds, "PixelSpacing", 2)
        if mode == "spacing" and spacing:
            put(ds, "PixelSpacing", "DS", _ds_text([v * 0.9 for v in spacing]))
            return "pixel spacing × 0.9"
        put(ds, "InstanceNumber", "IS", str(rng.randint(-5, 5)).encode())
        return "instance number changed"
    return f"{mode}: " + _on_datasets(rng, files, change, every=0.5)


def m_text(rng: random.Random, files: Files, seeds: Any) -> str:
    keyword = rng.choice(list(TEXT))
    value = rng.choice(STRINGS)

    def change(ds: Dataset) -> str:
        put(ds, keyword, TEXT[keyword], value)
        return f"{keyword} {value!r:.50}"
    return _on_datasets(rng, files, change, every=0.5)


def m_name(rng: random.Random, files: Files, seeds: Any) -> str:
    entry = rng.choice(files)
    entry[0] = rng.choice(NAMES)
    if sum(1 for f in files if f[0] == entry[0]) > 1:
        entry[0] += f"-{rng.randrange(1000)}"
    return f"file named {entry[0]!r}"


def _meta_end(data: bytes) -> int | None:
    """Offset just after the file meta group of a Part 10 file (None: no meta)."""
    if data[128:132] != b"DICM":
        return None
    at = 132
    while at + 8 <= len(data) and data[at:at + 2] == b"\x02\x00":
        vr = data[at + 4:at + 6]
        if vr in (b"OB", b"OW", b"UN", b"SQ", b"UT"):
            length = int.from_bytes(data[at + 8:at + 12], "little")
            at += 12 + length
        else:
            at += 8 + int.from_bytes(data[at + 6:at + 8], "little")
    return at


def m_syntax(rng: random.Random, files: Files, seeds: Any) -> str:
    uid = rng.choice(SYNTAXES)
    notes = []
    for entry in _targets(rng, files, 0.5):
        end = _meta_end(entry[1])
        ds = _parse(entry[1])
        if end is None or ds is None:
            notes.append(f"{entry[0]}: no file meta")
            continue
        meta = ds.file_meta
        meta.TransferSyntaxUID = uid
        buffer = pydicom.filebase.DicomBytesIO()
        try:
            pydicom.filewriter.write_file_meta_info(buffer, meta, enforce_standard=False)
        except Exception:
            notes.append(f"{entry[0]}: meta not writable")
            continue
        entry[1] = entry[1][:128] + b"DICM" + buffer.getvalue() + entry[1][end:]
        notes.append(entry[0])
    return f"TransferSyntaxUID {uid!r} in " + ", ".join(notes[:3])


def m_pixels(rng: random.Random, files: Files, seeds: Any) -> str:
    mode = rng.choice(("short", "long", "odd", "empty", "native-in-encapsulated"))

    def change(ds: Dataset) -> str:
        element = ds.get_item(Tag("PixelData"))
        if element is None:
            return "no pixel data"
        value = bytes(element.value or b"")
        undefined = (getattr(element, "length", None) == 0xFFFFFFFF
                     or bool(getattr(element, "is_undefined_length", False)))
        if mode == "short":
            value = value[: int(len(value) * rng.choice((0.0, 0.3, 0.9, 0.999)))]
        elif mode == "long":
            value += bytes(rng.randrange(256) for _ in range(rng.choice((2, 64, 4096))))
        elif mode == "odd":
            value = value[:-1]
        elif mode == "empty":
            value = b""
        else:
            value = b"\xfe\xff\x00\xe0" + struct.pack("<I", 0) + value[8:]
            undefined = True
        if undefined and not value.startswith(b"\xfe\xff\x00\xe0"):
            undefined = False
        implicit, little = ds.original_encoding
        ds._dict[Tag("PixelData")] = RawDataElement(
            Tag("PixelData"), element.VR or "OW", 0xFFFFFFFF if undefined else len(value),
            value, 0, bool(implicit), little is not False, True, False)
        return f"{mode} ({len(value)} bytes)"
    return _on_datasets(rng, files, change, every=0.2)


def m_truncate(rng: random.Random, files: Files, seeds: Any) -> str:
    entry = rng.choice(files)
    data = entry[1]
    where = rng.choice(("header", "late", "anywhere"))
    if where == "header":
        cut = rng.randrange(0, min(len(data), 2048))
    elif where == "late":
        cut = len(data) - rng.randrange(1, max(2, min(len(data), 512)))
    else:
        cut = rng.randrange(0, len(data))
    entry[1] = data[:cut]
    return f"{entry[0]} cut at {cut} of {len(data)} bytes"


def m_bitflip(rng: random.Random, files: Files, seeds: Any) -> str:
    entry = rng.choice(files)
    data = bytearray(entry[1])
    if not data:
        return "empty file"
    span = min(len(data), 4096) if rng.random() < 0.6 else len(data)
    count = rng.choice((1, 2, 8, 32))
    for _ in range(count):
        at = rng.randrange(span)
        data[at] ^= 1 << rng.randrange(8)
    entry[1] = bytes(data)
    return f"{entry[0]}: {count} bit(s) flipped in the first {span} bytes"


def m_garbage(rng: random.Random, files: Files, seeds: Any) -> str:
    entry = rng.choice(files)
    data = entry[1]
    at = rng.randrange(max(len(data), 1))
    size = rng.choice((1, 4, 16, 256))
    junk = bytes(rng.choice((0x00, 0xFF, rng.randrange(256))) for _ in range(size))
    mode = rng.choice(("overwrite", "insert", "delete"))
    if mode == "overwrite":
        entry[1] = data[:at] + junk + data[at + size:]
    elif mode == "insert":
        entry[1] = data[:at] + junk + data[at:]
    else:
        entry[1] = data[:at] + data[at + size:]
    return f"{entry[0]}: {size} byte(s) {mode} at {at}"


def m_length(rng: random.Random, files: Files, seeds: Any) -> str:
    entry = rng.choice(files)
    keyword = rng.choice(("Rows", "Columns", "PixelSpacing", "ImagePositionPatient",
                          "SeriesDescription", "PixelData", "RescaleSlope",
                          "SeriesInstanceUID", "PerFrameFunctionalGroupsSequence"))
    tag = Tag(keyword)
    head = struct.pack("<HH", tag.group, tag.element)
    data = bytearray(entry[1])
    at = data.find(head, 132)
    if at < 0:
        return f"{entry[0]}: no {keyword} element"
    vr = bytes(data[at + 4:at + 6])
    new = rng.choice((0, 1, 3, 0xFFFE, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFF0, 0xFFFFFFFF))
    if vr in (b"OB", b"OW", b"UN", b"SQ", b"UT", b"UC", b"UR", b"OF", b"OD", b"OL"):
        data[at + 8:at + 12] = struct.pack("<I", new & 0xFFFFFFFF)
    elif vr.isalpha() and vr.isupper():
        data[at + 6:at + 8] = struct.pack("<H", new & 0xFFFF)
    else:  # implicit VR: a 4-byte length after the tag
        data[at + 4:at + 8] = struct.pack("<I", new & 0xFFFFFFFF)
    entry[1] = bytes(data)
    return f"{entry[0]}: {keyword} length → {new:#x}"


def m_mix(rng: random.Random, files: Files, seeds: tuple[Seed, ...]) -> str:
    other = rng.choice(seeds)
    taken = [[f"mix-{n}", d] for n, d in other.files[: rng.randint(1, len(other.files))]]
    joined = rng.random() < 0.5
    if joined:
        base = _parse(files[0][1])
        uid = str(base.get("SeriesInstanceUID", "")) if base is not None else ""
        for entry in taken:
            ds = _parse(entry[1])
            if ds is not None and uid:
                put(ds, "SeriesInstanceUID", "UI", (uid + "\0" * (len(uid) % 2)).encode())
                entry[1] = _encode(ds) or entry[1]
    files.extend(taken)
    return f"{len(taken)} file(s) of {other.name}" + (" under this series UID" if joined else "")


def m_extra(rng: random.Random, files: Files, seeds: Any) -> str:
    mode = rng.choice(("empty", "text", "random", "dicm-only", "duplicate"))
    content = {"empty": b"", "text": b"not a dicom file\n",
               "random": bytes(rng.randrange(256) for _ in range(300)),
               "dicm-only": b"\0" * 128 + b"DICM",
               "duplicate": rng.choice(files)[1]}[mode]
    files.append([f"extra-{mode}", content])
    return mode


KINDS: dict[str, tuple[float, Callable[..., str]]] = {
    "header": (30, m_header), "enhanced": (6, m_enhanced), "geometry": (8, m_geometry),
    "text": (6, m_text), "name": (2, m_name), "syntax": (7, m_syntax), "pixels": (7, m_pixels),
    "truncate": (6, m_truncate), "bitflip": (7, m_bitflip), "garbage": (4, m_garbage),
    "length": (5, m_length), "mix": (6, m_mix), "extra": (3, m_extra),
}
