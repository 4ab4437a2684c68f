"""Reading stored pixel values of ordered frames into one [k, j, i] array (no rescale here).

Native little-endian files (implicit/explicit VR LE) are read straight from the Pixel Data
offset found by the header scan into a preallocated array (no pydicom parse, no copy); every
other transfer syntax (JPEG baseline/extended/lossless, JPEG-LS, JPEG 2000, RLE, deflate, big
endian) is decoded by pydicom with the pylibjpeg / pyjpegls plugins. Files are read by a small
thread pool: file reads and the C decoders release the GIL.
"""

from __future__ import annotations

import functools
import io
import os
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pydicom

from mdaread.errors import DicomError
from mdaread.io.headers import PIXEL_DATA_TAGS, FrameInfo
from mdaread.model.jobs import Cancel, Progress, check_cancel

RLE_LOSSLESS = "1.2.840.10008.1.2.5"
JPEG_LS = {"1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"}  # lossless, near-lossless
THREADS = min(8, (os.cpu_count() or 2) * 2)
# JPEG (10918), JPEG-LS and JPEG 2000 / HTJ2K code streams end with the marker FF D9 (EOI / EOC)
JPEG_FAMILY_PREFIX = "1.2.840.10008.1.2.4."
END_MARKER = b"\xff\xd9"
END_SLACK = 16  # bytes after the marker that encoders pad fragments with (00 or FF)


def stored_dtype(frame: FrameInfo) -> np.dtype:
    """numpy dtype of the stored values (BitsAllocated, PixelRepresentation)."""
    signed = frame.pixel_representation == 1
    kinds = {8: (np.uint8, np.int8), 16: (np.uint16, np.int16), 32: (np.uint32, np.int32)}
    if frame.bits_allocated not in kinds:
        raise DicomError(f"{frame.path}: unsupported BitsAllocated {frame.bits_allocated}")
    return np.dtype(kinds[frame.bits_allocated][int(signed)])


def read_stored(
    frames: list[FrameInfo], progress: Progress, cancel: Cancel
) -> npt.NDArray[np.generic]:
    """Stored values of ``frames`` (already ordered) as an array [k, j, i]."""
    first = frames[0]
    dtype = stored_dtype(first)
    out = np.empty((len(frames), first.rows, first.columns), dtype=dtype)
    by_file: dict[Path, list[tuple[int, FrameInfo]]] = defaultdict(list)
    for k, frame in enumerate(frames):
        by_file[frame.path].append((k, frame))
    jobs = list(by_file.items())
    done = 0

    def work(job: tuple[Path, list[tuple[int, FrameInfo]]]) -> None:
        check_cancel(cancel)
        path, members = job
        if all(f.pixel_offset >= 0 for _, f in members):
            _read_native(path, members, out)
        else:
            _read_decoded(path, members, out)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for _ in pool.map(work, jobs):
            done += 1
            if done % 32 == 0 or done == len(jobs):
                progress(0.9 * done / len(jobs), f"read {done} of {len(jobs)} files")
    _fix_sign(out, first)
    return out


def _fix_sign(out: npt.NDArray[np.generic], frame: FrameInfo) -> None:
    """Sign-extend signed values stored in fewer bits than allocated (as pydicom does)."""
    bits = frame.bits_stored
    if frame.pixel_representation != 1 or bits >= frame.bits_allocated or bits <= 0:
        return
    shift = frame.bits_allocated - bits
    np.left_shift(out, shift, out=out)
    np.right_shift(out, shift, out=out)


def _element_start(fh: io.FileIO, path: Path, offset: int, syntax: str) -> int:
    """Byte offset of the first pixel value after the Pixel Data element header."""
    fh.seek(offset)
    head = fh.read(12) or b""
    tag = (int.from_bytes(head[0:2], "little"), int.from_bytes(head[2:4], "little"))
    if tag not in PIXEL_DATA_TAGS:
        raise DicomError(f"{path}: pixel data not found where the header scan saw it")
    explicit = syntax == "1.2.840.10008.1.2.1"
    return offset + (12 if explicit else 8)


def _read_native(path: Path, members: list[tuple[int, FrameInfo]], out: np.ndarray) -> None:
    first = members[0][1]
    frame_bytes = out[0].nbytes
    try:
        with open(path, "rb", buffering=0) as fh:
            start = _element_start(fh, path, first.pixel_offset, first.transfer_syntax)
            for k, frame in members:
                fh.seek(start + (frame.frame or 0) * frame_bytes)
                view = memoryview(out[k]).cast("B")
                if fh.readinto(view) != frame_bytes:
                    raise DicomError(f"{path}: truncated pixel data")
    except OSError as exc:
        raise DicomError(f"{path}: cannot read pixel data ({exc.strerror or exc})") from None
    if out.dtype.byteorder == ">":  # never on little-endian hosts; keeps the intent explicit
        raise DicomError(f"{path}: unexpected byte order")


@functools.lru_cache(maxsize=16)
def _plugin_for(syntax: str) -> str:
    """The pydicom decoding plugin to use for ``syntax`` ("" = pydicom's default choice).

    RLE: pydicom's own decoder is as fast here and raises on damaged data, where pylibjpeg-rle
    panics in Rust (printing a backtrace on stderr). JPEG-LS: pyjpegls (CharLS) decodes a 512²
    CT slice in ~6 ms where pydicom's default, pylibjpeg-libjpeg, takes ~20 ms."""
    if syntax == RLE_LOSSLESS:
        return "pydicom"
    if syntax in JPEG_LS:
        from pydicom.pixels import get_decoder

        try:
            available = get_decoder(syntax).available_plugins
        except Exception:  # no decoder at all: the scan has refused such files already
            return ""
        return "pyjpegls" if "pyjpegls" in available else ""
    return ""


def _check_complete(ds: pydicom.Dataset, syntax: str, n_frames: int) -> None:
    """DicomError-worthy ValueError when a JPEG-family frame lacks its end marker: the stream
    was cut. CharLS spends ~13 s on one cut 176² JPEG-LS frame before failing, and a JPEG
    decoder may return the part it got with the rest made up: neither is a volume to read."""
    if not syntax.startswith(JPEG_FAMILY_PREFIX):
        return
    from pydicom.encaps import generate_frames

    if "PixelData" not in ds:
        raise ValueError("the pixel data element is cut off")
    for number, frame in enumerate(generate_frames(ds.PixelData, number_of_frames=n_frames)):
        if END_MARKER not in frame[-END_SLACK:]:
            raise ValueError(f"frame {number + 1} is cut short (no end-of-image marker)")


def _read_decoded(path: Path, members: list[tuple[int, FrameInfo]], out: np.ndarray) -> None:
    try:
        ds = pydicom.dcmread(path)
        _check_complete(ds, members[0][1].transfer_syntax, max(members[0][1].n_frames, 1))
        plugin = _plugin_for(members[0][1].transfer_syntax)
        if plugin:
            ds.pixel_array_options(decoding_plugin=plugin)
        pixels = ds.pixel_array
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # decoders raise many types (the Rust RLE one even panics)
        syntax = members[0][1].transfer_syntax
        name = pydicom.uid.UID(syntax).name if syntax else "unknown syntax"
        # pydicom puts each plugin's reason on a line of its own after a colon: keep them all
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        detail = " ".join(lines)[:240] if lines else type(exc).__name__
        raise DicomError(f"{path}: cannot decode pixel data ({name}): {detail}") from None
    if pixels.ndim == 2:
        pixels = pixels[np.newaxis]
    for k, frame in members:
        index = frame.frame or 0
        if index >= pixels.shape[0] or pixels.shape[1:] != out.shape[1:]:
            raise DicomError(f"{path}: decoded pixel data has shape {pixels.shape}")
        out[k] = pixels[index]
