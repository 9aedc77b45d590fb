"""Generate docs/architecture.png, the deployed lake_platform architecture.

The picture is drawn from this code so it can be kept in step with terraform/ and CFN/.
Needs Graphviz (`dot`, Debian package `graphviz`) and the `diagrams` package, which is not a
project dependency (it is only needed to redraw the picture):

    python3 -m venv /tmp/venv-diagrams && /tmp/venv-diagrams/bin/pip install diagrams==0.25.1
    /tmp/venv-diagrams/bin/python docs/architecture.py
"""

from pathlib import Path

from diagrams import Cluster, Diagram, Edge
from diagrams.aws.analytics import Athena, Glue, GlueDataCatalog
from diagrams.aws.database import Dynamodb
from diagrams.aws.devtools import Codebuild
from diagrams.aws.integration import Eventbridge, SimpleNotificationServiceSns, StepFunctions
from diagrams.aws.management import Cloudformation, CloudwatchAlarm, CloudwatchLogs
from diagrams.aws.network import DirectConnect, Endpoint
from diagrams.aws.security import IdentityAndAccessManagementIam, KeyManagementService
from diagrams.aws.storage import SimpleStorageServiceS3Bucket as Bucket
from diagrams.onprem.client import Users
from diagrams.onprem.compute import Server
from diagrams.onprem.database import Postgresql
from diagrams.onprem.iac import Terraform
from diagrams.programming.language import Python

OUT = Path(__file__).resolve().parent / "architecture"

GRAPH = {
    "fontsize": "22",
    "fontname": "Helvetica",
    "pad": "0.4",
    "nodesep": "0.55",
    "ranksep": "0.9",
    "splines": "spline",
    "compound": "true",
    "newrank": "true",
}
NODE = {"fontsize": "12", "fontname": "Helvetica"}
EDGE = {"fontsize": "11", "fontname": "Helvetica"}

DATA = {"color": "#1f77b4", "penwidth": "2"}
CONTROL = {"color": "#2ca02c"}
ALERT = {"color": "#d62728", "style": "dashed"}
DEPLOY = {"color": "#7f7f7f", "style": "dotted"}

with Diagram(
    "lake_platform on AWS",
    filename=str(OUT),
    outformat="png",
    show=False,
    direction="LR",
    graph_attr=GRAPH,
    node_attr=NODE,
    edge_attr=EDGE,
):
    with Cluster("On-premise"):
        exports = Server("ERP exports\n(CSV / JSON lines)")
        jdbc = Postgresql("JDBC sources\n(optional)")
        dx = DirectConnect("Direct Connect / VPN")

    with Cluster("Deployment"):
        seed = Cloudformation("CFN/seed.yaml\n(state bucket, lock table)")
        codebuild = Codebuild("CodeBuild\nbuildspec.yml")
        terraform = Terraform("terraform/")

    with Cluster("Dagster code location: lake_platform"):
        dagster = Python("schedules, sensors,\nassets raw/source/target")
        engineers = Users("engineers &\nanalysts (UI)")

    with Cluster("AWS account (one region, one KMS CMK)"):
        with Cluster("Raw layer"):
            raw = Bucket("raw bucket\nlanding/<config>/<table>/<batch>/\n(versioned, IA after 30 d,\nGlacier IR after 90 d)")

        sfn = StepFunctions("Step Functions\nRunGlueJob (.sync)\nretry, NotifyFailure")

        with Cluster("Glue 5.0 jobs (one per etl_job)"):
            ingest = Glue("files-spark-ingest-default")
            prepare = Glue("dapfw-prepare-default")

        with Cluster("Source layer"):
            source = Bucket("source bucket\n<prefix>/<table>/ Parquet\n+ quarantine/")

        with Cluster("Target layer"):
            target = Bucket("target bucket\n<prefix>/<table>/ Parquet")

        catalog = GlueDataCatalog("Glue Data Catalog\none database per config")
        athena = Athena("Athena workgroup\n(enforced encryption,\nper-query scan cap)")

        with Cluster("DynamoDB (on demand, PITR, KMS)"):
            configs = Dynamodb("configs table\n(from configs/*.json)")
            partitions = Dynamodb("partitions table\n(batch registry)")

        with Cluster("Supporting buckets"):
            artifacts = Bucket("artifacts\nscripts, lake_glue.zip,\ndagster-pipes/ (7 d)")
            results = Bucket("Athena results\n(expire)")

        with Cluster("Monitoring and alerts"):
            logs = CloudwatchLogs("CloudWatch Logs\n(KMS, retention)")
            alarm = CloudwatchAlarm("ExecutionsFailed\nalarm")
            events = Eventbridge("EventBridge:\nGlue job failed")
            sns = SimpleNotificationServiceSns("SNS alerts\n(KMS)")

        with Cluster("Security"):
            kms = KeyManagementService("KMS CMK")
            iam = IdentityAndAccessManagementIam("IAM roles\n(least privilege)")
            endpoints = Endpoint("optional VPC:\nGlue connection, self-ref SG,\nS3/DynamoDB gateway endpoints")

    # Edges with the default constraint set the left-to-right columns; edges with
    # constraint=false are drawn but do not move nodes.
    loose = {"constraint": "false"}

    # Data path
    exports >> Edge(label="upload files + _SUCCESS", **DATA) >> raw
    raw >> Edge(**DATA) >> ingest >> Edge(label="Parquet", **DATA) >> source
    source >> Edge(**DATA) >> prepare >> Edge(label="Parquet", **DATA) >> target
    target >> Edge(**DATA) >> athena >> Edge(**DATA) >> results
    jdbc >> Edge(**DATA) >> dx >> Edge(label="JDBC over DX/VPN", **DATA) >> endpoints
    endpoints >> Edge(**DATA, **loose) >> ingest

    # Control path
    engineers >> Edge(label="materialize", **CONTROL) >> dagster
    dagster >> Edge(label="StartExecution", **CONTROL) >> sfn
    sfn >> Edge(label="startJobRun.sync", **CONTROL) >> [ingest, prepare]
    dagster >> Edge(label="sensor lists landing/", **CONTROL, **loose) >> raw
    dagster >> Edge(label="register batches", **CONTROL) >> partitions
    ingest >> Edge(label="read config", **CONTROL) >> configs
    prepare >> Edge(**CONTROL, **loose) >> configs
    prepare >> Edge(label="tables, partitions", **CONTROL) >> catalog
    ingest >> Edge(**CONTROL, **loose) >> catalog
    prepare >> Edge(label="Pipes messages", **CONTROL) >> artifacts
    ingest >> Edge(**CONTROL, **loose) >> artifacts
    artifacts >> Edge(label="Pipes reader", **CONTROL, **loose) >> dagster
    athena >> Edge(**CONTROL, **loose) >> catalog
    engineers >> Edge(label="SQL", **CONTROL, **loose) >> athena

    # Alerts
    ingest >> Edge(**ALERT) >> logs
    prepare >> Edge(**ALERT, **loose) >> logs
    ingest >> Edge(**ALERT) >> events
    prepare >> Edge(**ALERT, **loose) >> events
    events >> Edge(**ALERT) >> sns
    sfn >> Edge(**ALERT) >> alarm >> Edge(**ALERT) >> sns
    sfn >> Edge(label="NotifyFailure", **ALERT, **loose) >> sns

    # Deployment
    seed >> Edge(label="creates", **DEPLOY) >> codebuild >> Edge(label="test, plan, apply", **DEPLOY) >> terraform
    terraform >> Edge(label="deploys", **DEPLOY) >> [kms, iam]
