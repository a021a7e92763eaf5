"""The one exception type users see: a one-line message naming the thing and the fix."""


class MhpError(Exception):
    """A failure the user can fix; the CLI prints ``error: <message>`` and exits non-zero."""


class CheckpointError(MhpError):
    """A checkpoint file is missing, corrupt, or does not fit the requested model."""


class DiskFullError(MhpError):
    """A write ran out of space (disk, quota or file-size limit); the previous file is intact."""

    def __init__(self, message: str, error: OSError) -> None:
        super().__init__(message)
        self.error = error
