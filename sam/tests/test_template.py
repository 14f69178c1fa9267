"""sam/template.yaml and sam/pipeline.yaml: linted, transformed offline, created in moto.

What these tests cannot show, because nothing here reaches AWS and moto runs no Lambda code:
- that the Rust binaries run (moto stores the zips; that needs Docker) — the Lambda tests do;
- bucket settings other than encryption (moto's AWS::S3::Bucket applies only
  BucketEncryption and Tags: versioning, public access block, lifecycle, website, logging
  and the S3 -> trigger notification are asserted statically), bucket policies, the topic
  policy, alarms, CloudFront (OAC, distribution) and the custom
  resource: moto's CloudFormation does not model them (moto_stack.UNMODELLED), so they are
  asserted on the processed template only ("static" tests below);
- Aurora: moto's RDS keeps the scaling configuration but does not scale, pause or resume;
  it reports the Data API (HttpEndpointEnabled) as off for Serverless v2, and has no Data
  API at all, so EnableHttpEndpoint, the engine version's support for 0 ACU and the
  migration are asserted statically;
- Step Functions: moto stores the definition without applying DefinitionSubstitutions, so
  the substituted ARNs are checked against the template's mapping, not moto's state machine;
- Lambda: moto's CloudFormation drops Architectures, TracingConfig and DeadLetterConfig
  (asserted statically);
- IAM: moto stores the policies but this test does not evaluate them against requests; the
  per-role statements are compared with the intended least-privilege sets instead.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import moto_stack
import samtemplate

SAM_DIR = samtemplate.SAM_DIR
REPO = samtemplate.REPO
VENVS = Path(os.environ.get("PHOTOPIPE_VENVS", Path.home() / ".cache" / "photopipe-venvs"))
TEMPLATES = [SAM_DIR / "template.yaml", SAM_DIR / "pipeline.yaml"]
ASL = REPO / "statemachine" / "photo_pipeline.asl.json"

MODES = {
    # one Username per website mode, so both stacks live in one moto without collisions
    "S3Website": {"Username": "alice", "AlertEmail": "ops@example.com", "WebsiteMode": "S3Website"},
    "CloudFront": {"Username": "bob-2", "AlertEmail": "ops@example.com", "WebsiteMode": "CloudFront"},
}
DEFAULTS = {
    "DatabaseName": "photopipe",
    "DbEngineVersion": "8.0.mysql_aurora.3.08.2",
    "DbMaxCapacity": "2",
    "DbSecondsUntilAutoPause": "300",
    "DeletionProtection": "false",
}

# Every property that names a resource, per resource type.
NAME_FIELDS = {
    "AWS::S3::Bucket": ["BucketName"],
    "AWS::Lambda::Function": ["FunctionName"],
    "AWS::StepFunctions::StateMachine": ["StateMachineName"],
    "AWS::SNS::Topic": ["TopicName"],
    "AWS::SQS::Queue": ["QueueName"],
    "AWS::RDS::DBCluster": ["DBClusterIdentifier"],
    "AWS::RDS::DBInstance": ["DBInstanceIdentifier"],
    "AWS::IAM::Role": ["RoleName"],
    "AWS::CloudWatch::Alarm": ["AlarmName"],
    "AWS::Logs::LogGroup": ["LogGroupName"],
    "AWS::CloudFront::OriginAccessControl": ["OriginAccessControlConfig.Name"],
    "AWS::CloudFront::Distribution": ["DistributionConfig.Comment"],
}
# Types with no name of their own (they attach to a named resource) or named by AWS.
UNNAMED = {
    "AWS::S3::BucketPolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::Lambda::Permission",
    "Custom::CatalogSchema",
}


def tool(venv: str, name: str) -> str:
    return os.environ.get(f"PHOTOPIPE_{name.upper().replace('-', '_')}", str(VENVS / venv / "bin" / name))


@pytest.fixture(scope="session")
def sam_template():
    return samtemplate.load_sam_template()


@pytest.fixture(scope="session", params=list(MODES))
def mode(request):
    return request.param


@pytest.fixture(scope="session")
def parameters(mode):
    return {**DEFAULTS, **MODES[mode]}


@pytest.fixture(scope="session")
def processed(sam_template, parameters):
    os.environ.setdefault("AWS_DEFAULT_REGION", moto_stack.REGION)
    return samtemplate.transform(sam_template, parameters)


@pytest.fixture(scope="session")
def moto():
    server = moto_stack.MotoServer(tool("moto", "moto_server"))
    moto_stack.upload_code(
        server,
        samtemplate.ARTIFACT_BUCKET,
        list(samtemplate.binaries(samtemplate.load_sam_template()).values()),
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stack(moto, processed, parameters, mode):
    cluster = moto_stack.create_database(moto, processed, parameters)
    template = moto_stack.for_moto(processed, cluster)
    used = {k: v for k, v in parameters.items() if k in template["Parameters"]}
    created = moto_stack.create_stack(moto, f"photopipe-{parameters['Username']}", template, used)
    assert created["StackStatus"] == "CREATE_COMPLETE", created.get("StackStatusReason")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in created.get("Outputs", [])}
    return {"stack": created, "outputs": outputs, "cluster": cluster}


def resources_of(template: dict, resource_type: str) -> dict:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def resolve(value, parameters: dict) -> str:
    """Fn::Sub / Ref over parameters and pseudo parameters, to check names."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return parameters[value["Ref"]]
    text = value["Fn::Sub"]
    if isinstance(text, list):
        text = text[0]
    for name, parameter in {**parameters, "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}.items():
        text = text.replace("${" + name + "}", parameter)
    return text


# ----------------------------------------------------------------------------- linters


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_cfn_lint_clean(template):
    result = subprocess.run([tool("cfn-lint", "cfn-lint"), str(template)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_checkov_clean(template):
    result = subprocess.run(
        [tool("checkov", "checkov"), "-f", str(template), "--framework", "cloudformation",
         "--compact", "--quiet", "--skip-download", "--output", "json"],
        capture_output=True, text=True,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )
    report = json.loads(result.stdout) if result.stdout.strip().startswith(("{", "[")) else None
    assert report is not None, result.stdout[-2000:] + result.stderr[-2000:]
    reports = report if isinstance(report, list) else [report]
    failed = [
        f"{check['check_id']} {check['resource']}"
        for r in reports for check in r.get("results", {}).get("failed_checks", [])
    ]
    assert failed == []
    # every skip carries its reason in place
    for r in reports:
        for check in r.get("results", {}).get("skipped_checks", []):
            assert len((check.get("check_result") or {}).get("suppress_comment", "")) > 20, check["check_id"]


def asl_validator() -> str:
    return os.environ.get("PHOTOPIPE_ASL_VALIDATOR", str(SAM_DIR / "tests" / "node_modules" / ".bin" / "asl-validator"))


def test_asl_valid_as_written_and_substituted(processed):
    result = subprocess.run([asl_validator(), "--json-path", str(ASL)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    text = ASL.read_text()
    substitutions = resources_of(processed, "AWS::StepFunctions::StateMachine")["PipelineStateMachine"]["Properties"]["DefinitionSubstitutions"]
    for name in substitutions:
        text = text.replace("${" + name + "}", f"arn:aws:lambda:us-east-1:123456789012:function:x-{name}")
    assert "${" not in text
    result = subprocess.run([asl_validator(), "--json-definition", text], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_asl_validator_rejects_a_broken_definition():
    broken = json.loads(ASL.read_text())
    broken["States"]["Validate"]["Next"] = "NoSuchState"
    result = subprocess.run([asl_validator(), "--json-definition", json.dumps(broken)], capture_output=True, text=True)
    assert result.returncode != 0


# -------------------------------------------------------------------- static: template


def test_every_named_resource_carries_the_username(processed, parameters):
    username = parameters["Username"]
    for logical_id, resource in processed["Resources"].items():
        if resource["Type"] in UNNAMED:
            continue
        fields = NAME_FIELDS.get(resource["Type"])
        assert fields, f"{logical_id}: {resource['Type']} has no name field listed"
        for field in fields:
            value = resource["Properties"]
            for part in field.split("."):
                value = value[part]
            name = resolve(value, parameters)
            assert name.split("/")[-1].startswith(f"{username}-") or name.startswith(f"{username} "), (logical_id, name)


def test_state_machine_substitutes_exactly_the_placeholders(processed):
    machine = processed["Resources"]["PipelineStateMachine"]["Properties"]
    placeholders = {p.split("}")[0] for p in ASL.read_text().split("${")[1:]}
    assert set(machine["DefinitionSubstitutions"]) == placeholders
    for name, arn in machine["DefinitionSubstitutions"].items():
        assert arn["Fn::GetAtt"][1] == "Arn"
    assert machine["StateMachineType"] == "STANDARD"
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["LoggingConfiguration"]["Level"] == "ERROR"
    assert machine["LoggingConfiguration"]["IncludeExecutionData"] is False


def test_functions_are_arm64_rust_builds(sam_template, processed):
    assert samtemplate.binaries(sam_template) == {
        "TriggerFunction": "trigger",
        "ValidateFunction": "validate",
        "ResizeFunction": "resize",
        "CatalogFunction": "catalog",
        "OnFailureFunction": "on_failure",
    }
    for logical_id in samtemplate.binaries(sam_template):
        assert sam_template["Resources"][logical_id]["Metadata"]["BuildMethod"] == "rust-cargolambda"
        props = processed["Resources"][logical_id]["Properties"]
        assert props["Runtime"] == "provided.al2023"
        assert props["Architectures"] == ["arm64"]
        assert props["Handler"] == "bootstrap"
        assert "VpcConfig" not in props
        assert props["TracingConfig"] == {"Mode": "Active"}
    dead_letters = processed["Resources"]["TriggerFunction"]["Properties"]["DeadLetterConfig"]
    assert dead_letters == {"TargetArn": {"Fn::GetAtt": ["TriggerDeadLetterQueue", "Arn"]}}
    for logical_id in samtemplate.binaries(sam_template):
        expected_memory = {"Ref": "ResizeMemorySize"} if logical_id == "ResizeFunction" else 128
        assert processed["Resources"][logical_id]["Properties"]["MemorySize"] == expected_memory


def test_function_timeouts_outlast_their_state_timeouts(processed):
    """A state timeout (States.Timeout) is retried by the definition; a Lambda timeout is not."""
    states = json.loads(ASL.read_text())["States"]
    for state, logical_id in [("Validate", "ValidateFunction"), ("Resize", "ResizeFunction"),
                              ("Catalog", "CatalogFunction"), ("OnFailure", "OnFailureFunction")]:
        assert processed["Resources"][logical_id]["Properties"]["Timeout"] > states[state]["TimeoutSeconds"]


def statements(processed: dict, role: str) -> dict[str, tuple]:
    """Sid -> (actions, resources) of a role's inline policy, with names resolved."""
    out = {}
    for policy in processed["Resources"][role]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            out[statement["Sid"]] = (sorted(actions), [json.dumps(r, sort_keys=True) if not isinstance(r, str) else r for r in resources])
    return out


def test_roles_are_least_privilege(processed, parameters):
    u = parameters["Username"]
    sub = lambda text: json.dumps({"Fn::Sub": text}, sort_keys=True)  # noqa: E731
    getatt = lambda *a: json.dumps({"Fn::GetAtt": list(a)}, sort_keys=True)  # noqa: E731
    ref = lambda name: json.dumps({"Ref": name}, sort_keys=True)  # noqa: E731
    logs = lambda fn: (["logs:CreateLogStream", "logs:PutLogEvents"], [sub(f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:/aws/lambda/${{Username}}-{fn}:*")])  # noqa: E731
    xray = (["xray:PutTelemetryRecords", "xray:PutTraceSegments"], ["*"])
    input_objects = sub("arn:${AWS::Partition}:s3:::${Username}-image-bucket-input/*")
    expected = {
        "TriggerRole": {
            "StartPipelineExecutions": (["states:StartExecution"], [ref("PipelineStateMachine")]),
            "DeadLetters": (["sqs:SendMessage"], [getatt("TriggerDeadLetterQueue", "Arn")]),
            "OwnLogs": logs("trigger"), "XRayTraces": xray,
        },
        "ValidateRole": {
            "ReadUploads": (["s3:GetObject", "s3:GetObjectVersion"], [input_objects]),
            "OwnLogs": logs("validate"), "XRayTraces": xray,
        },
        "ResizeRole": {
            "ReadUploads": (["s3:GetObject", "s3:GetObjectVersion"], [input_objects]),
            "WriteThumbnails": (["s3:PutObject"], [sub("arn:${AWS::Partition}:s3:::${Username}-image-bucket-output/thumbnails/*")]),
            "OwnLogs": logs("resize"), "XRayTraces": xray,
        },
        "CatalogRole": {
            "DataApi": (["rds-data:ExecuteStatement"], [sub("arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster:${Username}-catalog-db")]),
            "DataApiCredentials": (["secretsmanager:GetSecretValue"], [getatt("DbCluster", "MasterUserSecret.SecretArn")]),
            "WriteGallery": (["s3:PutObject"], [sub("arn:${AWS::Partition}:s3:::${Username}-image-bucket-output/gallery.json")]),
            "OwnLogs": logs("catalog"), "XRayTraces": xray,
        },
        "OnFailureRole": {
            "FailureRecordsAndAlertBookkeeping": (["s3:GetObject", "s3:PutObject"], [
                sub("arn:${AWS::Partition}:s3:::${Username}-log-bucket/failures/*"),
                sub("arn:${AWS::Partition}:s3:::${Username}-log-bucket/alerts/*")]),
            "ListOwnPrefixes": (["s3:ListBucket"], [sub("arn:${AWS::Partition}:s3:::${Username}-log-bucket")]),
            "Alert": (["sns:Publish"], [ref("AlertTopic")]),
            "OwnLogs": logs("on-failure"), "XRayTraces": xray,
        },
    }
    for role, sids in expected.items():
        assert statements(processed, role) == sids, role
    machine = statements(processed, "StateMachineRole")
    assert machine["InvokeSteps"] == (["lambda:InvokeFunction"], [
        getatt(f, "Arn") for f in ["ValidateFunction", "ResizeFunction", "CatalogFunction", "OnFailureFunction"]])
    assert set(machine) == {"InvokeSteps", "LogDelivery", "XRayTraces"}
    assert all(a.startswith("logs:") for a in machine["LogDelivery"][0])
    for role in resources_of(processed, "AWS::IAM::Role").values():
        assert not role["Properties"].get("ManagedPolicyArns"), "no managed policies (no *FullAccess)"
    assert u  # names are checked by test_every_named_resource_carries_the_username


# ------------------------------------------- static: what moto's CloudFormation skips


def test_static_bucket_policies_and_website_mode(processed, mode):
    policies = resources_of(processed, "AWS::S3::BucketPolicy")
    assert {"InputBucketPolicy", "LogBucketPolicy"} <= set(policies)
    for policy in policies.values():
        sids = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
        deny = [s for s in sids.values() if s["Effect"] == "Deny"]
        assert deny and all(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in deny)
    # Conditions are not evaluated by the translator: both policies exist, each with its condition.
    assert policies["OutputBucketPolicyWebsite"]["Condition"] == "IsS3Website"
    assert policies["OutputBucketPolicyCloudFront"]["Condition"] == "IsCloudFront"
    public = policies["OutputBucketPolicyWebsite"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert public["Principal"] == "*" and public["Action"] == "s3:GetObject"
    oac = policies["OutputBucketPolicyCloudFront"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert oac["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert "AWS:SourceArn" in oac["Condition"]["StringEquals"]
    distribution = processed["Resources"]["Distribution"]
    assert distribution["Condition"] == "IsCloudFront"
    config = distribution["Properties"]["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["Origins"][0]["OriginAccessControlId"] == {"Fn::GetAtt": ["OriginAccessControl", "Id"]}


def test_static_bucket_properties(processed, mode):
    """What moto's AWS::S3::Bucket ignores (it applies only BucketEncryption and Tags)."""
    buckets = resources_of(processed, "AWS::S3::Bucket")
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        block = props["PublicAccessBlockConfiguration"]
        assert block["BlockPublicAcls"] is True and block["IgnorePublicAcls"] is True
    for private in ("InputBucket", "LogBucket"):
        assert set(buckets[private]["Properties"]["PublicAccessBlockConfiguration"].values()) == {True}
    output = buckets["OutputBucket"]["Properties"]
    assert output["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] == {"Fn::If": ["IsS3Website", False, True]}
    assert output["WebsiteConfiguration"]["Fn::If"][0] == "IsS3Website"
    assert output["WebsiteConfiguration"]["Fn::If"][1] == {"IndexDocument": "index.html", "ErrorDocument": "error.html"}
    assert buckets["InputBucket"]["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {r["Id"]: r for r in buckets["LogBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert (rules["expire-alert-bookkeeping"]["Prefix"], rules["expire-alert-bookkeeping"]["ExpirationInDays"]) == ("alerts/", 7)
    assert (rules["expire-failure-records"]["Prefix"], rules["expire-failure-records"]["ExpirationInDays"]) == ("failures/", 400)
    notification = buckets["InputBucket"]["Properties"]["NotificationConfiguration"]
    assert notification == {"LambdaConfigurations": [
        {"Event": "s3:ObjectCreated:*", "Function": {"Fn::GetAtt": ["TriggerFunction", "Arn"]}}]}
    # the bucket waits for the permission, or S3 refuses the notification at creation
    assert "TriggerFunctionUploadPermission" in buckets["InputBucket"]["DependsOn"]


def test_static_alarms_publish_to_the_topic(processed):
    alarms = resources_of(processed, "AWS::CloudWatch::Alarm")
    metrics = sorted((a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in alarms.values())
    assert metrics == sorted([
        ("AWS/States", "ExecutionsFailed"), ("AWS/States", "ExecutionsTimedOut"), ("AWS/States", "ExecutionThrottled"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    ] + [("AWS/Lambda", "Errors")] * 5)
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlertTopic"}]
    topic_policy = resources_of(processed, "AWS::SNS::TopicPolicy")["AlertTopicPolicy"]["Properties"]["PolicyDocument"]
    principals = [s["Principal"] for s in topic_policy["Statement"] if s["Effect"] == "Allow"]
    assert {"Service": "cloudwatch.amazonaws.com"} in principals


def test_static_aurora_scales_to_zero_with_the_data_api(processed):
    cluster = processed["Resources"]["DbCluster"]
    props = cluster["Properties"]
    assert props["Engine"] == "aurora-mysql"
    assert props["EnableHttpEndpoint"] is True
    assert props["ManageMasterUserPassword"] is True
    assert props["StorageEncrypted"] is True
    assert props["ServerlessV2ScalingConfiguration"]["MinCapacity"] == 0
    assert cluster["DeletionPolicy"] == "Snapshot"
    # 0 ACU needs Aurora MySQL 3.08.0 or later.
    default = processed["Parameters"]["DbEngineVersion"]["Default"]
    major, minor, _patch = (int(x) for x in default.split("mysql_aurora.")[1].split("."))
    assert (major, minor) >= (3, 8), default
    instance = processed["Resources"]["DbInstance"]["Properties"]
    assert instance["DBInstanceClass"] == "db.serverless"
    assert instance["PubliclyAccessible"] is False


def test_static_migration_custom_resource(processed):
    schema = processed["Resources"]["CatalogSchema"]
    assert schema["Properties"]["ServiceToken"] == {"Fn::GetAtt": ["CatalogFunction", "Arn"]}
    assert "DbInstance" in ([schema["DependsOn"]] if isinstance(schema["DependsOn"], str) else schema["DependsOn"])
    assert set(schema["Properties"]) == {"ServiceToken", "SchemaVersion", "Database"}


# ----------------------------------------------------------------- created in moto


def test_stack_creates_in_moto(stack, moto, parameters, mode):
    u = parameters["Username"]
    outputs = stack["outputs"]
    s3 = moto.client("s3")
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert {f"{u}-image-bucket-input", f"{u}-image-bucket-output", f"{u}-log-bucket"} <= buckets
    assert outputs["InputBucketName"] == f"{u}-image-bucket-input"
    for name in (f"{u}-image-bucket-input", f"{u}-image-bucket-output", f"{u}-log-bucket"):
        rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # moto's AWS::S3::Bucket applies only BucketEncryption and Tags: versioning, public access
    # blocks, lifecycle, website, logging and the notification are asserted statically
    # (test_static_bucket_properties), the website URL from the stack's outputs here.
    if mode == "S3Website":
        assert outputs["WebsiteUrl"].startswith("http://")
    else:
        assert outputs["WebsiteUrl"].startswith("https://")

    lam = moto.client("lambda")
    functions = {f["FunctionName"]: f for f in lam.list_functions()["Functions"]}
    for name in ("trigger", "validate", "resize", "catalog", "on-failure"):
        function = functions[f"{u}-{name}"]
        assert function["Runtime"] == "provided.al2023"  # moto's CFN drops Architectures: static test
        assert function["Role"].endswith(f":role/{u}-{name}-role")
    permission = json.loads(lam.get_policy(FunctionName=f"{u}-trigger")["Policy"])["Statement"][0]
    assert permission["Principal"] == {"Service": "s3.amazonaws.com"}
    assert permission["Action"] == "lambda:InvokeFunction"
    env = lambda n: functions[f"{u}-{n}"]["Environment"]["Variables"]  # noqa: E731
    assert env("trigger")["STATE_MACHINE_ARN"] == outputs["StateMachineArn"]
    assert env("catalog")["DB_CLUSTER_ARN"] == stack["cluster"]["DBClusterArn"] == outputs["DbClusterArn"]
    assert env("catalog")["DB_SECRET_ARN"] == outputs["DbSecretArn"]
    assert env("catalog")["DB_NAME"] == "photopipe"
    assert env("on-failure")["ALERT_TOPIC_ARN"] == outputs["AlertTopicArn"]
    assert env("resize")["OUTPUT_BUCKET"] == f"{u}-image-bucket-output"
    assert str(env("resize")["THUMBNAIL_MAX_EDGE"]) == "256"  # moto keeps the Ref'd Number as a number
    assert functions[f"{u}-resize"]["MemorySize"] == 512
    # moto's CFN drops DeadLetterConfig (asserted in test_functions_are_arm64_rust_builds)
    assert moto.client("sqs").get_queue_url(QueueName=f"{u}-trigger-dlq")["QueueUrl"]

    sfn = moto.client("stepfunctions")
    machine = sfn.describe_state_machine(stateMachineArn=outputs["StateMachineArn"])
    assert machine["name"] == f"{u}-pipeline"
    assert machine["type"] == "STANDARD"
    assert machine["roleArn"].endswith(f":role/{u}-pipeline-role")
    # moto stores DefinitionString as given, without applying DefinitionSubstitutions; check
    # that every placeholder left is one the template maps to a function moto created.
    definition = json.loads(machine["definition"])
    assert definition == json.loads(ASL.read_text())
    expected = {"Validate": "validate", "Resize": "resize", "Catalog": "catalog", "OnFailure": "on-failure"}
    for state, name in expected.items():
        placeholder = definition["States"][state]["Resource"]
        assert placeholder == "${" + state + "FunctionArn}"
        assert f"{u}-{name}" in functions
    assert outputs["StateMachineConsoleUrl"].endswith("#/statemachines/view/" + outputs["StateMachineArn"])

    sns = moto.client("sns")
    assert outputs["AlertTopicArn"].endswith(f":{u}-alerts")
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=outputs["AlertTopicArn"])["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "ops@example.com")]

    iam = moto.client("iam")
    roles = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert {f"{u}-{n}-role" for n in ("trigger", "validate", "resize", "catalog", "on-failure", "pipeline")} <= roles

    logs = moto.client("logs")
    groups = {g["logGroupName"]: g for g in logs.describe_log_groups(logGroupNamePrefix="/aws/")["logGroups"]}
    for name in (f"/aws/lambda/{u}-validate", f"/aws/vendedlogs/states/{u}-pipeline"):
        assert groups[name]["retentionInDays"] == 30

    rds = moto.client("rds")
    cluster = rds.describe_db_clusters(DBClusterIdentifier=f"{u}-catalog-db")["DBClusters"][0]
    assert cluster["ServerlessV2ScalingConfiguration"]["MinCapacity"] == 0
    assert cluster["MasterUserSecret"]["SecretArn"] == outputs["DbSecretArn"]
    assert rds.describe_db_instances(DBInstanceIdentifier=f"{u}-catalog-db-1")["DBInstances"][0]["DBInstanceClass"] == "db.serverless"


def test_every_created_resource_carries_the_username(stack, moto, parameters):
    u = parameters["Username"]
    cloudformation = moto.client("cloudformation")
    summaries = cloudformation.list_stack_resources(StackName=f"photopipe-{u}")["StackResourceSummaries"]
    assert len(summaries) >= 20
    for summary in summaries:
        physical = summary.get("PhysicalResourceId") or ""
        if summary["ResourceType"] == "AWS::Lambda::Permission":
            continue  # no name of its own
        assert u in physical, (summary["LogicalResourceId"], physical)


# ------------------------------------------------------------------------- pipeline.yaml


def test_pipeline_deploys_staging_then_approval_then_prod():
    from cfn_flip import load_yaml

    pipeline = load_yaml((SAM_DIR / "pipeline.yaml").read_text())
    resources = pipeline["Resources"]
    props = resources["Pipeline"]["Properties"]
    assert props["PipelineType"] == "V2"
    assert [s["Name"] for s in props["Stages"]] == ["Source", "Staging", "Approve", "Production"]
    source = props["Stages"][0]["Actions"][0]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["ConnectionArn"] == {"Ref": "GitHubConnection"}
    assert props["Triggers"][0]["GitConfiguration"]["Push"][0]["Branches"]["Includes"] == [{"Ref": "Branch"}]
    assert pipeline["Parameters"]["Branch"]["Default"] == "main"
    assert props["Stages"][2]["Actions"][0]["ActionTypeId"]["Provider"] == "Manual"
    envs = {}
    for project in ("StagingBuild", "ProductionBuild"):
        variables = resources[project]["Properties"]["Environment"]["EnvironmentVariables"]
        envs[project] = {v["Name"]: v["Value"] for v in variables}["DEPLOY_ENV"]
        assert resources[project]["Properties"]["Source"]["BuildSpec"] == "buildspec.yml"
    assert envs == {"StagingBuild": "staging", "ProductionBuild": "prod"}
    bucket = resources["ArtifactBucket"]["Properties"]
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    for role in (r for r in resources.values() if r["Type"] == "AWS::IAM::Role"):
        assert not role["Properties"].get("ManagedPolicyArns")


def test_buildspec_runs_tests_lints_build_and_deploy():
    import yaml

    spec = yaml.safe_load((REPO / "buildspec.yml").read_text())
    assert spec["version"] == 0.2
    commands = "\n".join(c for phase in spec["phases"].values() for c in phase["commands"])
    for needle in ("bash .ci/test", "bash sam/tests/run.sh", "sam build --beta-features",
                   "sam deploy --config-env", "aws s3 sync static_web_server/", "rustup target add aarch64-unknown-linux-gnu"):
        assert needle in commands, needle
    config = __import__("tomllib").loads((SAM_DIR / "samconfig.toml").read_text())
    for env in ("staging", "prod"):
        deploy = config[env]["deploy"]["parameters"]
        assert "CAPABILITY_NAMED_IAM" in deploy["capabilities"] and deploy["resolve_s3"] is True


def test_sam_build_makes_the_stripped_binaries_of_build_lambdas_sh():
    """sam build runs `cargo lambda build --release` itself: the deployment settings (no debug
    info, symbols stripped) reach it through the environment, set in the build phase only (in
    pre_build they would invalidate .ci/test's release builds), and functions/build_lambdas.sh,
    which the size report in BENCHMARKS.md comes from, sets the same."""
    import yaml

    spec = yaml.safe_load((REPO / "buildspec.yml").read_text())
    settings = "export CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=symbols"
    build = spec["phases"]["build"]["commands"]
    sam_build = next(i for i, c in enumerate(build) if "sam build" in c)
    assert settings in build[:sam_build]
    assert not any(settings in c for p in ("install", "pre_build") for c in spec["phases"][p]["commands"])
    assert settings in (REPO / "functions" / "build_lambdas.sh").read_text()
