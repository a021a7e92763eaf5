"""The one exception type users see: a one-line message naming the thing and the fix."""


class MhpError(Exception):
    """A failure the user can fix; the CLI prints ``error: <message>`` and exits non-zero."""


class CheckpointError(MhpError):
    """A checkpoint file is missing, corrupt, or does not fit the requested model."""
