"""Amazon S3."""

from __future__ import annotations

from lake_glue.args import ObjectListing
from lake_platform.resources.aws import AwsResource
from lake_platform.resources.object_store.base import ObjectInfo, ObjectStore


class S3ObjectStore(ObjectStore, AwsResource):
    """Amazon S3 through boto3; the client is created on first use."""

    @property
    def job_listing(self) -> ObjectListing:
        """Jobs list S3 with S3's own API, so ETags can be compared with the sealed ones."""
        return "s3"

    @property
    def client(self):
        """The lazily created boto3 S3 client."""
        return self.aws("s3")

    def list_objects(self, bucket, prefix, start_after=None, max_keys=1000):
        results: list[ObjectInfo] = []
        kwargs = {"Bucket": bucket, "Prefix": prefix}
        if start_after:
            kwargs["StartAfter"] = start_after
        while len(results) < max_keys:
            page = self.client.list_objects_v2(MaxKeys=min(1000, max_keys - len(results)), **kwargs)
            results.extend(
                ObjectInfo(o["Key"], o["Size"], o.get("ETag", "").strip('"') or None) for o in page.get("Contents", [])
            )
            if not page.get("IsTruncated"):
                break
            kwargs = {"Bucket": bucket, "Prefix": prefix, "ContinuationToken": page["NextContinuationToken"]}
        return results

    def exists(self, bucket, key):
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in ("404", "NoSuchKey", "NotFound"):
                return False
            if code in ("403", "AccessDenied", "Forbidden"):
                # S3 answers a missing key with 403 when the caller lacks an unconditioned
                # s3:ListBucket; 403 is also a missing GetObject or KMS grant. Reading it as
                # "absent" would wait for the object forever, so name the likely cause instead.
                raise PermissionError(
                    f"HeadObject s3://{bucket}/{key} was denied (403): the role needs s3:GetObject on the key"
                    f" and s3:ListBucket on bucket {bucket} without an s3:prefix condition (else S3 answers a"
                    " missing key with 403, not 404)"
                ) from exc
            raise
        return True

    def put_bytes(self, bucket, key, data):
        self.client.put_object(Bucket=bucket, Key=key, Body=data)

    def get_bytes(self, bucket, key):
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey"):
                raise FileNotFoundError(f"s3://{bucket}/{key} does not exist") from None
            raise
