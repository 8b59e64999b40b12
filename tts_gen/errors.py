"""Errors that mean bad input or a missing prerequisite, which the command line reports as one line."""


class TTSGenError(Exception):
    """Base class of tts_gen's own user-facing errors; the message says what to do."""


class MissingProgramError(TTSGenError):
    """An external program (such as flite) is not installed."""


class Terminated(KeyboardInterrupt):
    """The process was asked to stop (SIGTERM); handled like Ctrl-C, so that training saves a checkpoint first."""


USER_ERRORS = (
    TTSGenError,
    ValueError,
    FileNotFoundError,
    NotADirectoryError,
    IsADirectoryError,
    FileExistsError,
    PermissionError,
)
