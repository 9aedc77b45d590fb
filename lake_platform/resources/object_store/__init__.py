"""Object store: folders on disk locally, S3 in AWS. Keys are listed in S3's lexical order.

The interface is in ``base``; ``local`` holds the embedded default and ``aws`` the AWS implementation.
"""

from lake_platform.resources.object_store.base import ObjectInfo, ObjectStore, is_data_file

__all__ = ["ObjectInfo", "ObjectStore", "is_data_file"]
