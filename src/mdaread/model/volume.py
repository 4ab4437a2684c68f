"""Volume: a voxel array plus the affine that places it in the patient (LPS mm)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, eq=False)
class Volume:
    """A 3-D image on a regular grid.

    ``array`` is indexed ``[k, j, i]``: k = slice, j = row, i = column (numpy C order, the order
    in which DICOM stores frames). ``affine`` is 4×4 and maps a voxel index ``(i, j, k, 1)`` —
    column first — to patient coordinates in LPS millimetres (DICOM's patient frame: +x to the
    patient's left, +y posterior, +z superior). Values are in Hounsfield units for CT and in stored
    units after rescale for MR.
    """

    array: npt.NDArray[np.generic]
    affine: npt.NDArray[np.float64]
    modality: str = ""
    series_uid: str = ""
    frame_of_reference_uid: str = ""
    description: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.array.ndim != 3:
            raise ValueError(f"Volume array must be 3-D [k, j, i], got shape {self.array.shape}")
        affine = np.asarray(self.affine, dtype=np.float64)
        if affine.shape != (4, 4):
            raise ValueError(f"Volume affine must be 4x4, got {affine.shape}")
        object.__setattr__(self, "affine", affine)

    @property
    def shape(self) -> tuple[int, int, int]:
        """Array shape ``(k, j, i)``: slices, rows, columns."""
        k, j, i = self.array.shape
        return (int(k), int(j), int(i))

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size in mm along i (column), j (row) and k (slice): ITK's (x, y, z) order."""
        norms = np.linalg.norm(self.affine[:3, :3], axis=0)
        return (float(norms[0]), float(norms[1]), float(norms[2]))

    @property
    def origin(self) -> tuple[float, float, float]:
        """LPS mm position of the centre of voxel (i, j, k) = (0, 0, 0)."""
        return (float(self.affine[0, 3]), float(self.affine[1, 3]), float(self.affine[2, 3]))

    @property
    def direction(self) -> npt.NDArray[np.float64]:
        """3×3 matrix whose columns are the unit LPS directions of the i, j and k axes."""
        return self.affine[:3, :3] / np.asarray(self.spacing)

    def index_to_world(self, ijk: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Voxel indices ``(..., 3)`` in (i, j, k) order → LPS mm ``(..., 3)``."""
        points = np.asarray(ijk, dtype=np.float64)
        return points @ self.affine[:3, :3].T + self.affine[:3, 3]

    def world_to_index(self, xyz: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """LPS mm ``(..., 3)`` → continuous voxel indices ``(..., 3)`` in (i, j, k) order."""
        points = np.asarray(xyz, dtype=np.float64)
        inverse = np.linalg.inv(self.affine)
        return points @ inverse[:3, :3].T + inverse[:3, 3]

    def center_world(self) -> npt.NDArray[np.float64]:
        """LPS mm position of the centre of the grid."""
        k, j, i = self.shape
        return self.index_to_world([(i - 1) / 2.0, (j - 1) / 2.0, (k - 1) / 2.0])
