"""BlobStore on Cloud Storage: one object per key, atomic by GCS semantics, large files resumable.

Vendor errors stop here: a missing object is `NotFound`, any other failure of the service,
the network or the credentials is `Unavailable`, and an unusable setup (no credentials, no
bucket) is `ConfigError` at construction.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO, cast

import google.auth.credentials
import google.auth.transport.requests
import requests
from google.api_core import exceptions as api_errors
from google.api_core.retry import Retry
from google.auth import exceptions as auth_errors
from google.cloud import storage
from google.cloud.storage import exceptions as media_errors
from google.cloud.storage.fileio import BlobReader
from google.cloud.storage.retry import DEFAULT_RETRY

from ainimal_zookeeper.errors import ConfigError, InvalidInput, NotFound, StorageUnavailable, Unavailable

__all__ = ["GcsBlobStore"]

# Everything the client stack raises for a failed call: API answers, auth and transport,
# and the media layer's checksum/response errors. requests' errors subclass OSError, so
# letting them escape would make callers mistake a network failure for a bad file.
_VENDOR_ERRORS: tuple[type[Exception], ...] = (
    api_errors.GoogleAPIError,
    auth_errors.GoogleAuthError,
    requests.RequestException,
    media_errors.InvalidResponse,
    media_errors.DataCorruption,
)
_CHUNK_GRANULARITY = 256 << 10  # GCS resumable uploads move whole multiples of 256 KiB
_MAX_NAME_BYTES = 1024  # GCS object-name limit (UTF-8)
_MAX_SIGNED_SECONDS = 7 * 24 * 3600  # V4 signatures live at most seven days


class GcsBlobStore:
    """Objects named `prefix + key` in one bucket (a prefix usually ends with '/')."""

    def __init__(
        self,
        bucket: str,
        client: storage.Client | None = None,
        prefix: str = "",
        chunk_size: int = 8 << 20,
        create_bucket: bool = False,
    ) -> None:
        if chunk_size <= 0 or chunk_size % _CHUNK_GRANULARITY:
            raise ConfigError(f"GcsBlobStore chunk_size must be a positive multiple of 256 KiB, got {chunk_size}")
        self.prefix = prefix
        self.chunk_size = chunk_size
        self._client = client if client is not None else _default_client()
        self._bucket = self._client.bucket(bucket)
        self._ensure_bucket(create_bucket)

    # -- the BlobStore port -------------------------------------------------------------

    def put(self, key: str, data: bytes | memoryview, *, if_absent: bool = False) -> None:
        """Store `data` under `key`; with `if_absent`, keep an existing object (see `put_file`)."""
        blob = self._blob(key)
        payload = data if isinstance(data, bytes) else bytes(data)  # the client takes bytes or str only
        with self._errors(key), _kept_if_present(if_absent):
            blob.upload_from_string(payload, content_type="application/octet-stream", **_upload_options(if_absent))

    def put_file(self, key: str, path: Path, move: bool = False, *, if_absent: bool = False) -> None:
        """Upload a file without reading it whole; with `move`, delete it once stored.

        The client sends files up to 8 MiB in one request and larger ones as a resumable
        upload of `chunk_size` pieces (retried piece by piece), so memory stays bounded.

        `if_absent` (adapter-specific) writes only when no object exists (generation 0) and
        counts an existing one as success: meant for content-addressed keys, whose existing
        object already holds these very bytes, so racing writers and retries stay idempotent.
        """
        blob = self._blob(key)
        with self._errors(key), _kept_if_present(if_absent):
            blob.upload_from_filename(os.fspath(path), **_upload_options(if_absent))
        if move:
            Path(path).unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        """A stream of the object's bytes, read in `chunk_size` ranges (the caller closes it)."""
        name = self._name(key)
        with self._errors(key):
            blob = self._bucket.get_blob(name)
        if blob is None:
            raise NotFound(f"no blob stored under {key!r} in {self._where()}")
        # Read ranges of the generation just seen: an overwrite during the read then fails
        # the read (that generation is gone) instead of splicing two versions together.
        pinned = self._bucket.blob(name, generation=blob.generation)
        reader = pinned.open("rb", chunk_size=self.chunk_size)
        return cast(BinaryIO, _TranslatedReader(reader, self, key))

    def get(self, key: str) -> bytes:
        """The object's bytes."""
        with self._errors(key):
            return cast(bytes, self._blob(key, chunked=False).download_as_bytes())

    def get_file(self, key: str, path: Path) -> None:
        """Download into `path` through a temp file beside it, so `path` is never half-written."""
        target = Path(path)
        blob = self._blob(key, chunked=False)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle, self._errors(key):
                blob.download_to_file(handle)
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""
        with self._errors(key):
            return bool(self._blob(key).exists())

    def size(self, key: str) -> int:
        """The object's size in bytes (one metadata request)."""
        with self._errors(key):
            blob = self._bucket.get_blob(self._name(key))
        if blob is None:
            raise NotFound(f"no blob stored under {key!r} in {self._where()}")
        return int(blob.size)

    def list(self, prefix: str = "") -> list[str]:
        """Keys that start with `prefix`, without the store's own prefix, sorted."""
        with self._errors(prefix):
            names = [b.name for b in self._client.list_blobs(self._bucket, prefix=self.prefix + prefix)]
        return sorted(name[len(self.prefix) :] for name in names)

    def delete(self, key: str) -> None:
        """Remove an object; a missing one is fine."""
        blob = self._blob(key)
        try:
            with self._errors(key):
                blob.delete()
        except NotFound:
            pass

    # -- adapter extras -----------------------------------------------------------------

    def signed_url(self, key: str, expires_seconds: int = 3600) -> str:
        """A V4 signed GET URL for downloads (e.g. recordings) that needs no credentials to use.

        Signing needs a private key (a service-account key file) or, with metadata-server
        credentials (Cloud Run, GKE), the IAM permission iam.serviceAccounts.signBlob on the
        service account itself; anything else raises `Unavailable` naming what is missing.
        """
        if not 0 < expires_seconds <= _MAX_SIGNED_SECONDS:
            raise InvalidInput(f"expires_seconds must be in 1..{_MAX_SIGNED_SECONDS} (7 days), got {expires_seconds}")
        blob = self._blob(key)
        signing: dict[str, Any] = {}
        credentials = self._client._credentials
        if not isinstance(credentials, google.auth.credentials.Signing):
            email = getattr(credentials, "service_account_email", None)
            if not email:
                raise Unavailable(
                    f"cannot sign a URL for {key!r}: the Cloud Storage credentials "
                    f"({type(credentials).__name__}) hold no private key; use a service account with a "
                    "key file (GOOGLE_APPLICATION_CREDENTIALS) or one allowed iam.serviceAccounts.signBlob"
                )
            # No key on hand: let IAM sign as the service account (needs signBlob on it).
            with self._errors(key):
                if not credentials.valid or email == "default":
                    credentials.refresh(google.auth.transport.requests.Request())
            signing = {"service_account_email": credentials.service_account_email, "access_token": credentials.token}
        try:
            url = blob.generate_signed_url(
                version="v4", expiration=timedelta(seconds=expires_seconds), method="GET", **signing
            )
        except _VENDOR_ERRORS as exc:
            # Only the IAM path calls out: a refusal there is the missing signBlob permission.
            raise Unavailable(
                f"cannot sign a URL for {key!r} as {signing.get('service_account_email')}: it needs "
                f"iam.serviceAccounts.signBlob on itself: {exc}"
            ) from exc
        return cast(str, url)

    # -- helpers ------------------------------------------------------------------------

    def _ensure_bucket(self, create: bool) -> None:
        """Fail at start on a missing bucket, or create it when asked."""
        name = self._bucket.name
        try:
            # Listing needs only storage.objects.list, which the store needs anyway;
            # bucket metadata (storage.buckets.get) is often not granted to object roles.
            list(self._client.list_blobs(self._bucket, max_results=1))
            return
        except api_errors.NotFound:
            if not create:
                raise ConfigError(
                    f"Cloud Storage bucket {name!r} does not exist: create it, fix gcp.bucket, "
                    "or set gcp.create_bucket: true"
                ) from None
        except api_errors.Forbidden as exc:
            raise ConfigError(f"the Cloud Storage credentials may not list bucket {name!r}: {exc.message}") from exc
        except _VENDOR_ERRORS as exc:
            raise Unavailable(f"Cloud Storage did not answer for bucket {name!r}: {exc}") from exc
        try:
            self._client.create_bucket(self._bucket)
        except api_errors.Conflict:
            pass  # created meanwhile by another process: just as good
        except _VENDOR_ERRORS as exc:
            raise ConfigError(f"cannot create Cloud Storage bucket {name!r} (gcp.create_bucket): {exc}") from exc

    def _blob(self, key: str, chunked: bool = True) -> storage.Blob:
        # Whole-object downloads stay unchunked: one GET reads one generation, whereas
        # chunked range requests could straddle an overwrite.
        return self._bucket.blob(self._name(key), chunk_size=self.chunk_size if chunked else None)

    def _name(self, key: str) -> str:
        # Same rules as the local store, so a key valid here is valid everywhere.
        parts = key.split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise InvalidInput(f"blob key must be a relative path without '..', got {key!r}")
        name = self.prefix + key
        if "\r" in name or "\n" in name or len(name.encode()) > _MAX_NAME_BYTES:
            raise InvalidInput(f"blob key {key!r} is not a valid Cloud Storage name (no CR/LF, at most 1024 bytes)")
        return name

    def _where(self) -> str:
        return f"gs://{self._bucket.name}/{self.prefix}"

    @contextmanager
    def _errors(self, key: str) -> Iterator[None]:
        """Turn the client's exceptions into the zookeeper's."""
        try:
            yield
        except api_errors.NotFound as exc:
            raise NotFound(f"no blob stored under {key!r} in {self._where()}") from exc
        except _VENDOR_ERRORS as exc:
            raise StorageUnavailable(f"Cloud Storage failed for {key!r} in {self._where()}: {exc}") from exc


class _TranslatedReader(io.BufferedIOBase):
    """A BlobReader whose read errors surface as zookeeper errors, not vendor ones."""

    def __init__(self, inner: BlobReader, store: GcsBlobStore, key: str) -> None:
        super().__init__()
        self._inner, self._store, self._key = inner, store, key

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        try:
            with self._store._errors(self._key):
                return cast(bytes, self._inner.read(-1 if size is None else size))
        except NotFound as exc:
            # The generation opened is gone: a retry would read the new one from the start.
            raise Unavailable(f"blob {self._key!r} was replaced or deleted while being read") from exc

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def close(self) -> None:
        self._inner.close()
        super().close()


@contextmanager
def _kept_if_present(if_absent: bool) -> Iterator[None]:
    """With `if_absent`, a failed generation-0 precondition means the object is already there."""
    try:
        yield
    except api_errors.PreconditionFailed:
        if not if_absent:
            raise


def _upload_options(if_absent: bool) -> dict[str, Any]:
    if if_absent:
        # The precondition makes the write idempotent, so the client retries it by itself.
        return {"if_generation_match": 0}
    # An unconditional upload is not retried by default (a retry could overwrite a newer
    # write); the port's put means "replace", so last-writer-wins is what we want anyway.
    retry: Retry = DEFAULT_RETRY
    return {"retry": retry}


def _default_client() -> storage.Client:
    """A client for the emulator (STORAGE_EMULATOR_HOST) or for Application Default Credentials."""
    project = os.environ.get("GOOGLE_CLOUD_PROJECT")
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        return storage.Client(project=project, credentials=google.auth.credentials.AnonymousCredentials())
    try:
        return storage.Client(project=project)
    except auth_errors.DefaultCredentialsError as exc:
        raise ConfigError(
            "no Cloud Storage credentials: set STORAGE_EMULATOR_HOST for the emulator, or "
            f"GOOGLE_APPLICATION_CREDENTIALS (or run where Application Default Credentials exist): {exc}"
        ) from exc
