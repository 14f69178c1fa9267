"""Turn sam/template.yaml into the CloudFormation that `sam build && sam deploy` would submit.

Offline, the way `sam package` + CloudFormation's transform do it:
- every function's CodeUri (../, the Cargo workspace that `sam build` compiles) becomes an
  s3:// location of a placeholder zip, as `sam package` would upload the built `bootstrap`;
- the state machine's DefinitionUri (../statemachine/photo_pipeline.asl.json) becomes the
  inline Definition read from that file (the translator then emits DefinitionString, and
  DefinitionSubstitutions stay for CloudFormation to apply, exactly as with an S3 location);
- aws-sam-translator expands AWS::Serverless-2016-10-31 into plain CloudFormation.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from cfn_flip import load_yaml

SAM_DIR = Path(__file__).resolve().parent.parent
REPO = SAM_DIR.parent
TEMPLATE = SAM_DIR / "template.yaml"
ARTIFACT_BUCKET = "photopipe-test-artifacts"


def load_sam_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return load_yaml(path.read_text())


def binaries(template: dict[str, Any]) -> dict[str, str]:
    """Logical id -> cargo binary name of every AWS::Serverless::Function."""
    return {
        logical_id: resource["Metadata"]["BuildProperties"]["Binary"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def packaged(template: dict[str, Any]) -> dict[str, Any]:
    """What `sam package` leaves: code in S3, the definition resolved."""
    template = copy.deepcopy(template)
    for logical_id, binary in binaries(template).items():
        props = template["Resources"][logical_id]["Properties"]
        assert props["CodeUri"] == "../", f"{logical_id}: CodeUri must be the workspace root"
        props["CodeUri"] = f"s3://{ARTIFACT_BUCKET}/{binary}.zip"
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::StateMachine":
            props = resource["Properties"]
            definition_path = (SAM_DIR / props.pop("DefinitionUri")).resolve()
            props["Definition"] = json.loads(definition_path.read_text())
    return template


class _NoManagedPolicies:
    """The template attaches no AWS managed policy, so the translator needs no IAM lookup."""

    def load(self) -> dict[str, str]:
        return {}


def transform(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    from samtranslator.translator.transform import transform as sam_transform

    return json.loads(
        json.dumps(sam_transform(packaged(template), parameters, _NoManagedPolicies()))
    )
