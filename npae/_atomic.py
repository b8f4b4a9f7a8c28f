"""Atomic file writing: a crash or a kill mid-write leaves the old file (or none), never half.

The bytes go to a temporary file in the target's folder, are flushed to disk, and the file
is renamed over the target (``os.replace`` is atomic); then the folder itself is synced so
the rename survives a power cut. Temporaries of writers that were killed are removed by
the next write to the same path.
"""
import contextlib
import glob
import os
import tempfile

TEMPORARY_SUFFIX = ".npae-tmp"


def atomic_write(path, write):
    """Call ``write(file)`` on a temporary binary file, then rename it to ``path``."""
    path = os.fspath(path)
    folder, base = os.path.split(os.path.abspath(path))
    _remove_orphans(folder, base)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{base}.{os.getpid()}-",
                                         suffix=TEMPORARY_SUFFIX)
    try:
        with os.fdopen(handle, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)   # atomic: readers see the old file or the new one
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    _sync_folder(folder)
    return path


def _sync_folder(folder):
    """Flush the rename itself to disk (POSIX); without it a power cut may undo it."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):   # some file systems cannot sync a directory;
            os.fsync(fd)                     # the rename has happened all the same
    finally:
        os.close(fd)


def _remove_orphans(folder, base):
    """Delete temporary files of ``base`` left by a save whose process was killed (POSIX:
    the process id in the name no longer runs). A running save's file is left alone."""
    if os.name != "posix":
        return
    for leftover in glob.glob(os.path.join(glob.escape(folder), f".{glob.escape(base)}.*"
                                           + TEMPORARY_SUFFIX)):
        pid = os.path.basename(leftover)[len(base) + 2:].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)          # signal 0: only asks whether the process exists
        except ProcessLookupError:        # its writer is dead: the file is an orphan
            with contextlib.suppress(FileNotFoundError):   # another save removed it first
                os.unlink(leftover)
        except OSError:                   # e.g. EPERM: the process exists, leave its file
            continue
