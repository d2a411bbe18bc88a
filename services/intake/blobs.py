"""Attachment content, stored by its sha256 outside the event store; events hold only the hash.

A blob is written once under its own hash, so the same file uploaded twice is kept
once, and every read re-hashes it: bytes that no longer match are refused, never served.
Synchronous file I/O, free of HTTP: callers run it in a thread.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, NamedTuple, Protocol

CHUNK = 1 << 20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BlobError(Exception):
    """A blob that cannot be stored or served."""


class BlobTooLargeError(BlobError):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"the content is larger than {max_bytes} bytes")
        self.max_bytes = max_bytes


class BlobNotFoundError(BlobError):
    def __init__(self, sha256: str) -> None:
        super().__init__(f"no blob {sha256!r} in the store")
        self.sha256 = sha256


class BlobCorruptError(BlobError):
    def __init__(self, sha256: str, actual: str) -> None:
        super().__init__(f"blob {sha256} no longer matches its hash (its content hashes to {actual})")
        self.sha256 = sha256
        self.actual = actual


class StoredBlob(NamedTuple):
    sha256: str
    size: int


class BlobWriter(Protocol):
    """One upload in progress: hashed and size-checked chunk by chunk."""

    def write(self, chunk: bytes) -> None: ...
    def commit(self) -> StoredBlob: ...
    def abort(self) -> None: ...


class BlobStore(Protocol):
    def begin(self, max_bytes: int | None = None) -> BlobWriter: ...
    def put(self, content: bytes | Iterable[bytes], max_bytes: int | None = None) -> StoredBlob: ...
    def open(self, sha256: str) -> BinaryIO: ...
    def read_verified(self, sha256: str) -> bytes: ...
    def delete(self, sha256: str) -> None: ...


class FileBlobStore:
    """Blobs as read-only files `root/ab/cd/<sha256>`; uploads land in `root/incoming` first."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise BlobNotFoundError(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def begin(self, max_bytes: int | None = None) -> FileBlobWriter:
        incoming = self.root / "incoming"  # same file system as the blobs, so the final rename is atomic
        incoming.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=incoming, prefix="upload-")
        return FileBlobWriter(self, os.fdopen(fd, "wb"), Path(name), max_bytes)

    def put(self, content: bytes | Iterable[bytes], max_bytes: int | None = None) -> StoredBlob:
        writer = self.begin(max_bytes)
        try:
            for chunk in [content] if isinstance(content, bytes) else content:
                writer.write(chunk)
            return writer.commit()
        finally:
            writer.abort()

    def open(self, sha256: str) -> BinaryIO:
        """The blob, verified end to end and rewound: what the caller reads is what was hashed."""
        file = self._open(sha256)
        try:
            digest = hashlib.sha256()
            while chunk := file.read(CHUNK):
                digest.update(chunk)
            _check(sha256, digest.hexdigest())
            file.seek(0)
        except BaseException:
            file.close()
            raise
        return file

    def read_verified(self, sha256: str) -> bytes:
        with self._open(sha256) as file:
            content = file.read()
        _check(sha256, hashlib.sha256(content).hexdigest())
        return content

    def delete(self, sha256: str) -> None:
        """Remove the blob for good (an erasure); nothing when it is gone already."""
        path = self.path_of(sha256)
        path.unlink(missing_ok=True)
        if path.parent.exists():
            _fsync_folder(path.parent)

    def _open(self, sha256: str) -> BinaryIO:
        try:
            return self.path_of(sha256).open("rb")
        except FileNotFoundError:
            raise BlobNotFoundError(sha256) from None


class FileBlobWriter:
    def __init__(self, store: FileBlobStore, file: BinaryIO, temp: Path, max_bytes: int | None) -> None:
        self._store = store
        self._file = file
        self._temp = temp
        self._max_bytes = max_bytes
        self._digest = hashlib.sha256()
        self._size = 0
        self._done = False

    def write(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._max_bytes is not None and self._size > self._max_bytes:
            self.abort()
            raise BlobTooLargeError(self._max_bytes)
        self._digest.update(chunk)
        self._file.write(chunk)

    def commit(self) -> StoredBlob:
        """Make the upload durable under its hash. Content stored already is replaced by
        identical bytes, which also repairs a copy that rotted on disk."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        blob = StoredBlob(self._digest.hexdigest(), self._size)
        target = self._store.path_of(blob.sha256)
        new_folders = [folder for folder in (target.parent.parent, target.parent) if not folder.exists()]
        target.parent.mkdir(parents=True, exist_ok=True)
        self._temp.chmod(0o444)
        os.replace(self._temp, target)
        self._done = True
        for folder in [target.parent, *(folder.parent for folder in new_folders)]:
            _fsync_folder(folder)
        return blob

    def abort(self) -> None:
        """Drop the upload (nothing happens after a commit)."""
        if not self._done:
            self._done = True
            self._file.close()
            self._temp.unlink(missing_ok=True)


def _check(sha256: str, actual: str) -> None:
    if actual != sha256:
        raise BlobCorruptError(sha256, actual)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
