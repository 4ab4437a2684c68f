"""Window/level to uint8, presets and the right-drag gesture."""

from __future__ import annotations

import numpy as np
import pytest

from mdaread.geometry import PRESETS, Window, apply_window, drag_window, percentile_window
from mdaread.geometry.window import default_window


def test_window_maps_low_level_high() -> None:
    w = Window(400.0, 40.0)
    out = apply_window(np.array([-160.0, 40.0, 240.0, -5000.0, 5000.0]), w)
    assert out.dtype == np.uint8
    assert list(out) == [0, 128, 255, 0, 255]


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.uint8, np.int8])
def test_lookup_table_path_equals_float_path(dtype) -> None:
    info = np.iinfo(dtype)
    rng = np.random.default_rng(0)
    image = rng.integers(info.min, info.max, size=(64, 48), endpoint=True).astype(dtype)
    for w in (*PRESETS.values(), Window(7.0, -3.0)):
        expected = apply_window(image.astype(np.float64), w)
        assert np.array_equal(apply_window(image, w), expected)


def test_window_on_a_strided_view() -> None:
    volume = np.arange(5 * 6 * 7, dtype=np.int16).reshape(5, 6, 7)
    view = volume[:, ::-1, 3]
    assert np.array_equal(apply_window(view, Window(100, 50)),
                          apply_window(view.astype(float), Window(100, 50)))


def test_presets() -> None:
    assert PRESETS["bone"] == Window(2000, 500)
    assert PRESETS["soft tissue"] == Window(400, 40)
    assert PRESETS["cement"] == Window(4000, 1000)
    with pytest.raises(ValueError):
        Window(0, 10)


def test_percentile_window_spans_1_to_99() -> None:
    values = np.arange(10001, dtype=np.float32)  # 0 … 10000
    w = percentile_window(values)
    assert w.low == pytest.approx(100.0)
    assert w.high == pytest.approx(9900.0)
    assert default_window("CT", values) == PRESETS["bone"]
    assert default_window("MR", values) == w


def test_nan_is_black() -> None:
    assert apply_window(np.array([np.nan, 1e9]), Window(10, 0)).tolist() == [0, 255]


def test_drag_right_widens_and_up_raises_level() -> None:
    w = Window(400, 40)
    assert drag_window(w, 50, 0).width > w.width
    assert drag_window(w, -50, 0).width < w.width
    assert drag_window(w, 0, -20).level > w.level
    assert drag_window(w, 0, 0) == w
