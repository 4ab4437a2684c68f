"""MPR on real scanner series from ../shared/testdata: a sagittal spine-like MR and a strongly
oblique Hitachi MR. The pixels a view shows must be the voxels at the world positions it claims."""

from __future__ import annotations

import numpy as np
import pytest

from mdaread.geometry import PLANES, Mpr

pytestmark = pytest.mark.realdata

SERIES = {
    "sagittal": "dcm_qa_decubitus/In/HFS/3_t1_fl2d_sag",
    "oblique": "dicom2nifti/tests/data/hitachi/anatomical/001",
}


@pytest.fixture(scope="module", params=sorted(SERIES))
def loaded(request, testdata):
    from mdaread.io import load_path

    return request.param, Mpr(load_path(testdata / SERIES[request.param]))


def test_views_show_the_voxels_at_their_world_positions(loaded) -> None:
    _, mpr = loaded
    rng = np.random.default_rng(0)
    for plane in PLANES:
        g = mpr.geometry(plane)
        rows, cols = g.shape
        for s in {0, g.n_slices // 2, g.n_slices - 1}:
            image = mpr.image(plane, s)
            for r, c in zip(rng.integers(0, rows, 200), rng.integers(0, cols, 200), strict=True):
                assert mpr.value_at(g.to_world(c, r, s)) == image[r, c]


def test_native_sagittal_and_oblique_warning(loaded) -> None:
    name, mpr = loaded
    sagittal = mpr.geometry("sagittal")
    if name == "sagittal":
        assert sagittal.n_slices == mpr.volume.shape[0]  # the acquired slices are sagittal
        assert sagittal.labels == {"left": "A", "right": "P", "top": "S", "bottom": "I"}
        assert mpr.geometry("axial").warning == ""
        assert np.shares_memory(mpr.image("sagittal", 3), mpr.volume.array)
    else:
        assert sagittal.tilt_deg > 30
        assert "nearest native plane" in sagittal.warning
        assert all(len(label) >= 1 for label in mpr.geometry("axial").labels.values())
