"""Extract user ZIPs without trusting them: no path traversal, absolute paths, symlinks or decompression bombs.

Header sizes are checked first (cheap refusal of an honest bomb), then every entry is extracted as a stream
and the bytes actually written are counted, so a ZIP that lies in its headers is stopped as soon as it
crosses a limit. Besides the 8 GiB cap, the whole archive may expand only to a multiple of its own size
(:func:`medgan.data.budget.archive_budget`), so a few MB of zero-filled entries cannot fill the disk. A refused
ZIP leaves nothing behind in ``dest``.

An entry that cannot exist on this file system (a name over 255 bytes, a file ``x`` beside a folder ``x/``)
is skipped, not fatal: it is listed in :data:`SKIPPED_ENTRIES` in the extracted folder, which the import
turns into rows of its report (:func:`skipped_entries`).
"""

from __future__ import annotations

import csv
import errno
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from medgan.data.budget import archive_budget
from medgan.data.frames import SkippedFile

MAX_TOTAL_BYTES = 8 * 1024**3  # uncompressed size of the whole archive
MAX_FILES = 200_000  # entries in the archive
MAX_RATIO = 200  # uncompressed / compressed size of one entry (checked for entries above RATIO_MIN_BYTES)
RATIO_MIN_BYTES = 1024**2  # smaller entries cannot make a bomb on their own
_CHUNK = 1024**2
NAME_MAX_BYTES = 255  # one path component (Linux, macOS, Windows)
SKIPPED_ENTRIES = ".medgan-skipped-entries.csv"  # hidden, so the import does not read it as an image
_ENTRY_ERRNOS = {
    errno.ENAMETOOLONG,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.EEXIST,
    errno.EINVAL,
    errno.EILSEQ,
    errno.ELOOP,
}


class UnsafeZip(ValueError):
    """A ZIP that was refused; the message names the archive and the entry."""


def _entry_path(zip_name: str, info: zipfile.ZipInfo) -> PurePosixPath:
    """The entry's relative path, refusing absolute paths, drive letters, ``..`` and symlinks."""
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UnsafeZip(f"{zip_name}: entry {info.filename!r} has an absolute path; refused")
    parts = PurePosixPath(name).parts
    if ".." in parts:
        raise UnsafeZip(f"{zip_name}: entry {info.filename!r} points outside the archive (..); refused")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UnsafeZip(f"{zip_name}: entry {info.filename!r} is a symbolic link; refused")
    if info.flag_bits & 0x1:
        raise UnsafeZip(f"{zip_name}: entry {info.filename!r} is encrypted; unpack it yourself first")
    return PurePosixPath(*[p for p in parts if p not in ("", ".")])


def _check_headers(
    zip_name: str, infos: list[zipfile.ZipInfo], max_total: int, max_files: int, max_ratio: float
) -> None:
    if len(infos) > max_files:
        raise UnsafeZip(f"{zip_name}: {len(infos)} entries, more than the limit of {max_files}; refused")
    total = sum(i.file_size for i in infos)
    if total > max_total:
        raise UnsafeZip(
            f"{zip_name}: {total / 1024**2:,.1f} MiB uncompressed, more than the limit of "
            f"{max_total / 1024**2:,.1f} MiB for an archive of this size (at most "
            f"{MAX_TOTAL_BYTES / 1024**3:.0f} GiB, MEDGAN_ARCHIVE_RATIO x its size otherwise); refused"
        )
    for info in infos:
        if info.file_size > RATIO_MIN_BYTES and info.file_size > max_ratio * max(info.compress_size, 1):
            raise UnsafeZip(
                f"{zip_name}: entry {info.filename!r} expands {info.file_size / max(info.compress_size, 1):.0f}x "
                f"(limit {max_ratio:.0f}x), a likely ZIP bomb; refused"
            )


def _copy_entry(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int, max_ratio: float, zip_name: str
) -> int:
    """Stream one entry to ``target``; returns bytes written; stops at the first byte over any limit."""
    written = 0
    with zf.open(info) as src, open(target, "wb") as dst:
        while chunk := src.read(_CHUNK):
            written += len(chunk)
            if written > budget:
                raise UnsafeZip(
                    f"{zip_name}: entry {info.filename!r} pushes the archive past its size limit; refused"
                )
            if written > RATIO_MIN_BYTES and written > max_ratio * max(info.compress_size, 1):
                raise UnsafeZip(
                    f"{zip_name}: entry {info.filename!r} expands past {max_ratio:.0f}x its compressed "
                    "size, a likely ZIP bomb; refused"
                )
            dst.write(chunk)
    return written


def _single_top_folder(paths: list[PurePosixPath]) -> str | None:
    """The one top-level folder every file sits in (``data/benign/x.png`` -> ``data``), if there is one."""
    kept = [p for p in paths if p.parts[0] != "__MACOSX"]
    tops = {p.parts[0] for p in kept}
    return tops.pop() if len(tops) == 1 and all(len(p.parts) > 1 for p in kept) else None


def safe_extract(
    zip_path: str | Path,
    dest: str | Path,
    *,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_files: int = MAX_FILES,
    max_ratio: float = MAX_RATIO,
) -> Path:
    """Extract ``zip_path`` into ``dest`` and return the folder to ingest.

    That folder is ``dest`` itself, or the single top-level folder of the archive when everything sits in
    one (so ``labels='folders'`` sees the class folders). Raises :class:`UnsafeZip` (a ``ValueError``)
    naming the archive and the entry on path traversal, absolute paths, symlinks, encryption, or when the
    total size, the entry count or one entry's compression ratio exceeds its limit.
    """
    zip_path, dest = Path(zip_path), Path(dest)
    zip_name = zip_path.name
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeZip(f"{zip_name}: not a readable ZIP archive ({exc})") from exc
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    created: list[Path] = []
    try:
        with zf:
            infos = zf.infolist()
            paths = [_entry_path(zip_name, info) for info in infos]
            allowed = archive_budget(zip_path.stat().st_size, max_total_bytes)
            _check_headers(zip_name, infos, allowed, max_files, max_ratio)
            budget, skipped = allowed, []
            for info, rel in zip(infos, paths, strict=True):
                if not rel.parts:
                    continue
                try:
                    budget -= _extract_entry(zf, info, rel, root, budget, max_ratio, zip_name, created)
                except OSError as exc:
                    if exc.errno not in _ENTRY_ERRNOS:
                        raise  # disk full, permissions: the whole extraction fails, nothing is left
                    skipped.append(_entry_skip(zip_name, info, exc))
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError) as exc:
        _remove(created, root)
        raise UnsafeZip(f"{zip_name}: cannot extract ({type(exc).__name__}: {exc})") from exc
    except BaseException:
        _remove(created, root)
        raise
    top = _single_top_folder([p for p, i in zip(paths, infos, strict=True) if p.parts and not i.is_dir()])
    folder = root / top if top and (root / top).is_dir() else root
    if skipped:
        _write_skipped(folder / SKIPPED_ENTRIES, skipped)
    return folder


def _extract_entry(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    rel: PurePosixPath,
    root: Path,
    budget: int,
    max_ratio: float,
    zip_name: str,
    created: list[Path],
) -> int:
    """Write one entry under ``root``; returns its bytes. OSError for a name this file system cannot hold."""
    for part in rel.parts:
        if len(part.encode("utf-8", "surrogateescape")) > NAME_MAX_BYTES:
            raise OSError(errno.ENAMETOOLONG, f"a name in the path is over {NAME_MAX_BYTES} bytes")
    target = root.joinpath(*rel.parts)
    if root not in target.resolve().parents:
        raise UnsafeZip(f"{zip_name}: entry {info.filename!r} resolves outside the target folder; refused")
    if info.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir():
        raise OSError(errno.EISDIR, "a folder of that name is also in the archive")
    created.append(target)
    return _copy_entry(zf, info, target, budget, max_ratio, zip_name)


def _entry_skip(zip_name: str, info: zipfile.ZipInfo, exc: OSError) -> SkippedFile:
    name = info.filename if len(info.filename) <= 80 else info.filename[:60] + "..." + info.filename[-17:]
    why = {
        errno.ENAMETOOLONG: f"name too long for the file system (a part over {NAME_MAX_BYTES} bytes)",
        errno.ENOTDIR: "a file of the same name as its folder is also in the archive",
        errno.EEXIST: "a file of the same name as its folder is also in the archive",
        errno.EISDIR: "a folder of that name is also in the archive",
    }.get(exc.errno, "name not allowed here")
    return SkippedFile(f"{zip_name}: {name}", f"entry skipped: {why}")


def _write_skipped(path: Path, skipped: list[SkippedFile]) -> None:
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["file", "reason"])
        out.writerows([(s.file, s.reason) for s in skipped])


def skipped_entries(folder: Path) -> list[SkippedFile]:
    """Entries :func:`safe_extract` skipped when it extracted into ``folder`` (empty for other folders)."""
    path = Path(folder) / SKIPPED_ENTRIES
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return [SkippedFile(row["file"], row["reason"]) for row in csv.DictReader(fh)]


def _remove(created: list[Path], root: Path) -> None:
    """Undo a partial extraction: the files written and the folders made under ``root``."""
    for path in created:
        path.unlink(missing_ok=True)
    for folder in sorted(
        (p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True
    ):
        if not any(folder.iterdir()):
            shutil.rmtree(folder, ignore_errors=True)
