"""Shared helpers for the infrastructure tests (task definitions, CloudFormation template)."""
import importlib.machinery
import importlib.util
import json
import os
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
TASKDEFS = ROOT / "taskdefs"
TEMPLATE = ROOT / "deploy" / "refvision.yaml"
POLICY = ROOT / "scaling" / "worker-policy.json"

# taskdefs/<file> → (container/service name, template resource)
TASKDEF_FILES = {
    "worker-inf2.json": ("worker", "WorkerInf2TaskDefinition"),
    "worker-cpu.json": ("worker", "WorkerCpuTaskDefinition"),
    "dispatcher.json": ("dispatcher", "DispatcherTaskDefinition"),
    "notifier.json": ("notifier", "NotifierTaskDefinition"),
    "replay.json": ("replay", "ReplayTaskDefinition"),
}

SECRET_NAMES = {"REFVISION_LINK_KEYS", "REFVISION_DASHBOARD_AUTH"}


def load_render_module():
    """scripts/render-taskdef (no .py suffix) as a module."""
    path = ROOT / "scripts" / "render-taskdef"
    loader = importlib.machinery.SourceFileLoader("render_taskdef", str(path))
    spec = importlib.util.spec_from_loader("render_taskdef", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def load_taskdef(name):
    return json.loads((TASKDEFS / name).read_text(encoding="utf-8"))


def load_policy():
    return json.loads(POLICY.read_text(encoding="utf-8"))


def load_template():
    from cfnlint.decode import decode

    template, matches = decode(str(TEMPLATE))
    assert not matches, [str(m) for m in matches]
    return template


def documented_env_vars():
    """Environment variable names in the tables of docs/configuration.md."""
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    names = set()
    for line in text.splitlines():
        if line.startswith("|"):
            m = re.match(r"\|\s*`([A-Z][A-Z0-9_]*)`", line)
            if m:
                names.add(m.group(1))
    return names


def sample_values(suffix):
    """Realistic values for every placeholder, unique per test run."""
    account, region = "123456789012", "us-east-1"
    name = f"rv{suffix}"
    v = {
        "NAME": name,
        "IMAGE": f"{account}.dkr.ecr.{region}.amazonaws.com/refvision:0f3c2a1",
        "AWS_REGION": region,
        "REFVISION_LOG_LEVEL": "info",
        "REFVISION_RAW_BUCKET": f"{name}-raw-{account}-{region}",
        "REFVISION_ANNOTATED_BUCKET": f"{name}-annotated-{account}-{region}",
        "REFVISION_INTAKE_QUEUE_URL": f"https://sqs.{region}.amazonaws.com/{account}/{name}-intake",
        "REFVISION_JOBS_QUEUE_URL": f"https://sqs.{region}.amazonaws.com/{account}/{name}-jobs",
        "REFVISION_RESULTS_QUEUE_URL": f"https://sqs.{region}.amazonaws.com/{account}/{name}-results",
        "REFVISION_TABLE": f"{name}-state",
        "REFVISION_COACHES_TOPIC_ARN": f"arn:aws:sns:{region}:{account}:{name}-coaches",
        "REFVISION_OPS_TOPIC_ARN": f"arn:aws:sns:{region}:{account}:{name}-ops",
        "REFVISION_REPLAY_BASE_URL": "https://replay.example.org",
        "REFVISION_ECS_CLUSTER": name,
        "REFVISION_WORKER_SERVICE": f"{name}-worker",
        "REFVISION_LINK_KEYS_SECRET_ARN": f"arn:aws:secretsmanager:{region}:{account}:secret:{name}/link-keys-AbC123",
        "REFVISION_DASHBOARD_AUTH_SECRET_ARN": f"arn:aws:secretsmanager:{region}:{account}:secret:{name}/dashboard-auth-XyZ789",
    }
    for service in ("WORKER", "DISPATCHER", "NOTIFIER", "REPLAY"):
        for kind in ("EXECUTION", "TASK"):
            v[f"{service}_{kind}_ROLE_ARN"] = f"arn:aws:iam::{account}:role/{name}-{service.lower()}-{kind.lower()}"
    return v


@pytest.fixture(scope="session")
def moto_endpoint():
    url = os.environ.get("REFVISION_TEST_MOTO")
    if not url:
        pytest.skip("needs moto_server: set REFVISION_TEST_MOTO")
    return url.rstrip("/")
