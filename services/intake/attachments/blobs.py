"""Attachment content, stored by its sha256 outside the event store; events hold only the hash.

Blobs are kept per tenant and person: under the requester of the ticket a file is attached to
(the person whose key seals its filename, and who is erased with it). The same file uploaded
twice for one person is kept once, and every read re-hashes it: bytes that no longer match are
refused, never served. Synchronous file I/O, free of HTTP: callers run it in a thread.

Why per person rather than once for everybody with a count of references: erasing a person then
deletes their folder outright, whatever attachments the read models know of, and nothing
anyone else stored can be lost with it, nor kept alive by it; no index of who holds which hash
has to be written in step with the uploads (an upload racing an erasure of someone else cannot
lose its file), and one tenant's files share nothing with another's. The price is a copy per
person of a file several people send, which attachments rarely are.

An erasure marks the person erased in the store before it deletes their folder (a tombstone
beside it, kept), and an upload checks the mark again once its file is in place, removing the file
when the mark is there: whichever comes first, an upload racing an erasure never leaves the erased
person's bytes behind (a crash between an upload's rename and its check is swept when intake starts).

Blobs stored before (one file per hash for every tenant, `root/ab/cd/<sha256>`) are still read
when the person has no copy of their own, until `legacy_blobs.py` has filed them per person.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from services.intake.attachments.blob_store import (
    BlobCorruptError,
    BlobErasedError,
    BlobError,
    BlobNotFoundError,
    BlobTooLargeError,
    Owner,
    StoredBlob,
)

CHUNK = 1 << 20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_LEGACY_FOLDER = re.compile(r"^[0-9a-f]{2}$")

FileId = tuple[int, int]  # a file's device and inode: the same file under any of its names


def file_id(path: Path) -> FileId:
    stat = path.stat()
    return stat.st_dev, stat.st_ino


class FileBlobStore:
    """Blobs as read-only files `root/people/<tenant>/<person>/ab/<sha256>` (the tenant and the person
    as digests: a requester id may be an address); uploads land in `root/incoming` first."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def folder_of(self, owner: Owner) -> Path:
        tenant = _digest(owner.tenant)
        return self.root / "people" / tenant / _digest(f"{owner.tenant}\x00{owner.person}")

    def path_of(self, owner: Owner, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise BlobNotFoundError(sha256)
        return self.folder_of(owner) / sha256[:2] / sha256

    def tombstone_of(self, owner: Owner) -> Path:
        """The mark that `owner` was erased: beside their folder, so deleting the folder keeps it."""
        folder = self.folder_of(owner)
        return folder.with_name(f"{folder.name}.erased")

    def erased(self, owner: Owner) -> bool:
        return self.tombstone_of(owner).exists()

    def legacy_path_of(self, sha256: str) -> Path:
        """Where a blob stored before blobs were kept per person is (one for every tenant)."""
        if not _SHA256.match(sha256):
            raise BlobNotFoundError(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def begin(self, owner: Owner, max_bytes: int | None = None) -> FileBlobWriter:
        incoming = self.root / "incoming"  # same file system as the blobs, so the final rename is atomic
        incoming.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=incoming, prefix="upload-")
        return FileBlobWriter(self, owner, os.fdopen(fd, "wb"), Path(name), max_bytes)

    def put(self, owner: Owner, content: bytes | Iterable[bytes], max_bytes: int | None = None) -> StoredBlob:
        writer = self.begin(owner, max_bytes)
        try:
            for chunk in [content] if isinstance(content, bytes) else content:
                writer.write(chunk)
            return writer.commit()
        finally:
            writer.abort()

    def open(self, owner: Owner, sha256: str) -> BinaryIO:
        """The blob, verified end to end and rewound: what the caller reads is what was hashed."""
        if self.erased(owner):
            raise BlobErasedError(sha256)
        file = self._open(owner, sha256)
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

    def read_verified(self, owner: Owner, sha256: str) -> bytes:
        if self.erased(owner):
            raise BlobErasedError(sha256)
        with self._open(owner, sha256) as file:
            content = file.read()
        _check(sha256, hashlib.sha256(content).hexdigest())
        return content

    def forget(self, owner: Owner) -> None:
        """Remove every blob of the person for good (an erasure), and mark them erased first: an upload
        of theirs committing meanwhile then removes its own file (`FileBlobWriter.commit`)."""
        folder, tombstone = self.folder_of(owner), self.tombstone_of(owner)
        tombstone.parent.mkdir(parents=True, exist_ok=True)
        tombstone.touch()
        _fsync_folder(tombstone.parent)
        shutil.rmtree(folder, ignore_errors=True)
        _fsync_folder(tombstone.parent)

    def sweep_erased(self) -> int:
        """Forget again every person marked erased who still has a folder (an upload that crashed
        between placing its file and checking the mark); how many."""
        swept = 0
        for tombstone in self.root.glob("people/*/*.erased"):
            folder = tombstone.with_suffix("")
            if folder.exists():
                shutil.rmtree(folder, ignore_errors=True)
                _fsync_folder(tombstone.parent)
                swept += 1
        return swept

    def _place(self, owner: Owner, target: Path, put: Callable[[Path], None]) -> None:
        """Put a file at `target`, under `owner`'s folder, unless they are (or meanwhile were) erased:
        BlobErasedError, and the file is not left behind."""
        for _ in range(3):  # an erasure may delete the folder between its creation and the rename
            if self.erased(owner):
                raise BlobErasedError()
            new_folders = [folder for folder in target.parents if not folder.exists()]
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                put(target)
            except FileNotFoundError:
                continue
            if self.erased(owner):  # erased while the file went in: the erasure may have missed it
                target.unlink(missing_ok=True)
                raise BlobErasedError()
            for folder in [target.parent, *(folder.parent for folder in new_folders)]:
                _fsync_folder(folder)
            return
        raise BlobErasedError() if self.erased(owner) else BlobError(f"could not place {target.name}")

    def adopt(self, owner: Owner, sha256: str) -> FileId | None:
        """File a blob stored before blobs were per person under `owner` too (a hard link: no copy):
        the file linked; None when there is no such legacy blob, the owner has it already, or they
        were erased (meanwhile)."""
        target, legacy = self.path_of(owner, sha256), self.legacy_path_of(sha256)
        if target.exists() or not legacy.exists():
            return None
        try:
            self._place(owner, target, lambda path: os.link(legacy, path))
        except (FileExistsError, FileNotFoundError, BlobError):  # filed, removed, or erased meanwhile
            return None
        return file_id(target)

    def legacy_blobs(self) -> Iterator[Path]:
        """The blobs stored before blobs were per person."""
        if not self.root.exists():
            return
        for folder in sorted(self.root.iterdir()):
            if folder.is_dir() and _LEGACY_FOLDER.match(folder.name):
                yield from (path for path in folder.glob("*/*") if _SHA256.match(path.name))

    def _open(self, owner: Owner, sha256: str) -> BinaryIO:
        try:
            return self.path_of(owner, sha256).open("rb")
        except FileNotFoundError:
            pass
        try:
            return self.legacy_path_of(sha256).open("rb")
        except FileNotFoundError:
            raise BlobNotFoundError(sha256) from None


class FileBlobWriter:
    def __init__(self, store: FileBlobStore, owner: Owner, file: BinaryIO, temp: Path, max_bytes: int | None) -> None:
        self._store = store
        self._owner = owner
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
        """Make the upload durable under its owner and hash (BlobErasedError when the owner is, or
        meanwhile was, erased). Content the owner has already is replaced by identical bytes, which
        also repairs a copy that rotted on disk."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        blob = StoredBlob(self._digest.hexdigest(), self._size)
        self._temp.chmod(0o444)
        self._store._place(
            self._owner, self._store.path_of(self._owner, blob.sha256), lambda path: os.replace(self._temp, path)
        )
        self._done = True
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


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
