"""Atomic writes: a reader sees the old file (or folder) or the new one,
never a half-written one, and a failed write leaves nothing behind. Files
(`temp_path_for`, `write_text`, `write_bytes`) and folders (`replace_dir`)
are flushed to disk before the rename, so a machine that loses power does
not leave a renamed but empty file either."""

import contextlib
import os
import pathlib
import shutil
import stat
import tempfile
import uuid

__all__ = [
    "check_can_create",
    "made_dirs",
    "replace_dir",
    "temp_dir",
    "temp_path_for",
    "write_bytes",
    "write_text",
]


def check_can_create(path, what):
    """Before a long job writes `path` (a file or folder, made with its
    missing parent folders): `NotADirectoryError` if the nearest existing
    ancestor is a file, `PermissionError` if no file can be made in it,
    each message starting with `what`. It tries, with an unnamed temporary
    file (nothing is left behind): `os.access` says yes to root even on a
    read-only or virtual file system. Returns that nearest existing folder.

    Example:
    >>> check_can_create("/sys/run", "output_dir=/sys/run")  # doctest: +SKIP
    Traceback (most recent call last):
    ...
    PermissionError: output_dir=/sys/run: cannot write in /sys (Permission denied).
    """
    missing = _missing_dirs(path)
    folder = _absolute(os.path.dirname(missing[-1]) if missing else path)
    if not os.path.isdir(folder):
        raise NotADirectoryError(f"{what}: {folder} is a file, not a folder.")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise PermissionError(
            f"{what}: cannot write in {folder} ({e.strerror or e})."
        ) from None
    return folder


@contextlib.contextmanager
def made_dirs(path):
    """Makes the folder `path` with its missing parents
    (`os.makedirs(path, exist_ok=True)`); if the block raises, removes
    the folders it made again, deepest first, stopping at one that is no
    longer empty, and re-raises.

    Example:
    >>> with made_dirs("out/serving"):  # doctest: +SKIP
    ...     write_the_export_into("out/serving")
    """
    created = _missing_dirs(path)
    os.makedirs(path, exist_ok=True)
    try:
        yield
    except BaseException:
        for folder in created:
            try:
                os.rmdir(folder)
            except OSError:
                break
        raise


def _absolute(path):
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


def _missing_dirs(path):
    """The folders `os.makedirs(path)` would create, deepest first, as
    absolute paths (a broken symbolic link counts as existing). The path is
    walked as written, as `os.makedirs` walks it: "a/new/../b" makes a,
    a/new and a/b.
    """
    missing, name = [], os.path.expanduser(os.fspath(path))
    while name and not os.path.lexists(name):
        head, tail = os.path.split(name)
        if not tail:  # "a/b/": its folder is "a/b"
            head, tail = os.path.split(head)
        if tail not in (os.curdir, os.pardir):
            missing.append(os.path.join(os.getcwd(), name))
        if head == name:
            break
        name = head
    return missing


@contextlib.contextmanager
def temp_path_for(path, suffix=""):
    """Yields a temporary path beside `path`; renamed onto `path` when the
    block succeeds, deleted when it raises.

    `suffix` is the temporary name's ending, for writers that choose the
    format from it (`np.save` appends `.npy` otherwise). A missing folder
    is `FileNotFoundError` (`NotADirectoryError` for a file) naming `path`,
    not the temporary name.

    Example:
    >>> with temp_path_for("log.json") as tmp:  # doctest: +SKIP
    ...     tmp.write_text("{}")
    """
    path = pathlib.Path(path)
    if not path.parent.is_dir():
        error = (
            NotADirectoryError if path.parent.exists() else FileNotFoundError
        )
        raise error(
            f"Cannot write {path}: folder {path.parent} does not exist; "
            "create it first or choose another path."
        )
    # A unique name, not created here: the writer creates the file, so it
    # gets the usual permissions (mkstemp's would be 0600).
    tmp = path.with_name(
        f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}{suffix}"
    )
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync(path.parent)


def _fsync(path):
    """Flushes a file's data to disk (a folder's entries too, where the
    system allows it: not on Windows, nor on some network file systems)."""
    if os.path.isdir(path):
        with contextlib.suppress(OSError):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        return
    # Opened for writing: Windows flushes only a handle that may write. A
    # file without write access goes through a read handle, which Linux
    # and macOS flush and Windows refuses (best effort there).
    try:
        fd, best_effort = os.open(path, os.O_RDWR), False
    except PermissionError:
        fd, best_effort = os.open(path, os.O_RDONLY), True
    try:
        os.fsync(fd)
    except OSError:
        if not best_effort:
            raise
    finally:
        os.close(fd)


def write_text(path, text):
    """Writes `text` to `path` atomically (its folder must exist, unlike
    `write_bytes`)."""
    with temp_path_for(path) as tmp:
        tmp.write_text(text)


def write_bytes(path, data):
    """Writes `data` to `path` atomically, creating its folder."""
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    with temp_path_for(path) as tmp:
        tmp.write_bytes(data)


def temp_dir(parent, prefix):
    """A new empty folder in `parent`, its name `prefix` and a random
    suffix, with the usual permissions (those the umask gives, as for
    any new folder; `tempfile.mkdtemp`'s are 0700, which a preset or a
    SavedModel moved into place would keep, unreadable to other users,
    e.g. a model server's).

    Example:
    >>> tmp = temp_dir("runs", ".tmp-")  # doctest: +SKIP
    """
    while True:
        path = pathlib.Path(parent) / f"{prefix}{uuid.uuid4().hex[:12]}"
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue


def replace_dir(tmp, target, overwrite=True):
    """Moves the finished folder `tmp` to `target`.

    An existing `target`, folder or file, is replaced (or `FileExistsError`
    if not `overwrite`) by two renames, so `target` is briefly absent but
    never half-written; if the second rename fails, the old entry comes
    back. The regular files and folders of `tmp` are flushed to disk first
    (an unreadable or missing `tmp` raises before `target` is touched).
    """
    tmp, target = pathlib.Path(tmp), pathlib.Path(target)
    _fsync_tree(tmp)
    # Checked after the flush, which can take seconds: a `target` that
    # appeared meanwhile is refused, not replaced.
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists.")
    if not target.exists():
        os.rename(tmp, target)
        _fsync(target.parent)
        return
    old = temp_dir(target.parent, f".{target.name}.old-")
    old.rmdir()  # a free name beside target, for target to be renamed to
    os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(old, target)
        raise
    _fsync(target.parent)
    _remove(old)


def _fsync_tree(folder):
    """`_fsync` of every regular file under `folder` (not symlinks, pipes
    or sockets) and of every folder; a folder that cannot be listed, or a
    missing `folder`, raises `OSError`."""
    if not os.path.isdir(folder):
        exists = os.path.exists(folder)
        error = NotADirectoryError if exists else FileNotFoundError
        raise error(f"{folder}: no such folder to move into place.")

    def fail(error):
        raise error

    for root, _dirs, files in os.walk(folder, onerror=fail):
        for name in files:
            path = os.path.join(root, name)
            if stat.S_ISREG(os.lstat(path).st_mode):
                _fsync(path)
        _fsync(root)


def _remove(path):
    """Deletes a folder or a file (or symlink), best effort: the new entry
    is in place already."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()
