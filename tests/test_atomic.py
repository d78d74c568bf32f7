"""Atomic writes: the old content or the new, never half of one."""

import errno
import os
import pathlib
import tempfile

import pytest

from ganzoo import _atomic


def test_write_text_replaces_and_leaves_no_temp(tmp_path):
    path = tmp_path / "a.json"
    path.write_text("old")
    _atomic.write_text(path, "new")
    assert path.read_text() == "new"
    assert os.listdir(tmp_path) == ["a.json"]


def test_failed_write_keeps_the_old_file_and_no_temp(tmp_path):
    path = tmp_path / "a.json"
    path.write_text("old")
    with (
        pytest.raises(RuntimeError, match="disk full"),
        _atomic.temp_path_for(path) as tmp,
    ):
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["a.json"]


def test_written_file_gets_the_usual_permissions(tmp_path):
    reference = tmp_path / "plain"
    reference.write_text("x")
    _atomic.write_text(tmp_path / "atomic", "x")
    mode = (tmp_path / "atomic").stat().st_mode
    assert mode == reference.stat().st_mode


def test_temp_path_keeps_the_suffix_writers_need(tmp_path):
    with _atomic.temp_path_for(tmp_path / "x.npy", suffix=".npy") as tmp:
        assert tmp.name.endswith(".npy") and tmp.parent == tmp_path
        tmp.write_bytes(b"1")
    assert (tmp_path / "x.npy").read_bytes() == b"1"


def _folder(path, text):
    path.mkdir()
    (path / "f").write_text(text)
    return path


def test_replace_dir_swaps_folders(tmp_path):
    target = _folder(tmp_path / "preset", "old")
    _atomic.replace_dir(_folder(tmp_path / "tmp", "new"), target)
    assert (target / "f").read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["preset"]


def test_replace_dir_flushes_every_file_before_the_swap(tmp_path, monkeypatch):
    target = _folder(tmp_path / "preset", "old")
    tmp = _folder(tmp_path / "tmp", "new")
    (tmp / "sub").mkdir()
    (tmp / "sub" / "g").write_text("deep")
    flushed = []  # (path, what target/f held then)
    real_fsync = _atomic._fsync

    def spy(path):
        flushed.append((pathlib.Path(path), (target / "f").read_text()))
        real_fsync(path)

    monkeypatch.setattr(_atomic, "_fsync", spy)
    _atomic.replace_dir(tmp, target)
    before_swap = {path for path, held in flushed if held == "old"}
    assert before_swap == {tmp / "f", tmp / "sub" / "g", tmp / "sub", tmp}
    assert flushed[-1] == (tmp_path, "new")  # the renames, once done


def test_replace_dir_without_overwrite_refuses(tmp_path):
    target = _folder(tmp_path / "preset", "old")
    tmp = _folder(tmp_path / "tmp", "new")
    with pytest.raises(FileExistsError, match="preset exists"):
        _atomic.replace_dir(tmp, target, overwrite=False)
    assert (target / "f").read_text() == "old"


def test_replace_dir_restores_the_old_folder_if_the_move_fails(
    tmp_path, monkeypatch
):
    target = _folder(tmp_path / "preset", "old")
    tmp = _folder(tmp_path / "tmp", "new")
    real_rename = os.rename

    def rename(src, dst):
        if pathlib.Path(src) == tmp:
            raise OSError(28, "No space left on device")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OSError, match="No space"):
        _atomic.replace_dir(tmp, target)
    assert (target / "f").read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["preset", "tmp"]


def test_replace_dir_of_a_missing_folder_leaves_the_target(tmp_path):
    target = _folder(tmp_path / "preset", "old")
    with pytest.raises(FileNotFoundError, match="never-written"):
        _atomic.replace_dir(tmp_path / "never-written", target)
    assert (target / "f").read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["preset"]


def test_replace_dir_refuses_a_target_that_appeared_while_flushing(
    tmp_path, monkeypatch
):
    target = tmp_path / "export"
    tmp = _folder(tmp_path / "tmp", "new")
    real_fsync_tree = _atomic._fsync_tree

    def another_writer_finishes_meanwhile(folder):
        real_fsync_tree(folder)
        _folder(target, "theirs")

    monkeypatch.setattr(
        _atomic, "_fsync_tree", another_writer_finishes_meanwhile
    )
    with pytest.raises(FileExistsError, match="export exists"):
        _atomic.replace_dir(tmp, target, overwrite=False)
    assert (target / "f").read_text() == "theirs"


def test_replace_dir_flushes_a_file_it_may_not_write(tmp_path, monkeypatch):
    # As for a 0444 file of another user (root may write anything, so the
    # refusal is simulated); Windows then refuses to flush the read handle.
    target = _folder(tmp_path / "preset", "old")
    tmp = _folder(tmp_path / "tmp", "new")
    real_open, opened, read_only = os.open, [], set()

    def no_write_access(path, flags, *args):
        if pathlib.Path(path).is_file():
            opened.append((pathlib.Path(path), flags & os.O_ACCMODE))
            if flags & os.O_ACCMODE == os.O_RDWR:
                raise PermissionError(13, "Permission denied", path)
        fd = real_open(path, flags, *args)
        if pathlib.Path(path).is_file():
            read_only.add(fd)
        return fd

    def fsync(fd):
        if fd in read_only:
            raise OSError(9, "Bad file descriptor")

    monkeypatch.setattr(os, "open", no_write_access)
    monkeypatch.setattr(os, "fsync", fsync)
    _atomic.replace_dir(tmp, target)
    assert (target / "f").read_text() == "new"
    assert opened == [(tmp / "f", os.O_RDWR), (tmp / "f", os.O_RDONLY)]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_replace_dir_moves_but_does_not_flush_a_pipe(tmp_path):
    target = _folder(tmp_path / "preset", "old")
    tmp = _folder(tmp_path / "tmp", "new")
    os.mkfifo(tmp / "pipe")  # fsync of a pipe raises EINVAL
    _atomic.replace_dir(tmp, target)
    assert sorted(os.listdir(target)) == ["f", "pipe"]


def test_temp_dir_has_the_usual_permissions(tmp_path, umask_022):
    first = _atomic.temp_dir(tmp_path, ".tmp-")
    second = _atomic.temp_dir(tmp_path, ".tmp-")
    assert first != second and first.name.startswith(".tmp-")
    assert sorted(os.listdir(tmp_path)) == sorted([first.name, second.name])
    assert os.stat(first).st_mode & 0o777 == 0o755  # mkdtemp's: 0o700


def test_check_can_create_returns_the_nearest_folder_and_leaves_nothing(
    tmp_path,
):
    found = _atomic.check_can_create(tmp_path / "a" / "b", "output_dir=a/b")
    assert found == str(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_check_can_create_names_a_file_in_the_way(tmp_path):
    (tmp_path / "grid.png").write_text("x")
    with pytest.raises(
        NotADirectoryError,
        match=f"output_dir=x: {tmp_path / 'grid.png'} is a file, not a folder",
    ):
        _atomic.check_can_create(tmp_path / "grid.png" / "sub", "output_dir=x")


def test_check_can_create_tries_a_write(tmp_path, monkeypatch):
    """`os.access` says yes to root on a read-only file system: the check
    creates a file, so it sees what the later write would."""

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    assert os.access(tmp_path, os.W_OK)
    with pytest.raises(
        PermissionError,
        match=rf"--out=x.png: cannot write in {tmp_path} \(Read-only file",
    ):
        _atomic.check_can_create(tmp_path / "x.png", "--out=x.png")


def test_made_dirs_removes_what_it_made_when_the_block_fails(tmp_path):
    (tmp_path / "kept").mkdir()
    target = tmp_path / "kept" / "a" / "b"
    failing = pytest.raises(RuntimeError, match="export failed")
    with failing, _atomic.made_dirs(target):
        assert target.is_dir()
        raise RuntimeError("export failed")
    assert list(tmp_path.iterdir()) == [tmp_path / "kept"]
    assert list((tmp_path / "kept").iterdir()) == []


def test_made_dirs_keeps_a_folder_that_gained_files(tmp_path):
    target = tmp_path / "a" / "b"
    with pytest.raises(RuntimeError), _atomic.made_dirs(target):
        (tmp_path / "a" / "other.txt").write_text("someone else's")
        raise RuntimeError
    assert not target.exists()  # empty: removed
    assert (tmp_path / "a" / "other.txt").exists()  # not empty: kept


def test_made_dirs_keeps_its_folders_on_success(tmp_path):
    with _atomic.made_dirs(tmp_path / "a" / "b"):
        pass
    assert (tmp_path / "a" / "b").is_dir()


def test_made_dirs_removes_a_folder_made_on_the_way_through_dotdot(tmp_path):
    # os.makedirs("kept/new/../out") makes kept/new as well as kept/out.
    (tmp_path / "kept").mkdir()
    target = tmp_path / "kept" / "new" / ".." / "out"
    with pytest.raises(RuntimeError), _atomic.made_dirs(target):
        assert (tmp_path / "kept" / "new").is_dir()
        assert (tmp_path / "kept" / "out").is_dir()
        raise RuntimeError
    assert list((tmp_path / "kept").iterdir()) == []


def test_check_can_create_names_the_nearest_folder_without_dotdot(tmp_path):
    target = tmp_path / "a" / ".." / "b" / "x.png"
    assert _atomic.check_can_create(target, "--out") == str(tmp_path)
