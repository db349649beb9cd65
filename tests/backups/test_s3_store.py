"""The S3-compatible store against a real S3 HTTP server on loopback (moto's server)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import boto3
import pytest

from erp_core.config import Settings
from erp_core.drivers.factory import store_for
from erp_core.drivers.s3_store import PART_SIZE, S3BackupStore
from erp_core.drivers.store import StoreError

BUCKET = "erp-backups"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "lab")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "lab-secret")
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(Bucket=BUCKET)
    yield url
    server.stop()


@pytest.fixture
def store(s3_url: str) -> S3BackupStore:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, backup_store="s3", backup_s3_bucket=BUCKET, backup_s3_endpoint_url=s3_url,
        backup_s3_prefix="core", backup_s3_access_key_id="lab", backup_s3_secret_access_key="lab-secret",
    )  # fmt: skip
    chosen = store_for(settings)
    assert isinstance(chosen, S3BackupStore)
    return chosen


async def _stream(
    total: int, piece: int = 1 << 20, fail_at: int | None = None
) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        if fail_at is not None and sent >= fail_at:
            raise RuntimeError("source broke")
        chunk = hashlib.sha256(str(sent).encode()).digest() * (min(piece, total - sent) // 32 or 1)
        chunk = chunk[: total - sent]
        sent += len(chunk)
        yield chunk


async def test_multipart_round_trip(store: S3BackupStore) -> None:
    size = PART_SIZE * 2 + 12345  # three parts
    data = b"".join([c async for c in _stream(size)])
    result = await store.put("acme/acme-1.zip", _stream(size))
    assert result.size == size and result.sha256 == hashlib.sha256(data).hexdigest()
    assert await store.exists("acme/acme-1.zip")
    async with store.open("acme/acme-1.zip") as chunks:
        read = b"".join([c async for c in chunks])
    assert read == data
    async with store.local_copy("acme/acme-1.zip") as path:
        assert path.read_bytes() == data
    assert not path.exists()
    listed = boto3.client(
        "s3", endpoint_url=store._client.meta.endpoint_url, region_name="us-east-1"
    )
    assert [o["Key"] for o in listed.list_objects_v2(Bucket=BUCKET)["Contents"]] == [
        "core/acme/acme-1.zip"
    ]
    assert await store.delete("acme/acme-1.zip") is True
    assert await store.delete("acme/acme-1.zip") is False
    assert not await store.exists("acme/acme-1.zip")


async def test_a_broken_stream_leaves_nothing(store: S3BackupStore) -> None:
    with pytest.raises(RuntimeError):
        await store.put("acme/broken.zip", _stream(PART_SIZE * 2, fail_at=PART_SIZE + 1))
    assert not await store.exists("acme/broken.zip")
    uploads = store._client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    assert uploads == []  # aborted, not left half-written


async def test_missing_object_and_bad_keys(store: S3BackupStore) -> None:
    with pytest.raises(StoreError):
        async with store.open("acme/none.zip"):
            pass
    with pytest.raises(StoreError):
        await store.exists("../escape.zip")


def test_s3_without_bucket_says_so() -> None:
    settings = Settings(_env_file=None, backup_store="s3")  # type: ignore[call-arg]
    with pytest.raises(StoreError, match="BACKUP_S3_BUCKET"):
        store_for(settings)


async def test_backup_job_stores_in_s3_and_downloads(
    s3_url: str, client: Any, operator: dict[str, Any], lab_ctx: Any, worker: None
) -> None:
    from .conftest import active_tenant, backup_now

    s = lab_ctx.settings
    s.backup_store, s.backup_s3_bucket, s.backup_s3_endpoint_url = "s3", BUCKET, s3_url
    s.backup_s3_prefix, s.backup_s3_access_key_id, s.backup_s3_secret_access_key = (
        "e2e",
        "lab",
        "lab-secret",
    )
    h = operator["headers"]
    tenant = await active_tenant(client, h, "nube")
    job = await backup_now(client, h, tenant["id"])
    assert job["status"] == "succeeded", job["error"]
    rows = (await client.get(f"/api/tenants/{tenant['id']}/backups", headers=h)).json()["data"]
    row = rows[0]
    assert row["status"] == "succeeded" and row["store"] == "s3"
    keys = [o["Key"] for o in boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1")
            .list_objects_v2(Bucket=BUCKET, Prefix="e2e/")["Contents"]]  # fmt: skip
    assert len(keys) == 1 and keys[0].startswith("e2e/nube/")
    download = await client.get(f"/api/backups/{row['id']}/download", headers=h)
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == row["sha256"]

    # The drift audit lists the bucket too (issue 18): an object nobody owns is found, and a
    # row whose object was removed behind our back is "missing", exactly as with a local store.
    raw = boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1")
    raw.put_object(Bucket=BUCKET, Key="e2e/stray/left-behind.zip", Body=b"zip")
    raw.put_object(Bucket=BUCKET, Key="other-app/not-ours.zip", Body=b"zip")  # outside the prefix
    raw.delete_object(Bucket=BUCKET, Key=keys[0])
    run = await client.post("/api/reconciliation/run", headers=h)
    assert run.status_code == 202, run.text
    for _ in range(300):
        result = (
            await client.get(f"/api/reconciliation/runs/{run.json()['data']['job_id']}", headers=h)
        ).json()["data"]
        if result["status"] in ("succeeded", "failed"):
            break
        await asyncio.sleep(0.1)
    source = {s["source"]: s for s in result["result"]["sources"]}["backups"]
    assert source["status"] == "ok", source
    findings = (
        await client.get("/api/reconciliation/findings", params={"source": "backups"}, headers=h)
    ).json()["data"]
    assert sorted((f["kind"], f["detail"].get("key")) for f in findings) == [
        ("missing_backup_file", keys[0][len("e2e/") :]),
        ("orphan_backup_file", "stray/left-behind.zip"),
    ]


async def test_list_keys_walks_every_page(store: S3BackupStore) -> None:
    raw = store._client
    store.list_page_size = 3  # seven keys: three ListObjectsV2 pages
    for i in range(7):
        raw.put_object(Bucket=BUCKET, Key=f"core/many/{i:04d}.zip", Body=b"")
    keys = await store.list_keys()
    assert {k for k in keys if k.startswith("many/")} == {f"many/{i:04d}.zip" for i in range(7)}
    assert all(not k.startswith("core/") for k in keys)
