"""Offline IAM check: the seed's CodeBuild role (CFN/seed.yaml) can apply terraform/.

No AWS account runs here, so the check is static. ``PROVIDER_CALLS`` lists, per Terraform
resource (and data source) type in the tree, the IAM actions that the AWS provider's create,
read, tag and delete calls need, each with the ARN the provider calls it on and the request
context that conditions can see (tag-on-create tags, the permissions boundary of a new role, the
service a role is passed to). The table comes from reading the provider's source, cited per
entry (hashicorp/terraform-provider-aws, internal/service/...). A new resource type in the tree
fails the test until it has an entry.

The resource type each action takes comes from policy_sentry's IAM action database (in
.venv-iac): an action whose only resource is ``*`` must be granted on ``"*"``, and every other
ARN in the table must be one of the action's resource types. The role's statements are then
evaluated like IAM does for one request: an explicit Deny wins, an Allow needs a matching action,
a matching resource pattern and every condition satisfied by the request context. Every policy
document (the seed's and Terraform's parseable ones) is linted with parliament.
"""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from lake_platform_tests.iac.test_iac_terraform import load_dir, module_dirs, resources

pytestmark = pytest.mark.iac

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "CFN" / "seed.yaml"
IAC_PYTHON = REPO / ".venv-iac" / "bin" / "python"

PARTITION, REGION, ACCOUNT = "aws", "eu-west-1", "123456789012"
PROJECT, ENV = "lake-platform", "dev"
PREFIX = f"{PROJECT}-{ENV}"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/{PREFIX}-boundary"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
GLUE = f"arn:aws:glue:{REGION}:{ACCOUNT}"
BUCKET = f"arn:aws:s3:::{PREFIX}-{ACCOUNT}-raw"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-glue-job"
POLICY = f"arn:aws:iam::{ACCOUNT}:policy/{PREFIX}-dagster"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{PREFIX}-configs"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{PREFIX}-landing-events"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:{PREFIX}-alerts"
STATE_MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{PREFIX}-glue-runner"
JOB_LOGS = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws-glue/jobs/{PREFIX}"
ALARM = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{PREFIX}-landing-events-dead-letters"
RULE = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{PREFIX}-glue-job-failed"
WORKGROUP = f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/{PREFIX}-analysts"
EC2 = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
ECS = f"arn:aws:ecs:{REGION}:{ACCOUNT}"
RDS = f"arn:aws:rds:{REGION}:{ACCOUNT}"
ELB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}"
ECR_REPO = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{PREFIX}-dagster"
CLOUD_MAP = f"arn:aws:servicediscovery:{REGION}:{ACCOUNT}"
DAGSTER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-dagster-task"

# What the provider's default_tags put on every create request (terraform/main.tf local.tags).
REQUEST_TAGS = {"aws:RequestTag/project": PROJECT, "aws:RequestTag/environment": ENV}
# What the platform's own resources carry afterwards.
RESOURCE_TAGS = {"aws:ResourceTag/project": PROJECT, "aws:ResourceTag/environment": ENV}
WITH_BOUNDARY = {"iam:PermissionsBoundary": BOUNDARY}


class Call(NamedTuple):
    """One IAM authorization the provider's API call needs: action, resource ARN, request context."""

    action: str
    resource: str
    context: dict[str, str] = {}


def calls(actions: str, resource: str, context: dict[str, str] | None = None) -> list[Call]:
    return [Call(a, resource, context or {}) for a in actions.split()]


def service_linked_role(service: str, role_name: str) -> list[Call]:
    """The role a service creates as the caller on its first use in an account (ECS, ELB, RDS)."""
    arn = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/{service}/{role_name}"
    return [Call("iam:CreateServiceLinkedRole", arn, {"iam:AWSServiceName": service})]


# Resource type -> the IAM authorizations of its create/read/tag/delete calls.
PROVIDER_CALLS: dict[str, list[Call]] = {
    # Verified by reading hashicorp/terraform-provider-aws internal/service/kms/key.go (commit
    # 00a35305): resourceKeyCreate sends CreateKey with Tags: getTagsIn (tag-on-create, so
    # kms:TagResource is checked on "*" against the request tags), then waitTagsPropagated;
    # findKeyInfo (read) calls DescribeKey, GetKeyPolicy, GetKeyRotationStatus and listTags
    # (ListResourceTags); resourceKeyUpdate calls updateKeyRotationEnabled, updateKeyDescription
    # (UpdateKeyDescription, was missing here), updateKeyPolicy, EnableKey/DisableKey (is_enabled,
    # left out: terraform/ never changes it); resourceKeyDelete calls ScheduleKeyDeletion.
    "aws_kms_key": calls("kms:CreateKey kms:TagResource", "*", REQUEST_TAGS)
    + calls(
        "kms:DescribeKey kms:GetKeyPolicy kms:GetKeyRotationStatus kms:ListResourceTags kms:EnableKeyRotation"
        " kms:PutKeyPolicy kms:UpdateKeyDescription kms:ScheduleKeyDeletion kms:UntagResource",
        KEY,
        RESOURCE_TAGS,
    ),
    # Verified by reading internal/service/kms/alias.go (commit 01c08000): create CreateAlias
    # (retried on NotFound while the key propagates; authorized on the alias and the key); read
    # FindAliasByName (ListAliases, "*"); update UpdateAlias on a target_key_id change (alias,
    # old and new key; was missing here, the seed grants it); delete DeleteAlias.
    "aws_kms_alias": calls(
        "kms:CreateAlias kms:UpdateAlias kms:DeleteAlias", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/{PREFIX}"
    )
    + calls("kms:CreateAlias kms:UpdateAlias kms:DeleteAlias", KEY)
    + calls("kms:ListAliases", "*"),
    # Verified by reading internal/service/s3/bucket.go (commit 4c72bcc7, the SDKv1 version):
    # resourceBucketRead calls HeadBucket (s3:ListBucket), GetBucketPolicy, GetBucketAcl,
    # GetBucketCors, GetBucketWebsite, GetBucketVersioning, GetBucketAccelerateConfiguration,
    # GetBucketRequestPayment, GetBucketLogging, GetBucketLifecycleConfiguration,
    # GetBucketReplication, GetBucketEncryption, GetObjectLockConfiguration, GetBucketRegion (a HEAD,
    # s3:ListBucket) and GetBucketTagging; any AccessDenied among them fails the read. Five of
    # these reads (policy, versioning, logging, lifecycle, encryption) were missing here; the
    # seed's PlatformBuckets s3:* already grants them. resourceBucketDelete calls DeleteBucket.
    # Create and PutBucketTagging were not in the pages read; kept.
    "aws_s3_bucket": calls(
        "s3:CreateBucket s3:ListBucket s3:GetBucketTagging s3:PutBucketTagging s3:GetBucketPolicy s3:GetBucketAcl"
        " s3:GetBucketCORS s3:GetBucketWebsite s3:GetBucketVersioning s3:GetAccelerateConfiguration"
        " s3:GetBucketRequestPayment s3:GetBucketLogging s3:GetLifecycleConfiguration"
        " s3:GetReplicationConfiguration s3:GetEncryptionConfiguration s3:GetBucketObjectLockConfiguration"
        " s3:DeleteBucket",
        BUCKET,
    ),
    "aws_s3_bucket_lifecycle_configuration": calls("s3:PutLifecycleConfiguration s3:GetLifecycleConfiguration", BUCKET),
    "aws_s3_bucket_logging": calls("s3:PutBucketLogging s3:GetBucketLogging", BUCKET),
    "aws_s3_bucket_notification": calls("s3:PutBucketNotification s3:GetBucketNotification", BUCKET),
    "aws_s3_bucket_ownership_controls": calls("s3:PutBucketOwnershipControls s3:GetBucketOwnershipControls", BUCKET),
    "aws_s3_bucket_policy": calls("s3:PutBucketPolicy s3:GetBucketPolicy s3:DeleteBucketPolicy", BUCKET),
    "aws_s3_bucket_public_access_block": calls("s3:PutBucketPublicAccessBlock s3:GetBucketPublicAccessBlock", BUCKET),
    "aws_s3_bucket_server_side_encryption_configuration": calls(
        "s3:PutEncryptionConfiguration s3:GetEncryptionConfiguration", BUCKET
    ),
    "aws_s3_bucket_versioning": calls("s3:PutBucketVersioning s3:GetBucketVersioning", BUCKET),
    # s3/object.go: PutObject (with default_tags as Tagging), HeadObject, GetObjectTagging, DeleteObject.
    "aws_s3_object": calls(
        "s3:PutObject s3:GetObject s3:GetObjectTagging s3:PutObjectTagging s3:DeleteObject",
        f"arn:aws:s3:::{PREFIX}-{ACCOUNT}-artifacts/glue/scripts/x.py",
    ),
    # dynamodb/table.go: CreateTable (Tags), DescribeTable, DescribeContinuousBackups,
    # UpdateContinuousBackups, DescribeTimeToLive, ListTagsOfResource, DeleteTable.
    "aws_dynamodb_table": calls(
        "dynamodb:CreateTable dynamodb:DescribeTable dynamodb:DescribeContinuousBackups"
        " dynamodb:UpdateContinuousBackups dynamodb:DescribeTimeToLive dynamodb:ListTagsOfResource"
        " dynamodb:TagResource dynamodb:DeleteTable",
        TABLE,
    ),
    # dynamodb/table_item.go: PutItem, GetItem, DeleteItem.
    "aws_dynamodb_table_item": calls("dynamodb:PutItem dynamodb:GetItem dynamodb:DeleteItem", TABLE),
    # Partly verified: the stored internal/service/glue/catalog_database.go versions are old SDKv1
    # ones (commits 0075c786, 30893e2e, neither has tags yet); from resourceCatalogDatabaseUpdate
    # on they call UpdateDatabase,
    # FindDatabaseByName (GetDatabase) on read and DeleteDatabase, each with CatalogId + Name. Create
    # and the tagging path (GetTags/TagResource on the database ARN) were not opened there; kept.
    "aws_glue_catalog_database": calls("glue:CreateDatabase glue:GetDatabase glue:DeleteDatabase", f"{GLUE}:catalog")
    + calls(
        "glue:CreateDatabase glue:GetDatabase glue:UpdateDatabase glue:DeleteDatabase glue:GetTags glue:TagResource",
        f"{GLUE}:database/erp",
    ),
    # glue/catalog_table_optimizer.go (read at commit 00623fd8): Create calls CreateTableOptimizer
    # (the configuration's role_arn is passed to Glue), Read findCatalogTableOptimizer
    # (GetTableOptimizer), Update UpdateTableOptimizer, Delete DeleteTableOptimizer; no tags.
    "aws_glue_catalog_table_optimizer": calls(
        "glue:CreateTableOptimizer glue:GetTableOptimizer glue:UpdateTableOptimizer glue:DeleteTableOptimizer",
        f"{GLUE}:table/{PREFIX.replace('-', '_')}_erp/orders",
    )
    + calls(
        "glue:CreateTableOptimizer glue:GetTableOptimizer glue:UpdateTableOptimizer glue:DeleteTableOptimizer",
        f"{GLUE}:database/{PREFIX.replace('-', '_')}_erp",
    )
    + calls(
        "glue:CreateTableOptimizer glue:GetTableOptimizer glue:UpdateTableOptimizer glue:DeleteTableOptimizer",
        f"{GLUE}:catalog",
    )
    + calls(
        "iam:PassRole",
        f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-table-optimizer",
        {"iam:PassedToService": "glue.amazonaws.com"},
    ),
    # Partly verified: read internal/service/glue/job.go (commit 040b7cf1) from the end of read
    # on: update UpdateJob (passes the role again: iam:PassRole), delete DeleteJob. Create
    # (CreateJob with Tags) and read (GetJob; GetTags from the transparent tagging) not in the
    # page read; kept.
    "aws_glue_job": calls(
        "glue:CreateJob glue:GetJob glue:GetTags glue:TagResource glue:UpdateJob glue:DeleteJob",
        f"{GLUE}:job/{PREFIX}-files-spark-ingest-default",
    )
    + calls("iam:PassRole", ROLE, {"iam:PassedToService": "glue.amazonaws.com"}),
    # Verified by reading internal/service/glue/security_configuration.go (commit 01c08000): create
    # CreateSecurityConfiguration, read GetSecurityConfiguration, delete DeleteSecurityConfiguration,
    # all by name (no ARN exists, so "*"); no tags, no update.
    "aws_glue_security_configuration": calls(
        "glue:CreateSecurityConfiguration glue:GetSecurityConfiguration glue:DeleteSecurityConfiguration", "*"
    ),
    # Verified by reading internal/service/glue/data_catalog_encryption_settings.go (commit
    # 0620f2a6): create/update and delete (with empty settings) PutDataCatalogEncryptionSettings,
    # read GetDataCatalogEncryptionSettings, each with the account's CatalogId.
    "aws_glue_data_catalog_encryption_settings": calls(
        "glue:PutDataCatalogEncryptionSettings glue:GetDataCatalogEncryptionSettings", f"{GLUE}:catalog"
    ),
    # glue/connection.go: CreateConnection (catalog + connection), GetConnection, GetTags, DeleteConnection.
    "aws_glue_connection": calls(
        "glue:GetConnection glue:GetTags glue:TagResource glue:DeleteConnection",
        f"{GLUE}:connection/{PREFIX}-jdbc",
    )
    + calls("glue:CreateConnection glue:GetConnection glue:DeleteConnection", f"{GLUE}:catalog"),
    # Verified by reading internal/service/iam/role.go (commit 0040ea69): resourceRoleCreate sends
    # CreateRole with Tags (tag-on-create: iam:TagRole) and PermissionsBoundary; resourceRoleRead
    # calls GetRole (FindRoleByName), ListRolePolicies plus GetRolePolicy for every inline policy,
    # and ListAttachedRolePolicies; resourceRoleUpdate calls UpdateAssumeRolePolicy,
    # UpdateRoleDescription (on a description change; was missing here and in the seed),
    # UpdateRole, PutRolePermissionsBoundary, TagRole/UntagRole; DeleteRole first calls
    # ListInstanceProfilesForRole, then ListAttachedRolePolicies/DetachRolePolicy and
    # ListRolePolicies/DeleteRolePolicy when the role has policies, then DeleteRole.
    "aws_iam_role": calls("iam:CreateRole", ROLE, WITH_BOUNDARY)
    + calls(
        "iam:GetRole iam:TagRole iam:UntagRole iam:ListRolePolicies iam:GetRolePolicy iam:ListAttachedRolePolicies"
        " iam:UpdateAssumeRolePolicy iam:UpdateRoleDescription iam:UpdateRole iam:ListInstanceProfilesForRole"
        " iam:DetachRolePolicy iam:DeleteRolePolicy iam:DeleteRole",
        ROLE,
    )
    + calls("iam:PutRolePermissionsBoundary", ROLE, WITH_BOUNDARY),
    # Verified by reading internal/service/iam/role_policy.go (commit 02f97af8): create/update call
    # PutRolePolicy then wait with FindRolePolicyByTwoPartKey (GetRolePolicy); read GetRolePolicy;
    # delete DeleteRolePolicy. No tags.
    "aws_iam_role_policy": calls("iam:PutRolePolicy", ROLE, WITH_BOUNDARY)
    + calls("iam:GetRolePolicy iam:DeleteRolePolicy", ROLE),
    # Verified by reading internal/service/iam/policy.go (commit 01ccd9a2): resourcePolicyCreate
    # sends CreatePolicy with Tags (tag-on-create: iam:TagPolicy); resourcePolicyRead calls GetPolicy
    # and GetPolicyVersion (default version); resourcePolicyUpdate prunes with ListPolicyVersions/
    # DeletePolicyVersion, then CreatePolicyVersion(SetAsDefault false) and SetDefaultPolicyVersion
    # (was missing here and in the seed: every policy change would fail); resourcePolicyDelete
    # lists versions, deletes the non-default ones and calls DeletePolicy.
    "aws_iam_policy": calls(
        "iam:CreatePolicy iam:TagPolicy iam:GetPolicy iam:GetPolicyVersion iam:ListPolicyVersions"
        " iam:CreatePolicyVersion iam:SetDefaultPolicyVersion iam:DeletePolicyVersion iam:DeletePolicy",
        POLICY,
    ),
    # Verified by reading internal/service/iam/role_policy_attachment.go (commit 04c79849):
    # attachPolicyToRole (AttachRolePolicy), read RoleHasPolicyARNAttachment
    # (ListAttachedRolePolicies, paged), delete DetachPolicyFromRole (DetachRolePolicy). No tags.
    "aws_iam_role_policy_attachment": calls("iam:AttachRolePolicy", ROLE, WITH_BOUNDARY)
    + calls("iam:ListAttachedRolePolicies iam:DetachRolePolicy", ROLE),
    # Verified by reading internal/service/sfn/state_machine.go (commit 01f43111): CustomizeDiff
    # stateMachineDefinitionValidate calls ValidateStateMachineDefinition at plan time; create
    # CreateStateMachine with Tags, RoleArn (iam:PassRole), logging, tracing and encryption
    # configuration (retried on AccessDenied for IAM propagation); read findStateMachineByARN
    # (DescribeStateMachine) and then ListStateMachineVersions, which `states:*StateMachine` does
    # not match: every read, including the one right after create, was AccessDenied, so the
    # first apply stopped at the state machine (added to the seed); update UpdateStateMachine and
    # DescribeStateMachine; delete DeleteStateMachine and wait. Logging makes Step Functions
    # create a log delivery as the caller (AWS docs, not the provider).
    "aws_sfn_state_machine": calls("states:ValidateStateMachineDefinition", "*")
    + calls(
        "states:CreateStateMachine states:DescribeStateMachine states:ListStateMachineVersions"
        " states:ListTagsForResource states:TagResource"
        " states:UpdateStateMachine states:DeleteStateMachine",
        STATE_MACHINE,
    )
    + calls(
        "iam:PassRole",
        f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-sfn-glue-runner",
        {"iam:PassedToService": "states.amazonaws.com"},
    )
    + calls(
        "logs:CreateLogDelivery logs:GetLogDelivery logs:UpdateLogDelivery logs:DeleteLogDelivery"
        " logs:ListLogDeliveries logs:PutResourcePolicy logs:DescribeResourcePolicies logs:DescribeLogGroups",
        "*",
    ),
    # Verified by reading internal/service/sns/topic.go (commit 00a35305): create CreateTopic with
    # Tags (tag-on-create: sns:TagResource), then putTopicAttributes (SetTopicAttributes once per
    # attribute, KmsMasterKeyId among them, retried on ABAC AccessDenied); read GetTopicAttributes;
    # update SetTopicAttributes; delete DeleteTopic; @Tags(identifierAttribute=arn) lists with
    # ListTagsForResource.
    "aws_sns_topic": calls(
        "sns:CreateTopic sns:GetTopicAttributes sns:SetTopicAttributes sns:ListTagsForResource sns:TagResource"
        " sns:DeleteTopic",
        TOPIC,
    ),
    # sns/topic_policy.go: SetTopicAttributes(Policy), GetTopicAttributes.
    "aws_sns_topic_policy": calls("sns:SetTopicAttributes sns:GetTopicAttributes", TOPIC),
    # Verified by reading internal/service/sns/topic_subscription.go (commit 04a2e6e5): create
    # Subscribe on the topic (attributes inline, ReturnSubscriptionArn; no wait for email); read
    # GetSubscriptionAttributes; update putSubscriptionAttributes (SetSubscriptionAttributes, was
    # missing here and in the seed: changing a subscription attribute would fail); delete
    # Unsubscribe and wait. The subscription actions take only "*".
    "aws_sns_topic_subscription": calls("sns:Subscribe", TOPIC)
    + calls("sns:GetSubscriptionAttributes sns:SetSubscriptionAttributes sns:Unsubscribe", "*"),
    # Partly verified: read internal/service/sqs/queue.go (commit 00a35305) from the end of
    # resourceQueueCreate on: CreateQueue with tags (tag-on-create needs sqs:TagQueue; createTags
    # after create only where the partition lacks it), waitQueueAttributesPropagated and
    # resourceQueueRead use GetQueueAttributes(All), resourceQueueUpdate SetQueueAttributes,
    # resourceQueueDelete DeleteQueue + GetQueueAttributes wait. ListQueueTags comes from the
    # transparent tagging (not opened). No GetQueueUrl call in the parts read; kept until the
    # start of resourceQueueCreate is checked.
    "aws_sqs_queue": calls(
        "sqs:CreateQueue sqs:TagQueue sqs:GetQueueUrl sqs:GetQueueAttributes sqs:ListQueueTags"
        " sqs:SetQueueAttributes sqs:DeleteQueue",
        QUEUE,
    ),
    # Verified against internal/service/sqs/queue_policy.go (stored version 0148137d, SDKv1): upsert
    # and delete call SetQueueAttributes (Policy / empty Policy) and wait on GetQueueAttributes;
    # read uses FindQueuePolicyByURL (GetQueueAttributes). No tagging.
    "aws_sqs_queue_policy": calls("sqs:SetQueueAttributes sqs:GetQueueAttributes", QUEUE),
    # Verified by reading internal/service/logs/group.go (commit 0073593e): create sends
    # CreateLogGroup with Tags (tag-on-create: logs:TagResource) and KmsKeyId, then
    # PutRetentionPolicy; read findLogGroupByName (DescribeLogGroups by prefix, takes "*"); the
    # transparent tagging reads ListTagsForResource; update PutRetentionPolicy and AssociateKmsKey
    # (DeleteRetentionPolicy/DisassociateKmsKey only when those are removed, which the tree never
    # does); delete DeleteLogGroup. Both scopes the tree uses are checked: Glue job logs and the
    # Dagster module's /ecs/ groups.
    "aws_cloudwatch_log_group": calls(
        "logs:CreateLogGroup logs:PutRetentionPolicy logs:AssociateKmsKey logs:ListTagsForResource logs:TagResource"
        " logs:DeleteLogGroup",
        JOB_LOGS,
    )
    + calls(
        "logs:CreateLogGroup logs:PutRetentionPolicy logs:AssociateKmsKey logs:ListTagsForResource logs:TagResource"
        " logs:DeleteLogGroup",
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/{PREFIX}-dagster/webserver",
    )
    + calls("logs:DescribeLogGroups", "*"),
    # Verified by reading internal/service/cloudwatch/metric_alarm.go (commit 055611a6): create
    # first calls findMetricAlarmByName (DescribeAlarms) to refuse an existing alarm, then
    # PutMetricAlarm with Tags (tag-on-create: cloudwatch:TagResource); read DescribeAlarms;
    # update PutMetricAlarm; delete DeleteAlarms; the transparent tagging reads
    # ListTagsForResource. Checked on the monitoring module's and the Dagster module's alarm names.
    "aws_cloudwatch_metric_alarm": calls(
        "cloudwatch:PutMetricAlarm cloudwatch:DescribeAlarms cloudwatch:ListTagsForResource cloudwatch:TagResource"
        " cloudwatch:DeleteAlarms",
        ALARM,
    )
    + calls(
        "cloudwatch:PutMetricAlarm cloudwatch:DescribeAlarms cloudwatch:ListTagsForResource cloudwatch:TagResource"
        " cloudwatch:DeleteAlarms",
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{PREFIX}-dagster-daemon-not-running",
    ),
    # Verified by reading internal/service/events/rule.go (commit 0cdab4ae): create retryPutRule
    # (PutRule with Tags: tag-on-create, events:TagResource) and wait with findRuleByTwoPartKey
    # (DescribeRule); read DescribeRule; update PutRule again with the tags (for aws:RequestTag);
    # delete DeleteRule (retried while targets remain). The transparent tagging (@Tags) lists
    # with ListTagsForResource and removes a dropped tag with UntagResource (was missing here and
    # in the seed: removing a tag from the rule would fail).
    "aws_cloudwatch_event_rule": calls(
        "events:PutRule events:DescribeRule events:ListTagsForResource events:TagResource events:UntagResource"
        " events:DeleteRule",
        RULE,
    ),
    # Verified by reading internal/service/events/target.go (commit 0762c41e): create and update
    # PutTargets (FailedEntries checked); read findTargetByThreePartKey (ListTargetsByRule);
    # delete RemoveTargets. No tags; the module's targets (SNS, SQS) pass no role.
    "aws_cloudwatch_event_target": calls("events:PutTargets events:ListTargetsByRule events:RemoveTargets", RULE),
    # Partly verified: read internal/service/athena/workgroup.go (commit 0148137d) from the end of
    # read on: update UpdateWorkGroup and UpdateTags (TagResource/UntagResource); delete
    # DeleteWorkGroup (RecursiveDeleteOption with force_destroy). Create (CreateWorkGroup with
    # Tags) and read (GetWorkGroup, ListTagsForResource) were not in the page read; kept.
    "aws_athena_workgroup": calls(
        "athena:CreateWorkGroup athena:GetWorkGroup athena:ListTagsForResource athena:TagResource"
        " athena:UpdateWorkGroup athena:DeleteWorkGroup",
        WORKGROUP,
    ),
    # Partly verified: read internal/service/ec2/vpc_security_group.go (commit 01606926) from the
    # end of read on: read DescribeSecurityGroups (tags come with it); update
    # Revoke/AuthorizeSecurityGroupIngress/Egress; delete deleteLingeringENIs
    # (DescribeNetworkInterfaces), DeleteSecurityGroup (retried on DependencyViolation) and wait.
    # Create (CreateSecurityGroup with TagSpecifications, revoking the default egress rule) was
    # not in the page read; kept.
    "aws_security_group": calls(
        "ec2:CreateSecurityGroup ec2:CreateTags ec2:RevokeSecurityGroupEgress ec2:DeleteSecurityGroup",
        f"{EC2}:security-group/sg-0123456789abcdef0",
    )
    + calls("ec2:CreateSecurityGroup", f"{EC2}:vpc/vpc-0123456789abcdef0")
    + calls("ec2:DescribeSecurityGroups ec2:DescribeNetworkInterfaces", "*"),
    # Verified for the ingress rule by reading internal/service/ec2/vpc_security_group_ingress_rule.go
    # (commit 00a32209): Create AuthorizeSecurityGroupIngress, then UpdateTags (ec2:CreateTags on
    # the new security-group-rule); Read FindSecurityGroupIngressRuleByID
    # (DescribeSecurityGroupRules); Update ModifySecurityGroupRules (was missing here and in the
    # seed: changing a rule's port or description would fail) and UpdateTags; Delete
    # RevokeSecurityGroupIngress. The egress rule file was not opened; the same calls with Egress
    # are assumed (it shares the rule implementation).
    "aws_vpc_security_group_egress_rule": calls(
        "ec2:AuthorizeSecurityGroupEgress ec2:ModifySecurityGroupRules ec2:RevokeSecurityGroupEgress",
        f"{EC2}:security-group/sg-0123456789abcdef0",
    )
    + calls("ec2:CreateTags", f"{EC2}:security-group-rule/sgr-0123456789abcdef0")
    + calls("ec2:DescribeSecurityGroupRules", "*"),
    "aws_vpc_security_group_ingress_rule": calls(
        "ec2:AuthorizeSecurityGroupIngress ec2:ModifySecurityGroupRules ec2:RevokeSecurityGroupIngress",
        f"{EC2}:security-group/sg-0123456789abcdef0",
    )
    + calls("ec2:CreateTags", f"{EC2}:security-group-rule/sgr-0123456789abcdef0")
    + calls("ec2:DescribeSecurityGroupRules", "*"),
    # ec2/vpc_endpoint.go: CreateVpcEndpoint (TagSpecifications), DescribeVpcEndpoints,
    # DescribePrefixLists, ModifyVpcEndpoint, DeleteVpcEndpoints.
    "aws_vpc_endpoint": calls(
        "ec2:CreateVpcEndpoint ec2:CreateTags ec2:ModifyVpcEndpoint ec2:DeleteVpcEndpoints",
        f"{EC2}:vpc-endpoint/vpce-0123456789abcdef0",
    )
    + calls("ec2:DescribeVpcEndpoints ec2:DescribePrefixLists", "*"),
    # modules/dagster (issue 20). Verified by reading internal/service/ecs/service.go (commit
    # 00a919d1): resourceServiceUpdate calls UpdateService (retried on IAM propagation) and waits
    # with DescribeServices; resourceServiceDelete reads the service, drains it with
    # UpdateService(DesiredCount 0), then DeleteService and waits for INACTIVE;
    # serviceCreateWithRetry calls CreateService and retries "Unable to assume the service linked
    # role": ECS creates AWSServiceRoleForECS as the caller on first use in an account
    # (iam:CreateServiceLinkedRole, was missing here and in the seed). The body of
    # resourceServiceCreate (Tags, propagate_tags) was not in the pages read; the transparent
    # tagging (@Tags identifierAttribute=id) adds TagResource/ListTagsForResource.
    "aws_ecs_service": calls(
        "ecs:CreateService ecs:DescribeServices ecs:UpdateService ecs:DeleteService ecs:TagResource"
        " ecs:ListTagsForResource",
        f"{ECS}:service/{PREFIX}-dagster/daemon",
    )
    + service_linked_role("ecs.amazonaws.com", "AWSServiceRoleForECS"),
    # Verified by reading internal/service/ecs/cluster.go (commit 00a35305): resourceClusterCreate
    # sends CreateCluster with Tags (tag-on-create: ecs:TagResource on the cluster) and settings
    # through retryClusterCreate, which retries "Unable to assume the service linked role" (ECS
    # creates AWSServiceRoleForECS as the caller on first use: iam:CreateServiceLinkedRole, was
    # missing), then waitClusterAvailable; read findClusterByNameOrARN = DescribeClusters with
    # Include TAGS/CONFIGURATIONS/SETTINGS; update UpdateCluster; delete DeleteCluster and wait.
    "aws_ecs_cluster": calls(
        "ecs:CreateCluster ecs:DescribeClusters ecs:UpdateCluster ecs:DeleteCluster ecs:TagResource"
        " ecs:ListTagsForResource",
        f"{ECS}:cluster/{PREFIX}-dagster",
    )
    + service_linked_role("ecs.amazonaws.com", "AWSServiceRoleForECS"),
    # Verified by reading internal/service/ecs/task_definition.go (commit 04fc21d5) from the end of
    # create on: RegisterTaskDefinition with Tags (tag-on-create; passes the task and execution
    # roles), UpdateTags after create only where the partition lacks tag-on-create; read
    # DescribeTaskDefinition with Include TAGS; update UpdateTags (TagResource/UntagResource);
    # delete DeregisterTaskDefinition (unless skip_destroy).
    "aws_ecs_task_definition": calls("ecs:RegisterTaskDefinition", "*", REQUEST_TAGS)
    + calls("ecs:DescribeTaskDefinition ecs:DeregisterTaskDefinition", "*")
    + calls("ecs:TagResource ecs:ListTagsForResource", f"{ECS}:task-definition/{PREFIX}-dagster-code:1")
    + calls("iam:PassRole", DAGSTER_ROLE, {"iam:PassedToService": "ecs-tasks.amazonaws.com"}),
    # Verified by reading internal/service/servicediscovery/private_dns_namespace.go (commit
    # 00a35305): create sends CreatePrivateDnsNamespace with Tags and waitOperationSucceeded
    # (GetOperation); read findNamespaceByID (GetNamespace); update UpdatePrivateDnsNamespace on a
    # description change (was missing here and in the seed; the module sets a description that
    # names the prefix) and GetOperation; delete DeleteNamespace and GetOperation. Cloud Map
    # creates the private hosted zone with the caller's Route 53 and EC2 permissions (AWS docs,
    # not the provider).
    "aws_service_discovery_private_dns_namespace": calls(
        "servicediscovery:CreatePrivateDnsNamespace servicediscovery:GetOperation servicediscovery:TagResource"
        " servicediscovery:ListTagsForResource route53:CreateHostedZone route53:ListHostedZonesByName ec2:DescribeVpcs",
        "*",
        REQUEST_TAGS,
    )
    + calls(
        "servicediscovery:GetNamespace servicediscovery:UpdatePrivateDnsNamespace servicediscovery:DeleteNamespace",
        f"{CLOUD_MAP}:namespace/ns-0123456789abcdef",
        RESOURCE_TAGS,
    )
    + calls(
        "route53:GetHostedZone route53:DeleteHostedZone route53:ChangeTagsForResource",
        "arn:aws:route53:::hostedzone/Z0123456789",
    ),
    # Verified by reading internal/service/servicediscovery/service.go (commit 034cebb6): create
    # CreateService (NamespaceId, Tags); read findServiceByID (GetService); update UpdateService and
    # GetOperation; delete DeleteService (ListInstances/DeregisterInstance only with force_destroy,
    # which the module leaves false).
    "aws_service_discovery_service": calls(
        "servicediscovery:CreateService", f"{CLOUD_MAP}:namespace/ns-0123456789abcdef", RESOURCE_TAGS
    )
    + calls(
        "servicediscovery:GetService servicediscovery:UpdateService servicediscovery:DeleteService",
        f"{CLOUD_MAP}:service/srv-0123456789abcdef",
        RESOURCE_TAGS,
    )
    + calls("servicediscovery:TagResource", "*", REQUEST_TAGS)
    + calls("servicediscovery:ListTagsForResource", "*"),
    # Verified by reading internal/service/rds/subnet_group.go (commit 01c08000): create
    # CreateDBSubnetGroup with Tags (tag-on-create: rds:AddTagsToResource); read
    # FindDBSubnetGroupByName (DescribeDBSubnetGroups) and ListTags (ListTagsForResource); update
    # ModifyDBSubnetGroup and UpdateTags; delete DeleteDBSubnetGroup and wait (Describe).
    "aws_db_subnet_group": calls(
        "rds:CreateDBSubnetGroup rds:DescribeDBSubnetGroups rds:ModifyDBSubnetGroup rds:DeleteDBSubnetGroup"
        " rds:AddTagsToResource rds:ListTagsForResource",
        f"{RDS}:subgrp:{PREFIX}-dagster",
    ),
    # Verified by reading internal/service/rds/parameter_group.go (commit 01606926): create
    # CreateDBParameterGroup with Tags, then the update path: ModifyDBParameterGroup (the module's
    # three parameters, on the first apply) and ResetDBParameterGroup for removed ones; read
    # DescribeDBParameterGroups and DescribeDBParameters; delete DeleteDBParameterGroup (retried
    # while in use). name_prefix gives <prefix>-dagster-<suffix>.
    "aws_db_parameter_group": calls(
        "rds:CreateDBParameterGroup rds:DescribeDBParameterGroups rds:DescribeDBParameters"
        " rds:ModifyDBParameterGroup rds:ResetDBParameterGroup rds:DeleteDBParameterGroup"
        " rds:AddTagsToResource rds:ListTagsForResource",
        f"{RDS}:pg:{PREFIX}-dagster-0123",
    ),
    # Partly verified: the stored internal/service/rds/instance.go (commit 00e4b238) predates
    # manage_master_user_password. Its create sends CreateDBInstance with Tags (tag-on-create:
    # rds:AddTagsToResource), the subnet and parameter group names and KMS key, then
    # waitDBInstanceCreated and ModifyDBInstance when needed; read FindDBInstanceByID
    # (DescribeDBInstances) and ListTags (rds:ListTagsForResource); update ModifyDBInstance.
    # RDS creates AWSServiceRoleForRDS as the caller on first use in an account
    # (iam:CreateServiceLinkedRole, AWS docs; was missing). Delete (final snapshot) not opened.
    # manage_master_user_password makes RDS create the secret as the caller
    # (secretsmanager:CreateSecret/TagResource on rds!db-*) and the KMS grants for storage,
    # Performance Insights and the secret (kms:CreateGrant/DescribeKey, ManagePlatformKey).
    "aws_db_instance": calls(
        "rds:CreateDBInstance rds:DescribeDBInstances rds:ModifyDBInstance rds:DeleteDBInstance"
        " rds:AddTagsToResource rds:ListTagsForResource",
        f"{RDS}:db:{PREFIX}-dagster",
    )
    + calls("rds:CreateDBInstance", f"{RDS}:subgrp:{PREFIX}-dagster")
    + calls("rds:CreateDBInstance", f"{RDS}:pg:{PREFIX}-dagster-0123")
    + calls("rds:CreateDBSnapshot", f"{RDS}:snapshot:{PREFIX}-dagster-final")
    + calls(
        "secretsmanager:CreateSecret secretsmanager:TagResource secretsmanager:DescribeSecret",
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!db-0123-AbCdEf",
    )
    + calls("kms:CreateGrant kms:DescribeKey", KEY, RESOURCE_TAGS)
    + service_linked_role("rds.amazonaws.com", "AWSServiceRoleForRDS"),
    # Verified by reading internal/service/elbv2/load_balancer.go (commit 00edc94b) from the end of
    # create on: create always calls ModifyLoadBalancerAttributes for an ALB (access logs, the
    # attribute map) and waits with DescribeLoadBalancers; read findLoadBalancerByARN
    # (DescribeLoadBalancers), findLoadBalancerAttributesByARN (DescribeLoadBalancerAttributes) and
    # findCapacityReservationByARN (DescribeCapacityReservation: AccessDenied is tolerated, so
    # not listed); update ModifyLoadBalancerAttributes, SetSecurityGroups, SetSubnets; delete
    # DeleteLoadBalancer then ec2:DescribeNetworkInterfaces (ec2:Describe* in the seed).
    # CreateLoadBalancer with Tags (AddTags is checked) was not in the pages read; ELB creates
    # AWSServiceRoleForElasticLoadBalancing as the caller on first use (AWS docs; was missing).
    "aws_lb": calls(
        "elasticloadbalancing:CreateLoadBalancer elasticloadbalancing:AddTags"
        " elasticloadbalancing:ModifyLoadBalancerAttributes elasticloadbalancing:SetSecurityGroups"
        " elasticloadbalancing:DeleteLoadBalancer",
        f"{ELB}:loadbalancer/app/{PREFIX}-dagster-ui/0123456789abcdef",
    )
    + calls(
        "elasticloadbalancing:DescribeLoadBalancers elasticloadbalancing:DescribeLoadBalancerAttributes"
        " elasticloadbalancing:DescribeTags ec2:DescribeNetworkInterfaces",
        "*",
    )
    + service_linked_role("elasticloadbalancing.amazonaws.com", "AWSServiceRoleForElasticLoadBalancing"),
    # Verified by reading internal/service/elbv2/target_group.go (commit 013cfb4c) from read on:
    # read DescribeTargetGroups and DescribeTargetGroupAttributes; update ModifyTargetGroup
    # (health check) and ModifyTargetGroupAttributes; delete DeleteTargetGroup (retried while a
    # listener uses it). CreateTargetGroup (Tags: AddTags checked) was not in the page read.
    "aws_lb_target_group": calls(
        "elasticloadbalancing:CreateTargetGroup elasticloadbalancing:AddTags elasticloadbalancing:ModifyTargetGroup"
        " elasticloadbalancing:ModifyTargetGroupAttributes elasticloadbalancing:DeleteTargetGroup",
        f"{ELB}:targetgroup/{PREFIX}-dagster-ui/0123456789abcdef",
    )
    + calls("elasticloadbalancing:DescribeTargetGroups elasticloadbalancing:DescribeTargetGroupAttributes", "*"),
    # Partly verified: read internal/service/elbv2/listener.go (commit 01c08000) from the end of
    # update on: update ends with the tag update (AddTags/RemoveTags), delete DeleteListener,
    # retryListenerCreate calls CreateListener (retried on CertificateNotFound). The create body
    # (Tags) and read (DescribeListeners) were not in the page read; kept.
    "aws_lb_listener": calls(
        "elasticloadbalancing:CreateListener",
        f"{ELB}:loadbalancer/app/{PREFIX}-dagster-ui/0123456789abcdef",
    )
    + calls(
        "elasticloadbalancing:AddTags elasticloadbalancing:ModifyListener elasticloadbalancing:DeleteListener",
        f"{ELB}:listener/app/{PREFIX}-dagster-ui/0123456789abcdef/0123456789abcdef",
    )
    + calls("elasticloadbalancing:DescribeListeners", "*"),
    # Verified by reading internal/service/ecr/repository.go (commit 0072eea2) from the end of
    # create on: CreateRepository with Tags (tag-on-create), image scanning and encryption
    # configuration (KMS: ECR creates a grant as the caller, AWS docs); read DescribeRepositories
    # (retried while new) and ListTags (ListTagsForResource); update PutImageTagMutability,
    # PutImageScanningConfiguration, UpdateTags; delete DeleteRepository then DescribeRepositories.
    "aws_ecr_repository": calls(
        "ecr:CreateRepository ecr:DescribeRepositories ecr:ListTagsForResource ecr:TagResource"
        " ecr:PutImageScanningConfiguration ecr:PutImageTagMutability ecr:DeleteRepository",
        ECR_REPO,
    )
    + calls("kms:CreateGrant kms:DescribeKey", KEY, RESOURCE_TAGS),
    # Verified by reading internal/service/ecr/lifecycle_policy.go (commit 00a35305): create
    # PutLifecyclePolicy; read GetLifecyclePolicy (retried while new); delete DeleteLifecyclePolicy.
    "aws_ecr_lifecycle_policy": calls(
        "ecr:PutLifecyclePolicy ecr:GetLifecyclePolicy ecr:DeleteLifecyclePolicy", ECR_REPO
    ),
    # Data sources: sts/caller_identity_data_source.go, ec2/vpc_subnet_data_source.go; the others
    # make no AWS call (aws_partition, aws_region and aws_iam_policy_document are computed
    # locally, archive_file is the archive provider).
    "data.aws_caller_identity": calls("sts:GetCallerIdentity", "*"),
    "data.aws_subnet": calls("ec2:DescribeSubnets", "*"),
    "data.aws_partition": [],
    "data.aws_region": [],
    "data.aws_iam_policy_document": [],
    "data.archive_file": [],
}

# Resource types that AWS documents for an action but that policy_sentry's snapshot of the
# Service Authorization Reference lacks: Glue's tag actions on catalog databases ("Specifying
# AWS Glue resource ARNs"; the provider's transparent tagging of aws_glue_catalog_database and
# aws_glue_connection).
ACTION_DATABASE_GAPS = {
    (action, kind) for action in ("glue:GetTags", "glue:TagResource") for kind in ("database", "connection")
}


# Seed template -> concrete policy statements
def _resolve(node: Any, names: dict[str, str]) -> Any:
    """CloudFormation intrinsics (Sub, Ref, GetAtt, Join, Split) with fixed account values."""
    if isinstance(node, list):
        return [_resolve(n, names) for n in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((fn, arg),) = node.items()
        if fn == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], _resolve(arg[1], names))
            return re.sub(r"\$\{([^}]+)\}", lambda m: {**names, **extra}[m.group(1)], text)
        if fn == "Ref":
            return names[arg]
        if fn == "Fn::GetAtt":
            return names[".".join(arg) if isinstance(arg, list) else arg]
        if fn == "Fn::Join":
            return arg[0].join(_resolve(arg[1], names))
        if fn == "Fn::Split":
            return _resolve(arg[1], names).split(arg[0])
    return {k: _resolve(v, names) for k, v in node.items()}


def seed_names() -> dict[str, str]:
    return {
        "AWS::Partition": PARTITION,
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "ProjectName": PROJECT,
        "Environment": ENV,
        "StateBucket.Arn": f"arn:aws:s3:::{PREFIX}-{ACCOUNT}-tfstate",
        "LockTable.Arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{PREFIX}-tflock",
        "BootstrapKey.Arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/bootstrap",
        "BuildLogGroup.Arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/codebuild/{PREFIX}-deploy:*",
        "PermissionsBoundary": BOUNDARY,
    }


def seed_template() -> dict[str, Any]:
    from cfnlint.decode import decode

    parsed, matches = decode(str(SEED))
    assert not matches, [str(m) for m in matches]
    return parsed


def seed_role_statements() -> list[dict[str, Any]]:
    role = seed_template()["Resources"]["CodeBuildRole"]["Properties"]
    names = seed_names()
    return [s for p in role["Policies"] for s in _resolve(p["PolicyDocument"], names)["Statement"]]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def _conditions_hold(statement: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in statement.get("Condition", {}).items():
        for key, wanted in tests.items():
            have = context.get(key)
            if have is None:
                return False
            values = [str(w) for w in _listed(wanted)]
            if operator in ("StringEquals", "ArnEquals"):
                ok = have in values
            elif operator in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(have, w) for w in values)
            else:
                raise AssertionError(f"CFN/seed.yaml {statement.get('Sid')}: add condition operator {operator}")
            if not ok:
                return False
    return True


def _matches(statement: dict[str, Any], call: Call) -> bool:
    actions = _listed(statement["Action"])
    resources = _listed(statement["Resource"])
    return (
        any(_glob(a, call.action) for a in actions)
        and any(r == "*" or (call.resource != "*" and _glob(r, call.resource)) for r in resources)
        and _conditions_hold(statement, call.context)
    )


def allowed(statements: list[dict[str, Any]], call: Call) -> bool:
    """IAM's evaluation for one request: explicit Deny wins, then any Allow."""
    if any(s["Effect"] == "Deny" and _matches(s, call) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and _matches(s, call) for s in statements)


# Terraform tree and the IAM action database
def tree_resource_types() -> set[str]:
    types: set[str] = set()
    for directory in module_dirs():
        module = load_dir(directory)
        types |= {rtype for rtype, _ in resources(module)}
        types |= {f"data.{rtype}" for rtype, _ in resources(module, "data")}
    return types


_IAC_SCRIPT = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
from policy_sentry.querying.actions import get_action_data
from parliament import analyze_policy_string

request = json.load(sys.stdin)
formats = {}
for action in request["actions"]:
    service, name = action.split(":")
    data = get_action_data(service, name) or {}
    formats[action] = [row["resource_arn_format"] for row in data.get(service, [])]
findings = {}
for label, document in request["policies"].items():
    policy = analyze_policy_string(json.dumps(document))
    findings[label] = [[f.issue, f.detail] for f in policy.findings]
json.dump({"formats": formats, "findings": findings}, sys.stdout)
"""


def iac_database(actions: set[str], policies: dict[str, Any]) -> dict[str, Any]:
    """ARN formats per action (policy_sentry) and parliament findings per policy, from .venv-iac."""
    if not IAC_PYTHON.is_file():
        pytest.fail("install the IaC tools: make .venv-iac/.installed (requirements-iac.txt)", pytrace=False)
    done = subprocess.run(
        [str(IAC_PYTHON), "-c", _IAC_SCRIPT],
        input=json.dumps({"actions": sorted(actions), "policies": policies}),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(done.stdout)


def _arn_regex(arn_format: str) -> re.Pattern[str]:
    """``arn:${Partition}:glue:${Region}:${Account}:database/${DatabaseName}`` -> a regex (names may hold "/")."""
    return re.compile("^" + ".+".join(re.escape(part) for part in re.split(r"\$\{[^}]+\}", arn_format)) + "$")


def resource_type_of(arn: str, arn_formats: list[str]) -> str | None:
    """The resource type name (e.g. ``database``) whose ARN format matches ``arn``."""
    for arn_format in arn_formats:
        if arn_format != "*" and _arn_regex(arn_format).match(arn):
            return arn_format
    return None


# Policy documents to lint
_KNOWN_INTERPOLATIONS = {
    "partition": PARTITION,
    "region": REGION,
    "account_id": ACCOUNT,
    "name_prefix": PREFIX,
    "glue_database_prefix": PREFIX.replace("-", "_") + "_",
}


def _literal(value: str) -> str | None:
    """A policy string with Terraform interpolations replaced by sample values; None if it is a bare reference."""
    if value != "*" and not value.startswith("arn:") and "amazonaws.com" not in value:
        return None  # built from another resource's attribute (bucket ARN + "/*"): not parseable here

    def sample(match: re.Match[str]) -> str:
        name = re.split(r"[.\[]", match.group(1))[-1]
        return _KNOWN_INTERPOLATIONS.get(name, "sample")

    return re.sub(r"\$\{([^}]+)\}", sample, value)


def _statement_of(block: dict[str, Any]) -> dict[str, Any] | None:
    """An aws_iam_policy_document statement block as JSON, or None when its resources are expressions."""
    resources = block.get("resources", ["*"])
    if not isinstance(resources, list):
        return None
    literal = [_literal(r) for r in resources]
    if any(r is None for r in literal):
        return None
    statement: dict[str, Any] = {"Effect": block.get("effect", "Allow"), "Action": block.get("actions", [])}
    statement["Resource"] = literal
    for principal in block.get("principals", []):
        ids = principal["identifiers"]
        if principal["type"] == "*":
            statement["Principal"] = "*"
        elif isinstance(ids, list) and all(_literal(i) for i in ids):
            statement["Principal"] = {principal["type"]: [_literal(i) for i in ids]}
        else:
            return None
    conditions: dict[str, dict[str, Any]] = {}
    for condition in block.get("condition", []):
        values = condition["values"]
        if not isinstance(values, list) or any(_literal(v) is None for v in values):
            return None
        conditions.setdefault(condition["test"], {})[condition["variable"]] = [_literal(v) for v in values]
    if conditions:
        statement["Condition"] = conditions
    return statement


def policy_statements_to_lint() -> dict[str, dict[str, Any]]:
    """Every statement of the seed's policies and of Terraform's policy documents, one document each."""
    documents: dict[str, dict[str, Any]] = {}
    template = seed_template()
    role = template["Resources"]["CodeBuildRole"]["Properties"]
    for policy in role["Policies"]:
        for st in _resolve(policy["PolicyDocument"], seed_names())["Statement"]:
            documents[f"CFN/seed.yaml CodeBuildRole {policy['PolicyName']} {st['Sid']}"] = st
    boundary = template["Resources"]["PermissionsBoundary"]["Properties"]["PolicyDocument"]
    for st in boundary["Statement"]:
        documents[f"CFN/seed.yaml PermissionsBoundary {st['Sid']}"] = st
    for directory in module_dirs():
        for (rtype, rname), body in resources(load_dir(directory), "data").items():
            if rtype != "aws_iam_policy_document":
                continue
            for i, block in enumerate(body.get("statement", [])):
                statement = _statement_of(block)
                if statement is not None:
                    label = f"terraform/{directory.name}: {rname} statement {block.get('sid', i)}"
                    documents[label] = statement
    return {label: {"Version": "2012-10-17", "Statement": [st]} for label, st in documents.items()}


def real_findings(label: str, document: dict[str, Any], findings: list[list[Any]]) -> list[str]:
    """parliament's findings that are defects here.

    Not defects: actions that a wildcard (``s3:*``) expands to (only the actions written out are
    judged); ``RESOURCE_STAR`` where a Condition scopes the statement (tag conditions on KMS), in
    resource policies (``"*"`` is the resource itself) and in the permissions boundary (it grants
    nothing); ``MISMATCHED_TYPE_BUT_USABLE`` (StringEquals on iam:PermissionsBoundary, as AWS
    documents it); ``ArnLike`` on ``kms:EncryptionContext:aws:logs:arn``, which is how the CloudWatch
    Logs guide ("Encrypt log data using AWS KMS") writes the key policy.
    """
    (statement,) = document["Statement"]
    written = {a.lower() for a in _listed(statement["Action"])}
    real = []
    for issue, detail in findings:
        if issue == "MISMATCHED_TYPE_BUT_USABLE":
            continue
        logs_context = statement.get("Condition", {}).get("ArnLike", {}).get("kms:EncryptionContext:aws:logs:arn")
        if issue == "MISMATCHED_TYPE" and logs_context and "ArnLike requires a value of type Arn" in str(detail):
            continue
        if issue == "UNKNOWN_CONDITION_FOR_ACTION" and str(detail).rsplit(" ", 1)[-1].lower() not in written:
            continue
        if issue == "RESOURCE_STAR":
            if "Condition" in statement or "Principal" in statement or "PermissionsBoundary" in label:
                continue
            detail = [a for a in detail if a.lower() in written]
        if issue == "RESOURCE_MISMATCH":
            detail = [d for d in detail if d["action"].lower() in written and d["required_format"] == "*"]
        if detail or issue not in ("RESOURCE_STAR", "RESOURCE_MISMATCH"):
            real.append(f"{label}: {issue} {detail}")
    return real


# Tests
def test_every_terraform_resource_type_in_the_tree_has_its_provider_calls_listed():
    missing = tree_resource_types() - set(PROVIDER_CALLS)
    assert not missing, f"add the IAM actions of {sorted(missing)} to PROVIDER_CALLS ({Path(__file__).name})"


@pytest.fixture(scope="module")
def action_database() -> dict[str, Any]:
    actions = {c.action for cs in PROVIDER_CALLS.values() for c in cs}
    return iac_database(actions, policy_statements_to_lint())


def test_provider_calls_name_real_actions_on_the_resource_type_each_takes(action_database):
    problems = []
    for rtype, cs in PROVIDER_CALLS.items():
        for c in cs:
            formats = action_database["formats"][c.action]
            if not formats:
                problems.append(f"{rtype}: {c.action} is not in the IAM action database")
            elif set(formats) == {"*"}:
                if c.resource != "*":
                    problems.append(f"{rtype}: {c.action} takes only Resource '*', not {c.resource}")
            elif c.resource != "*" and resource_type_of(c.resource, formats) is None:
                kind = c.resource.split(":")[5].split("/")[0] if c.resource.count(":") >= 5 else c.resource
                if (c.action, kind) not in ACTION_DATABASE_GAPS:
                    problems.append(f"{rtype}: {c.action} takes none of {formats} for {c.resource}")
    assert problems == []


def test_seed_codebuild_role_grants_every_call_terraform_apply_makes(action_database):
    statements = seed_role_statements()
    denied = [
        f"{rtype}: {c.action} on {c.resource}" + (f" with {c.context}" if c.context else "")
        for rtype, cs in sorted(PROVIDER_CALLS.items())
        for c in cs
        if not allowed(statements, c)
    ]
    assert denied == [], "CFN/seed.yaml CodeBuildRole would get AccessDenied for:\n" + "\n".join(denied)


def test_seed_role_cannot_create_roles_without_the_boundary_or_change_itself_or_the_boundary():
    statements = seed_role_statements()
    own_role = f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-codebuild"
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"):
        assert not allowed(statements, Call(action, ROLE)), f"{action} without the permissions boundary"
    for action in ("iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:DeleteRolePolicy"):
        assert not allowed(statements, Call(action, own_role, WITH_BOUNDARY)), f"{action} on the CodeBuild role"
    for action in ("iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:SetDefaultPolicyVersion"):
        assert not allowed(statements, Call(action, BOUNDARY)), f"{action} on the boundary policy"
    assert not allowed(statements, Call("iam:DeleteRolePermissionsBoundary", ROLE))
    assert not allowed(statements, Call("iam:PassRole", ROLE, {"iam:PassedToService": "ec2.amazonaws.com"}))
    # Glue jobs of another environment or team are out of reach.
    assert not allowed(statements, Call("glue:UpdateJob", f"{GLUE}:job/lake-platform-prod-x"))
    assert not allowed(statements, Call("glue:DeleteJob", f"{GLUE}:job/someone-elses-job"))


def test_every_role_terraform_creates_carries_the_permissions_boundary_variable():
    for directory in module_dirs():
        for (rtype, rname), body in resources(load_dir(directory)).items():
            if rtype == "aws_iam_role":
                assert (
                    body.get("permissions_boundary") == "${var.permissions_boundary_arn}"
                ), f"{directory.name}: aws_iam_role.{rname} needs permissions_boundary = var.permissions_boundary_arn"


def test_parliament_finds_nothing_in_the_seed_and_terraform_policy_documents(action_database):
    documents = policy_statements_to_lint()
    assert any(label.startswith("terraform/") for label in documents), "no Terraform policy was parseable"
    problems = [
        problem
        for label, findings in action_database["findings"].items()
        for problem in real_findings(label, documents[label], findings)
    ]
    assert problems == []
