"""The SQS queue of S3 landing events (EventBridge -> SQS), consumed by the landing queue sensor."""

from lake_platform.resources.aws import AwsResource


class LandingQueue(AwsResource):
    """The SQS queue of landing events; the client is created on first use."""

    queue_url: str

    @property
    def client(self):
        """The lazily created boto3 SQS client."""
        return self.aws("sqs")
