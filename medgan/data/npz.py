"""MedMNIST-style ``.npz`` files: ``{train,val,test}_images`` with ``*_labels`` (or plain ``images``/``labels``).

Images are streamed row by row from the archive, so a large file never sits in memory. MedMNIST's own
train/val/test split is kept (``Frame.split``); every image is its own patient, since MedMNIST files carry
no patient ids. Labels become class names when the file is a known MedMNIST set, else ``str(int)``.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from medgan.data import budget
from medgan.data.frames import Frame, UnreadableFile
from medgan.data.imageops import scale_to_uint8
from medgan.data.medmnist import known_set
from medgan.data.readers import ReadOptions, register_reader
from medgan.data.zipsafe import MAX_TOTAL_BYTES

SPLIT_PREFIXES = {"train": "train", "val": "val", "test": "test"}


def _iter_rows(zf: zipfile.ZipFile, member: str) -> Iterator[np.ndarray]:
    """Yield the rows of the ``.npy`` ``member`` one at a time, reading the (possibly compressed) stream."""
    with zf.open(member) as fh:
        version = np.lib.format.read_magic(fh)
        read_header = (
            np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = read_header(fh)
        budget.check_npy_rows(shape, dtype, f"array {member}")
        if fortran or dtype.hasobject:
            raise UnreadableFile(f"array {member} is Fortran-ordered or holds Python objects; not supported")
        row_shape = shape[1:]
        row_bytes = int(np.prod(row_shape, dtype=np.int64)) * dtype.itemsize
        for _ in range(shape[0]):
            buf = fh.read(row_bytes)
            if len(buf) != row_bytes:
                raise UnreadableFile(f"array {member} is truncated")
            yield np.frombuffer(buf, dtype).reshape(row_shape)


def _pixels(row: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 1) or (H, W, 3) -> uint8 (H, W) or (3, H, W)."""
    if row.ndim == 3 and row.shape[-1] in (1, 3):
        row = row[..., 0] if row.shape[-1] == 1 else np.moveaxis(row, -1, 0)
    elif row.ndim != 2:
        raise UnreadableFile(f"images shaped {row.shape} are not 2D (3D MedMNIST volumes are not supported)")
    return np.ascontiguousarray(scale_to_uint8(row))


def _label_names(path: Path, labels: np.ndarray) -> list[str]:
    """Class name per row; multi-label rows join their positive classes with '+' ('no finding' when none)."""
    info = known_set(path.name)
    labels = labels.reshape(len(labels), -1)
    if labels.shape[1] > 1:
        names = (
            info.classes
            if info and len(info.classes) == labels.shape[1]
            else [str(i) for i in range(labels.shape[1])]
        )
        return ["+".join(n for n, on in zip(names, row, strict=True) if on) or "no finding" for row in labels]
    ids = labels[:, 0].astype(np.int64)
    if info and ids.max(initial=0) < len(info.classes):
        return [info.classes[i] for i in ids]
    return [str(i) for i in ids]


def _parts(zf: zipfile.ZipFile) -> list[tuple[str | None, str, str | None]]:
    """(split, images member, labels member) for each split held in the archive."""
    members = {Path(n).stem: n for n in zf.namelist() if n.endswith(".npy")}
    parts = [
        (split, members[f"{prefix}_images"], members.get(f"{prefix}_labels"))
        for split, prefix in SPLIT_PREFIXES.items()
        if f"{prefix}_images" in members
    ]
    if not parts and "images" in members:
        parts = [(None, members["images"], members.get("labels"))]
    if not parts:
        raise UnreadableFile(
            f"no images array (expected train_images/val_images/test_images or images); "
            f"found {sorted(members)}"
        )
    return parts


@register_reader("npz", extensions=(".npz",))
def read_npz(path: Path, options: ReadOptions) -> Iterator[Frame]:
    """Yield every image of a MedMNIST-style ``.npz`` with its label, split and a per-image patient id."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableFile(f"not a readable .npz archive ({exc})") from exc
    index = 0
    with zf:
        budget.check_expansion(
            "the archive", sum(i.file_size for i in zf.infolist()), path.stat().st_size, MAX_TOTAL_BYTES
        )
        for split, images_member, labels_member in _parts(zf):
            names = None
            if labels_member is not None:
                with zf.open(labels_member) as fh:
                    names = _label_names(path, np.lib.format.read_array(fh))
            for i, row in enumerate(_iter_rows(zf, images_member)):
                if names is not None and i >= len(names):
                    raise UnreadableFile(f"{images_member} has more images than {labels_member} has labels")
                yield Frame(
                    pixels=_pixels(row),
                    source=str(path),
                    frame=index,
                    label=names[i] if names is not None else None,
                    patient_id=f"{path.stem}#{index}",
                    split=split,
                )
                index += 1
