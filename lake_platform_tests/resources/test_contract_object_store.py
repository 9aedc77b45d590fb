"""Contract of the object store: the local folder store and S3 (moto) must behave alike.

Every test runs against both implementations; the S3 case is marked ``aws`` so that
``pytest -m aws`` selects it. Buckets are created the way Terraform creates them (plain,
region-scoped buckets); the local store needs no creation step, its buckets are folders.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from lake_platform.resources.object_store.aws import S3ObjectStore
from lake_platform.resources.object_store.base import ObjectStore
from lake_platform.resources.object_store.local import LocalObjectStore

BUCKETS = {"raw_bucket": "lake-raw", "source_bucket": "lake-source", "target_bucket": "lake-target"}
REGION = "eu-west-1"


def make_s3_store(endpoint: str) -> S3ObjectStore:
    """An S3 store on the moto server with the three lake buckets created."""
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=endpoint)
    for bucket in BUCKETS.values():
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    return S3ObjectStore(region_name=REGION, endpoint_url=endpoint, **BUCKETS)


@pytest.fixture(params=["local", pytest.param("aws", marks=pytest.mark.aws)])
def store(request, tmp_path) -> ObjectStore:
    """The object store under contract: local folders, or S3 on a fresh moto server."""
    if request.param == "local":
        return LocalObjectStore(root=str(tmp_path / "buckets"), **BUCKETS)
    return make_s3_store(request.getfixturevalue("aws"))


def put_many(store: ObjectStore, bucket: str, keys: list[str], data: bytes = b"x") -> None:
    """Write many small objects, fast in both stores.

    A PUT through moto's HTTP server costs about 12 ms, so thousands of keys would take most
    of a minute. The moto server runs in this process, so S3 objects are seeded straight into
    its backend; the store under test still reads them only through real S3 API calls.
    """
    if isinstance(store, S3ObjectStore):
        seed_moto_objects(bucket, keys, data)
    else:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda k: store.put_bytes(bucket, k, data), keys))


def seed_moto_objects(bucket: str, keys: list[str], data: bytes = b"x") -> None:
    """Create objects in the in-process moto S3 backend (the bucket must exist)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
    for key in keys:
        backend.put_object(bucket, key, data)


def keys_of(objects) -> list[str]:
    """Just the keys of a listing."""
    return [o.key for o in objects]


# Keys chosen so that folder boundaries and S3's byte order disagree with a naive folder walk:
# '-' (0x2d) and '.' (0x2e) sort before '/' (0x2f), digits and '_' after it.
TRICKY_KEYS = [
    "landing/erp/customers/20240101T000000Z/part-0.csv",
    "landing/erp/customers/20240101T000000Z/_SUCCESS",
    "landing/erp/customers/20240101T000000Z/0001.csv",
    "landing/erp/customers/20240101T000000Z-extra.csv",
    "landing/erp/customers/20240101T000000Z.txt",
    "landing/erp/customers0/x.csv",
    "landing/erp/customers-old/x.csv",
    "landing/erp/customers.csv",
    "landing/erp/orders/20240101T000000Z/part-0.csv",
    "landing/erp/a/b/c/d.csv",
    "landing/erp/Z.csv",
]


def test_list_returns_keys_in_s3_byte_order_with_size(store):
    bucket = store.raw_bucket
    for i, key in enumerate(TRICKY_KEYS):
        store.put_bytes(bucket, key, b"x" * i)
    listed = store.list_objects(bucket, "")
    assert keys_of(listed) == sorted(TRICKY_KEYS, key=lambda k: k.encode("utf-8"))
    assert {o.key: o.size for o in listed} == {k: i for i, k in enumerate(TRICKY_KEYS)}


def test_prefix_is_a_string_prefix_not_a_folder(store):
    bucket = store.raw_bucket
    for key in TRICKY_KEYS:
        store.put_bytes(bucket, key, b"x")
    # A prefix that ends inside a name matches siblings that share its characters, as in S3.
    got = keys_of(store.list_objects(bucket, "landing/erp/customers"))
    assert got == sorted(k for k in TRICKY_KEYS if k.startswith("landing/erp/customers"))
    got = keys_of(store.list_objects(bucket, "landing/erp/customers/"))
    assert got == sorted(k for k in TRICKY_KEYS if k.startswith("landing/erp/customers/"))
    assert store.list_objects(bucket, "landing/sap/") == []


def test_start_after_skips_keys_up_to_and_including_it(store):
    bucket = store.raw_bucket
    for key in TRICKY_KEYS:
        store.put_bytes(bucket, key, b"x")
    everything = sorted(TRICKY_KEYS)
    for i, after in enumerate(everything):
        assert keys_of(store.list_objects(bucket, "", start_after=after)) == everything[i + 1 :]
    # StartAfter need not be an existing key: a batch folder name + '0' sorts after its files.
    after = "landing/erp/customers/20240101T000000Z0"
    assert keys_of(store.list_objects(bucket, "landing/erp/customers/", start_after=after)) == []
    after = "landing/erp/customers/20240101T000000Z/"
    assert keys_of(store.list_objects(bucket, "landing/erp/customers/", start_after=after)) == [
        "landing/erp/customers/20240101T000000Z/0001.csv",
        "landing/erp/customers/20240101T000000Z/_SUCCESS",
        "landing/erp/customers/20240101T000000Z/part-0.csv",
    ]


def test_max_keys_returns_the_first_keys_and_paging_resumes_with_start_after(store):
    bucket = store.raw_bucket
    keys = [f"p/{i:03d}/f.csv" for i in range(25)]
    put_many(store, bucket, keys)
    first = keys_of(store.list_objects(bucket, "p/", max_keys=10))
    second = keys_of(store.list_objects(bucket, "p/", start_after=first[-1], max_keys=10))
    third = keys_of(store.list_objects(bucket, "p/", start_after=second[-1], max_keys=10))
    assert first + second + third == keys
    assert len(third) == 5


def test_listing_a_missing_bucket_or_prefix_is_empty_not_an_error(store):
    assert store.list_objects(store.raw_bucket, "nothing/here/") == []


def test_put_get_exists_round_trip(store):
    bucket, key = store.source_bucket, "erp/customers/p_ingest_day=2024-01-01/part-0.parquet"
    assert not store.exists(bucket, key)
    store.put_bytes(bucket, key, b"\x00\x01parquet")
    assert store.exists(bucket, key)
    assert store.get_bytes(bucket, key) == b"\x00\x01parquet"
    store.put_bytes(bucket, key, b"replaced")
    assert store.get_bytes(bucket, key) == b"replaced"
    # A "folder" is not an object in either store.
    assert not store.exists(bucket, "erp/customers/")
    assert not store.exists(bucket, "erp/customers")


def test_missing_key_error_names_bucket_and_key(store):
    with pytest.raises(FileNotFoundError) as info:
        store.get_bytes(store.target_bucket, "sales/orders/missing.parquet")
    assert "s3://lake-target/sales/orders/missing.parquet" in str(info.value)


def test_sealing_a_batch_lists_its_data_files_with_size_and_etag_and_skips_markers(store):
    import hashlib

    prefix = "landing/erp/customers/20260101T000000Z/"
    store.put_bytes(store.raw_bucket, prefix + "a.csv", b"id\n1\n")
    store.put_bytes(store.raw_bucket, prefix + "_SUCCESS", b"")
    store.put_bytes(store.raw_bucket, prefix + ".a.csv.crc", b"x")
    [sealed] = store.seal(store.raw_bucket, prefix)
    assert (sealed.key, sealed.size) == (prefix + "a.csv", 5)
    # A single-part, unencrypted upload's ETag is its MD5 in S3; the local store gives the same.
    assert sealed.etag == hashlib.md5(b"id\n1\n").hexdigest()
    store.put_bytes(store.raw_bucket, prefix + "a.csv", b"id\n2\n")
    assert store.seal(store.raw_bucket, prefix)[0].etag != sealed.etag


def test_uri_is_an_s3_uri_in_both_environments(store):
    assert store.uri(store.raw_bucket, "landing/x") == "s3://lake-raw/landing/x"


@pytest.mark.aws
def test_s3_listing_beyond_1000_keys_uses_bounded_pages(aws):
    store = make_s3_store(aws)
    keys = [f"landing/t/{i:05d}.csv" for i in range(2600)]
    put_many(store, store.raw_bucket, keys)
    # Observe the real requests through botocore's event hooks: nothing is replaced.
    calls: list[dict] = []
    store.client.meta.events.register(
        "provide-client-params.s3.ListObjectsV2", lambda params, **_: calls.append(dict(params))
    )

    got = keys_of(store.list_objects(store.raw_bucket, "landing/t/", max_keys=2500))
    assert got == keys[:2500]
    assert [c["MaxKeys"] for c in calls] == [1000, 1000, 500]
    assert "ContinuationToken" in calls[1] and "ContinuationToken" in calls[2]

    calls.clear()
    rest = keys_of(store.list_objects(store.raw_bucket, "landing/t/", start_after=got[-1], max_keys=2500))
    assert rest == keys[2500:]
    assert len(calls) == 1 and calls[0]["StartAfter"] == got[-1]

    calls.clear()
    # A small cap is one small request, however large the prefix is.
    assert len(store.list_objects(store.raw_bucket, "landing/t/", max_keys=7)) == 7
    assert [c["MaxKeys"] for c in calls] == [7]
