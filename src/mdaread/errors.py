"""The error hierarchy. Every error meant for the user carries a one-line message that names the
file (or record) and the problem; the command line prints it and exits with status 2."""


class MdareadError(Exception):
    """Base class of every error mdaread raises on purpose."""


class InputError(MdareadError):
    """Bad input from the user: a wrong path, a malformed file, an unknown option value."""


class DicomError(InputError):
    """A DICOM file or series that cannot be read or turned into a correct volume."""


class GeometryError(DicomError):
    """A series whose slice geometry would give a wrong volume (and is refused)."""


class CriteriaInputError(InputError):
    """Observations the criteria engine cannot evaluate (names subject, timepoint and key)."""


class WorkspaceError(MdareadError):
    """A trial workspace that cannot be opened or changed (not a workspace, newer schema, busy)."""


class RegistrationError(MdareadError):
    """A registration that could not run or did not converge; the unregistered mapping is kept."""


class Cancelled(MdareadError):
    """A long job stopped because its cancel callable returned True."""


class SegmentationError(InputError):
    """A seed that gives no lesion: off the image, in air or cement, no lesion-like boundary."""


class PacsError(MdareadError):
    """A PACS that cannot be reached, refuses us, or lacks what was asked (names the server)."""
