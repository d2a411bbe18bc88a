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

Blobs stored before (one file per hash for every tenant, `root/ab/cd/<sha256>`) are still read
when the person has no copy of their own, until `legacy_blobs.py` has filed them per person.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple, Protocol

CHUNK = 1 << 20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_LEGACY_FOLDER = re.compile(r"^[0-9a-f]{2}$")


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


class Owner(NamedTuple):
    """Whose files: the requester of the ticket they are attached to, in the ticket's tenant."""

    tenant: str
    person: str


class BlobWriter(Protocol):
    """One upload in progress: hashed and size-checked chunk by chunk."""

    def write(self, chunk: bytes) -> None: ...
    def commit(self) -> StoredBlob: ...
    def abort(self) -> None: ...


class BlobStore(Protocol):
    def begin(self, owner: Owner, max_bytes: int | None = None) -> BlobWriter: ...
    def put(self, owner: Owner, content: bytes | Iterable[bytes], max_bytes: int | None = None) -> StoredBlob: ...
    def open(self, owner: Owner, sha256: str) -> BinaryIO: ...
    def read_verified(self, owner: Owner, sha256: str) -> bytes: ...
    def forget(self, owner: Owner) -> None: ...


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
        with self._open(owner, sha256) as file:
            content = file.read()
        _check(sha256, hashlib.sha256(content).hexdigest())
        return content

    def forget(self, owner: Owner) -> None:
        """Remove every blob of the person for good (an erasure); nothing when they have none."""
        folder = self.folder_of(owner)
        shutil.rmtree(folder, ignore_errors=True)
        if folder.parent.exists():
            _fsync_folder(folder.parent)

    def adopt(self, owner: Owner, sha256: str) -> bool:
        """File a blob stored before blobs were per person under `owner` too (a hard link: no copy);
        False when there is no such legacy blob or the owner has it already."""
        target, legacy = self.path_of(owner, sha256), self.legacy_path_of(sha256)
        if target.exists() or not legacy.exists():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(legacy, target)
        except FileExistsError:
            return False
        except FileNotFoundError:  # removed meanwhile
            return False
        _fsync_folder(target.parent)
        return True

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
        """Make the upload durable under its owner and hash. Content the owner has already is replaced
        by identical bytes, which also repairs a copy that rotted on disk."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        blob = StoredBlob(self._digest.hexdigest(), self._size)
        target = self._store.path_of(self._owner, blob.sha256)
        new_folders = [folder for folder in target.parents if not folder.exists()]  # the root exists (incoming/)
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


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
