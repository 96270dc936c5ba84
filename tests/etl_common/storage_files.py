"""What the storage tests share: test files of a given size and their digests."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

MB = 1024 * 1024


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(MB):
            digest.update(chunk)
    return digest.hexdigest()


def write_random_file(path: Path, size: int) -> Path:
    with path.open("wb") as f:
        for _ in range(size // MB):
            f.write(os.urandom(MB))
        f.write(os.urandom(size % MB))
    return path
