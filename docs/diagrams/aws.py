"""The AWS deployment of photopipe, as sam/template.yaml and sam/pipeline.yaml create it.

Rendered to docs/images/aws.png by docs/diagrams/render.sh. Keep the names here equal to the
template's (`<Username>-…`), so the picture can be checked against it by grep.
"""

import sys

from diagrams import Edge
from diagrams.aws.compute import LambdaFunction
from diagrams.aws.database import Aurora, RDS
from diagrams.aws.devtools import Codebuild, Codepipeline
from diagrams.aws.general import Users
from diagrams.aws.integration import (
    SimpleNotificationServiceSnsEmailNotification,
    SimpleNotificationServiceSnsTopic,
    SimpleQueueServiceSqsQueue,
    StepFunctions,
)
from diagrams.aws.management import CloudformationStack, CloudwatchAlarm, CloudwatchLogs
from diagrams.aws.network import CloudFront
from diagrams.aws.security import SecretsManager
from diagrams.aws.storage import SimpleStorageServiceS3Bucket
from diagrams.onprem.vcs import Github

from style import FAIL, diagram, group

OUT = sys.argv[1] if len(sys.argv) > 1 else "../images/aws"

DEPLOY = {"color": "darkgreen", "fontcolor": "darkgreen"}

with diagram("photopipe on AWS (sam/template.yaml, sam/pipeline.yaml)", OUT, ranksep="1.5"):
    uploaders = Users("app users\n(uploads)")
    viewers = Users("gallery visitors")
    operators = SimpleNotificationServiceSnsEmailNotification("AlertEmail\n(operations centre)")

    with group("app stack <Username>-staging / <Username>-prod (sam/template.yaml)"):
        with group("upload"):
            input_bucket = SimpleStorageServiceS3Bucket("<Username>-image-bucket-input\n(private, versioned)")
            trigger = LambdaFunction("<Username>-trigger")
            dlq = SimpleQueueServiceSqsQueue("<Username>-trigger-dlq")

        with group("Step Functions STANDARD <Username>-pipeline\n(statemachine/photo_pipeline.asl.json)"):
            sfn = StepFunctions("execution named from\nbucket/key/version")
            validate = LambdaFunction("Validate\n<Username>-validate")
            resize = LambdaFunction("Resize\n<Username>-resize")
            catalog = LambdaFunction("Catalog\n<Username>-catalog")
            on_failure = LambdaFunction("OnFailure\n<Username>-on-failure")

        with group("website"):
            output_bucket = SimpleStorageServiceS3Bucket("<Username>-image-bucket-output\nthumbnails/, gallery.json,\nstatic_web_server/ files")
            website = CloudFront("CloudFront + OAC (HTTPS)\nor S3 website endpoint\n(parameter WebsiteMode)")

        with group("catalog database"):
            data_api = RDS("RDS Data API\n(HTTPS + IAM, no VPC)")
            secret = SecretsManager("master user secret\n(ManageMasterUserPassword)")
            aurora = Aurora("<Username>-catalog-db\nAurora MySQL Serverless v2\n0-2 ACU, file_upload_catalog")

        with group("failures and alerting"):
            log_bucket = SimpleStorageServiceS3Bucket("<Username>-log-bucket\nfailures/, alerts/, s3-access/")
            topic = SimpleNotificationServiceSnsTopic("<Username>-alerts")
            alarms = CloudwatchAlarm("9 CloudWatch alarms: executions\nfailed / timed out / throttled,\nLambda errors, DLQ messages")
            logs = CloudwatchLogs("6 log groups, retention\nLogRetentionDays (default 30)")

    with group("delivery stack (sam/pipeline.yaml)"):
        github = Github("GitHub, branch main\n(CodeConnections)")
        pipeline = Codepipeline("CodePipeline V2\n<Username>-photopipe")
        build_staging = Codebuild("CodeBuild\n<Username>-deploy-staging\nbuildspec.yml: .ci/test,\nsam/tests/run.sh,\nsam build, sam deploy")
        staging = CloudformationStack("stack\n<Username>-staging")
        approval = SimpleNotificationServiceSnsTopic("manual approval\n(<Username>-deploy-approvals)")
        build_prod = Codebuild("CodeBuild\n<Username>-deploy-prod\n(same buildspec.yml)")
        prod = CloudformationStack("stack\n<Username>-prod")

    # the happy path
    uploaders >> Edge(label="PUT object") >> input_bucket
    input_bucket >> Edge(label="ObjectCreated") >> trigger
    trigger >> Edge(label="StartExecution") >> sfn
    trigger >> Edge(label="event failed\n3 times", style="dotted") >> dlq
    sfn >> validate >> resize >> catalog
    validate >> Edge(label="ranged GET (header)", style="dotted") >> input_bucket
    resize >> Edge(label="PUT thumbnails/") >> output_bucket
    catalog >> Edge(label="PUT gallery.json") >> output_bucket
    catalog >> Edge(label="ExecuteStatement") >> data_api >> aurora
    data_api >> Edge(label="GetSecretValue\n(catalog's rights)", style="dotted") >> secret

    # the failure path
    validate >> Edge(label="Catch", **FAIL) >> on_failure
    resize >> Edge(label="Catch", **FAIL) >> on_failure
    catalog >> Edge(label="Catch", **FAIL) >> on_failure
    on_failure >> Edge(label="failure record", **FAIL) >> log_bucket
    on_failure >> Edge(label="Publish (10/hour,\nthen 1 burst notice)", **FAIL) >> topic
    alarms >> Edge(**FAIL) >> topic
    topic >> Edge(label="e-mail", **FAIL) >> operators

    # the website
    viewers >> Edge(label="GET /") >> website
    website >> Edge(label="s3:GetObject") >> output_bucket

    # delivery
    github >> Edge(label="push", **DEPLOY) >> pipeline >> Edge(**DEPLOY) >> build_staging
    build_staging >> Edge(label="sam deploy", **DEPLOY) >> staging
    build_staging >> Edge(label="succeeded", **DEPLOY) >> approval
    approval >> Edge(label="approved", **DEPLOY) >> build_prod
    build_prod >> Edge(label="sam deploy", **DEPLOY) >> prod
