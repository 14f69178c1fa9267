"""Create the processed template as a stack in a moto server's CloudFormation.

moto's CloudFormation models only some resource types. The ones this template uses that it
does NOT model (it would skip them with a warning, then fail on any !GetAtt to them) are
listed in UNMODELLED with why; `for_moto()` removes them from the copy moto gets, and puts
stand-in strings where other resources refer to them. The tests assert those resources
statically on the processed template instead (test_template.py, "what moto cannot check").

The Aurora cluster and its instance are created through moto's RDS API from the template's
own properties (moto's CloudFormation has no AWS::RDS::DBCluster and creates a DBInstance
without its cluster), and the catalog function's environment and role then get the ARNs moto
returned, as CloudFormation would pass them.
"""

from __future__ import annotations

import copy
import io
import os
import socket
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account

UNMODELLED = {
    "AWS::S3::BucketPolicy": "bucket policies (TLS-only, public read, OAC read) are not applied",
    "AWS::SNS::TopicPolicy": "the topic policy is not applied",
    "AWS::CloudWatch::Alarm": "alarms are not created",
    "AWS::CloudFront::Distribution": "no CloudFront in moto's CloudFormation",
    "AWS::CloudFront::OriginAccessControl": "no CloudFront in moto's CloudFormation",
    "AWS::RDS::DBCluster": "created through moto's RDS API instead (see module doc)",
    "AWS::RDS::DBInstance": "created through moto's RDS API instead (see module doc)",
    "Custom::CatalogSchema": (
        "moto would invoke the catalog Lambda, which needs Docker to run and a real Data API "
        "to migrate; the stack would wait for its response forever"
    ),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoServer:
    def __init__(self, executable: str):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"moto-{self.port}.log", "w")
        self.process = subprocess.Popen(
            [executable, "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited; see {self.log.name}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("moto_server did not start within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()

    def client(self, service: str):
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def _resolve_sub(value: Any, parameters: dict[str, str]) -> Any:
    """Fn::Sub over parameters only (enough for the DB properties)."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"]
        for name, parameter in parameters.items():
            text = text.replace("${" + name + "}", parameter)
        return text
    if isinstance(value, dict) and "Ref" in value:
        return parameters[value["Ref"]]
    return value


def create_database(moto: MotoServer, processed: dict, parameters: dict[str, str]) -> dict:
    """The template's DbCluster and DbInstance, created with moto's RDS API."""
    rds = moto.client("rds")
    props = {k: _resolve_sub(v, parameters) for k, v in processed["Resources"]["DbCluster"]["Properties"].items()}
    scaling = {
        k: float(_resolve_sub(v, parameters)) if k.endswith("Capacity") else int(_resolve_sub(v, parameters))
        for k, v in props.pop("ServerlessV2ScalingConfiguration").items()
    }
    props["DeletionProtection"] = props["DeletionProtection"] == "true"
    cluster = rds.create_db_cluster(ServerlessV2ScalingConfiguration=scaling, **props)["DBCluster"]
    instance_props = {
        k: _resolve_sub(v, parameters)
        for k, v in processed["Resources"]["DbInstance"]["Properties"].items()
        if k != "DBClusterIdentifier"  # a !Ref to DbCluster
    }
    instance_props["DBClusterIdentifier"] = cluster["DBClusterIdentifier"]
    rds.create_db_instance(**instance_props)
    return cluster


def for_moto(processed: dict, cluster: dict) -> dict:
    """The processed template less UNMODELLED, references to them replaced by stand-ins."""
    template = copy.deepcopy(processed)
    removed = {
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in UNMODELLED
    }
    stand_ins = {
        ("DbCluster", None): cluster["DBClusterIdentifier"],
        ("DbCluster", "DBClusterArn"): cluster["DBClusterArn"],
        ("DbCluster", "MasterUserSecret.SecretArn"): cluster["MasterUserSecret"]["SecretArn"],
    }

    def replace(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in removed:
                return stand_ins.get((node["Ref"], None), f"moto-stand-in:{node['Ref']}")
            if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][0] in removed:
                logical_id, attribute = node["Fn::GetAtt"][0], ".".join(node["Fn::GetAtt"][1:])
                return stand_ins.get((logical_id, attribute), f"moto-stand-in:{logical_id}.{attribute}")
            if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
                text = node["Fn::Sub"]
                for logical_id in removed:
                    for (rid, attribute), value in stand_ins.items():
                        if rid == logical_id:
                            token = "${" + logical_id + ("." + attribute if attribute else "") + "}"
                            text = text.replace(token, value)
                    text = text.replace("${" + logical_id + ".DomainName}", "d111111abcdef8.cloudfront.net")
                return {"Fn::Sub": text}
            return {key: replace(value) for key, value in node.items()}
        if isinstance(node, list):
            return [replace(value) for value in node]
        return node

    for logical_id in removed:
        del template["Resources"][logical_id]
    template["Resources"] = replace(template["Resources"])
    template["Outputs"] = replace(template.get("Outputs", {}))
    for resource in template["Resources"].values():
        depends = resource.get("DependsOn")
        if isinstance(depends, str):
            depends = [depends]
        if depends is not None:
            depends = [d for d in depends if d not in removed]
            if depends:
                resource["DependsOn"] = depends
            else:
                del resource["DependsOn"]
    return template


def upload_code(moto: MotoServer, bucket: str, binaries: list[str]) -> None:
    """What `sam package` uploads: one zip per function with its `bootstrap` (here a stub:
    moto stores the code and never runs it)."""
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=bucket)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bootstrap", "#!/bin/sh\nexit 1\n")
    for binary in binaries:
        s3.put_object(Bucket=bucket, Key=f"{binary}.zip", Body=buffer.getvalue())


def create_stack(moto: MotoServer, name: str, template: dict, parameters: dict[str, str]) -> dict:
    import json

    cloudformation = moto.client("cloudformation")
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    deadline = time.monotonic() + 120
    while True:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            return stack
        time.sleep(0.5)
