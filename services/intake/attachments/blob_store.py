"""What a blob store is to its callers: whose files (`Owner`), an upload in progress, the store's
operations, and what it refuses. Attachment content is stored by its sha256 outside the event
store; events hold only the hash (blobs.py keeps it in files)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO, NamedTuple, Protocol


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


class BlobErasedError(BlobNotFoundError):
    """The files' person was erased: none of theirs is served, nor stored any more."""

    def __init__(self, sha256: str = "") -> None:
        BlobError.__init__(self, "the person these files belong to was erased")
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
    def erased(self, owner: Owner) -> bool: ...
