"""Backups in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, …) through boto3.

Writes are multipart uploads fed part by part from the backup stream (8 MiB parts), so a
backup of any size needs ~8 MiB of memory; the object becomes visible only when the upload
is completed, and any failure aborts it: all or nothing, like the local store's rename.
boto3 is synchronous, so every call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from erp_core.drivers.store import READ_CHUNK, PutResult, StoreError, StoreNotConfigured, check_key

PART_SIZE = 8 * 1024 * 1024  # S3's minimum part is 5 MiB (except the last)


class S3BackupStore:
    name = "s3"
    list_page_size = 1000  # ListObjectsV2's maximum; tests lower it to walk many pages cheaply

    def __init__(
        self,
        bucket: str | None,
        endpoint_url: str | None,
        prefix: str = "",
        *,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        if not bucket:
            raise StoreNotConfigured("Falta BACKUP_S3_BUCKET para guardar los respaldos en S3.")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=10,
                read_timeout=120,
            ),
        )

    def _key(self, key: str) -> str:
        key = check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def _call(self, action: str, fn: Any, **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            code = (
                exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else None
            )
            raise StoreError(
                f"S3 rechazó la operación ({action}): {code or type(exc).__name__}."
            ) from exc

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> PutResult:
        name = self._key(key)
        upload = await self._call(
            "iniciar la subida", self._client.create_multipart_upload, Bucket=self.bucket, Key=name
        )
        upload_id = upload["UploadId"]
        digest, size, buffer = hashlib.sha256(), 0, bytearray()
        parts: list[dict[str, Any]] = []

        async def flush() -> None:
            number = len(parts) + 1
            reply = await self._call("subir una parte", self._client.upload_part, Bucket=self.bucket, Key=name,
                                     UploadId=upload_id, PartNumber=number, Body=bytes(buffer))  # fmt: skip
            parts.append({"ETag": reply["ETag"], "PartNumber": number})
            buffer.clear()

        try:
            async for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                buffer.extend(chunk)
                if len(buffer) >= PART_SIZE:
                    await flush()
            if buffer or not parts:
                await flush()
            await self._call("completar la subida", self._client.complete_multipart_upload, Bucket=self.bucket,
                             Key=name, UploadId=upload_id, MultipartUpload={"Parts": parts})  # fmt: skip
        except BaseException:
            await asyncio.to_thread(
                self._client.abort_multipart_upload,
                Bucket=self.bucket,
                Key=name,
                UploadId=upload_id,
            )
            raise
        return PutResult(key, size, digest.hexdigest())

    @asynccontextmanager
    async def open(self, key: str) -> AsyncIterator[AsyncIterator[bytes]]:
        try:
            reply = await self._call(
                "leer el respaldo", self._client.get_object, Bucket=self.bucket, Key=self._key(key)
            )
        except StoreError as exc:
            raise StoreError("El archivo del respaldo no existe en S3.") from exc
        body = reply["Body"]

        async def chunks() -> AsyncIterator[bytes]:
            while chunk := await asyncio.to_thread(body.read, READ_CHUNK):
                yield chunk

        try:
            yield chunks()
        finally:
            body.close()

    @asynccontextmanager
    async def local_copy(self, key: str) -> AsyncIterator[Path]:
        """Streams the object into a temporary file (removed afterwards) for zip checks."""
        with tempfile.TemporaryDirectory(prefix="erp-s3-") as folder:
            path = Path(folder) / "backup.zip"
            async with self.open(key) as chunks:
                with path.open("wb") as out:
                    async for chunk in chunks:
                        await asyncio.to_thread(out.write, chunk)
            yield path

    async def exists(self, key: str) -> bool:
        try:
            await asyncio.to_thread(
                self._client.head_object, Bucket=self.bucket, Key=self._key(key)
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StoreError("S3 no respondió al comprobar el respaldo.") from exc
        return True

    async def list_keys(self) -> set[str]:
        """ListObjectsV2 pages (1,000 keys each) under the prefix; multipart uploads in flight
        are not objects until completed, so they never show here."""
        prefix = f"{self.prefix}/" if self.prefix else ""

        def walk() -> set[str]:
            keys: set[str] = set()
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket,
                Prefix=prefix,
                PaginationConfig={"PageSize": self.list_page_size},
            )
            for page in pages:
                keys.update(obj["Key"][len(prefix) :] for obj in page.get("Contents", []))
            return keys

        listed: set[str] = await self._call("listar los respaldos", walk)
        return listed

    async def delete(self, key: str) -> bool:
        existed = await self.exists(key)
        if existed:
            await self._call(
                "eliminar el respaldo",
                self._client.delete_object,
                Bucket=self.bucket,
                Key=self._key(key),
            )
        return existed
