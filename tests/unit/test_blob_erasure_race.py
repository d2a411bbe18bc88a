"""An upload racing the erasure of the person it is filed under never leaves their bytes behind:
whichever comes first, the file is gone once both are done (real files, the erasure at each
point of the upload's commit)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from services.intake.attachments.blob_store import BlobErasedError, Owner
from services.intake.attachments.blobs import FileBlobStore

JOLANTA = Owner("acme", "jolanta")
PASSPORT = b"a scan of jolanta's passport"


def files_under(blobs: FileBlobStore, owner: Owner) -> list[Path]:
    folder = blobs.folder_of(owner)
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


class ErasedBetweenCheckAndRename(FileBlobStore):
    """The erasure runs whole right after the upload has found its person not erased."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.armed = False

    def erased(self, owner: Owner) -> bool:
        answer = super().erased(owner)
        if self.armed and not answer:
            self.armed = False
            self.forget(owner)
        return answer


def test_an_upload_that_streamed_while_its_person_was_erased_keeps_nothing(tmp_path: Path) -> None:
    blobs = FileBlobStore(tmp_path)
    blobs.put(JOLANTA, b"an earlier file of hers")
    upload = blobs.begin(JOLANTA)
    upload.write(PASSPORT)
    blobs.forget(JOLANTA)  # the erasure, while the file streams in
    with pytest.raises(BlobErasedError):
        upload.commit()
    upload.abort()
    assert files_under(blobs, JOLANTA) == []
    assert list((tmp_path / "incoming").iterdir()) == []
    with pytest.raises(BlobErasedError):
        blobs.put(JOLANTA, PASSPORT)


def test_an_erasure_between_the_uploads_check_and_its_rename_still_takes_the_file(tmp_path: Path) -> None:
    blobs = ErasedBetweenCheckAndRename(tmp_path)
    upload = blobs.begin(JOLANTA)
    upload.write(PASSPORT)
    blobs.armed = True
    with pytest.raises(BlobErasedError):
        upload.commit()
    assert files_under(blobs, JOLANTA) == []


def test_an_erasure_after_the_upload_takes_its_file_and_nobody_elses(tmp_path: Path) -> None:
    blobs, bob = FileBlobStore(tmp_path), Owner("acme", "bob")
    sha256 = blobs.put(JOLANTA, PASSPORT).sha256
    blobs.put(bob, PASSPORT)
    blobs.forget(JOLANTA)
    assert files_under(blobs, JOLANTA) == []
    with pytest.raises(BlobErasedError):
        blobs.read_verified(JOLANTA, sha256)
    assert blobs.read_verified(bob, sha256) == PASSPORT


def test_many_uploads_racing_an_erasure_leave_none_of_the_persons_files(tmp_path: Path) -> None:
    blobs = FileBlobStore(tmp_path)
    start = threading.Barrier(9)

    def upload(n: int) -> None:
        start.wait()
        for i in range(40):
            try:
                blobs.put(JOLANTA, f"file {n}/{i}".encode())
            except BlobErasedError:
                return

    uploads = [threading.Thread(target=upload, args=(n,)) for n in range(8)]
    for thread in uploads:
        thread.start()
    start.wait()
    blobs.forget(JOLANTA)
    for thread in uploads:
        thread.join()
    assert files_under(blobs, JOLANTA) == []


def test_a_person_an_upload_crashed_on_is_swept_when_intake_starts(tmp_path: Path) -> None:
    blobs = FileBlobStore(tmp_path)
    blobs.forget(JOLANTA)
    left = blobs.folder_of(JOLANTA) / "ab" / ("ab" + "0" * 62)  # renamed in, then the process died
    left.parent.mkdir(parents=True)
    left.write_bytes(PASSPORT)
    assert blobs.sweep_erased() == 1
    assert files_under(blobs, JOLANTA) == []
