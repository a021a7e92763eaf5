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


class BatchError(MhpError):
    """Some items of a batch failed and every good one was done: one summary line, and ``failures`` (one line per
    bad item, naming it and why), which the CLI prints before the summary."""

    def __init__(self, total: int, kind: str, failures: list[str], where: str) -> None:
        super().__init__(
            f"{len(failures)} of {total} {kind} failed, the other {total - len(failures)} were written to {where}; "
            "--strict stops at the first failure"
        )
        self.failures = failures
