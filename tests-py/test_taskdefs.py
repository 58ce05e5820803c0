"""taskdefs/*.json: the fields ops rely on, rendering, and registration against moto_server (botocore
validates the RegisterTaskDefinition shape on the client side)."""
import json
import re
import uuid

import pytest

from conftest import (ROOT, SECRET_NAMES, TASKDEF_FILES, TASKDEFS, documented_env_vars, load_policy,
                      load_render_module, load_taskdef, sample_values)

render_mod = load_render_module()
FILES = sorted(TASKDEF_FILES)


def container(doc):
    assert len(doc["containerDefinitions"]) == 1
    return doc["containerDefinitions"][0]


def env_names(c):
    return [e["name"] for e in c.get("environment", [])]


def test_the_five_task_definitions_exist():
    assert sorted(p.name for p in TASKDEFS.glob("*.json")) == FILES


def test_every_placeholder_is_documented_in_deploy_md():
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`\$\{([A-Z][A-Z0-9_]*)\}`", text))
    for name in FILES:
        used = render_mod.placeholders(load_taskdef(name))
        assert used <= documented, f"{name}: undocumented placeholders {sorted(used - documented)}"


@pytest.mark.parametrize("name", FILES)
def test_common_fields(name):
    doc = load_taskdef(name)
    service, _ = TASKDEF_FILES[name]
    c = container(doc)
    assert c["name"] == service and c["essential"] is True
    assert c["command"] == [service], "the one image runs every service with a different command"
    assert c["image"] == "${IMAGE}"
    assert doc["networkMode"] == "awsvpc"
    # Separate execution and task roles.
    assert doc["executionRoleArn"] == "${" + service.upper() + "_EXECUTION_ROLE_ARN}"
    assert doc["taskRoleArn"] == "${" + service.upper() + "_TASK_ROLE_ARN}"
    # Non-root, read-only root with a writable scratch volume.
    assert c["user"] == "10001:10001"
    assert c["readonlyRootFilesystem"] is True
    assert {"sourceVolume": "scratch", "containerPath": "/tmp/refvision", "readOnly": False} in c["mountPoints"]
    assert {"name": "scratch"} in doc["volumes"]
    # Logs to a group the template creates with a retention (never auto-created without one).
    log = c["logConfiguration"]
    assert log["logDriver"] == "awslogs"
    assert log["options"] == {"awslogs-group": "/${NAME}/" + service, "awslogs-region": "${AWS_REGION}",
                              "awslogs-stream-prefix": service}
    # Health check through the binary itself (the runtime image has no curl).
    hc = c["healthCheck"]
    assert hc["command"][:3] == ["CMD", "/usr/local/bin/refvision", "health"]
    assert 5 <= hc["interval"] <= 300 and 2 <= hc["timeout"] < hc["interval"] and 1 <= hc["retries"] <= 10
    assert 0 <= hc["startPeriod"] <= 300


@pytest.mark.parametrize("name", FILES)
def test_configuration_is_environment_and_secrets_are_references(name):
    c = container(load_taskdef(name))
    names = env_names(c)
    assert len(names) == len(set(names)), "duplicate environment variables"
    assert "AWS_REGION" in names and "REFVISION_LOG_LEVEL" in names
    undocumented = set(names) - documented_env_vars()
    assert not undocumented, f"not in docs/configuration.md: {sorted(undocumented)}"
    assert not SECRET_NAMES & set(names), "secrets must not be plain environment variables"
    for s in c.get("secrets", []):
        assert s["name"] in SECRET_NAMES and s["name"] in documented_env_vars()
        assert re.fullmatch(r"\$\{REFVISION_[A-Z_]+_SECRET_ARN\}", s["valueFrom"])
    for e in c["environment"]:
        assert not re.search(r"(?i)(password|secret|token|key)=", e["value"])


@pytest.mark.parametrize("name", FILES)
def test_stop_timeout_lets_a_job_finish_or_be_released(name):
    service, _ = TASKDEF_FILES[name]
    c = container(load_taskdef(name))
    if service == "worker":
        assert c["stopTimeout"] >= 120
        assert c["stopTimeout"] == load_policy()["task"]["stopTimeoutSeconds"]
        # The health check's grace covers task start + model load.
        assert c["healthCheck"]["startPeriod"] >= load_policy()["task"]["modelLoadSeconds"]
    else:
        assert 30 <= c["stopTimeout"] <= 120


def test_worker_inf2_runs_on_a_neuron_device():
    doc = load_taskdef("worker-inf2.json")
    c = container(doc)
    assert doc["requiresCompatibilities"] == ["EC2"]
    assert {"type": "memberOf", "expression": "attribute:ecs.instance-type =~ inf2.*"} in doc["placementConstraints"]
    lp = c["linuxParameters"]
    assert {"hostPath": "/dev/neuron0", "containerPath": "/dev/neuron0", "permissions": ["read", "write"]} in lp["devices"]
    assert "IPC_LOCK" in lp["capabilities"]["add"]
    assert {"name": "memlock", "softLimit": -1, "hardLimit": -1} in c["ulimits"]
    # Sized so that exactly one task fits an inf2.xlarge (4 vCPU, 16 GiB): one task per chip.
    assert int(doc["cpu"]) == 4096 and 8192 < int(doc["memory"]) <= 15 * 1024


def test_worker_cpu_fits_fargate():
    doc = load_taskdef("worker-cpu.json")
    c = container(doc)
    assert "FARGATE" in doc["requiresCompatibilities"]
    assert "placementConstraints" not in doc
    assert "devices" not in c.get("linuxParameters", {}) and "capabilities" not in c.get("linuxParameters", {})
    cpu, mem = int(doc["cpu"]), int(doc["memory"])
    # Fargate's 4 vCPU sizes: 8–30 GiB in 1 GiB steps.
    assert cpu == 4096 and 8192 <= mem <= 30720 and mem % 1024 == 0


def test_both_workers_are_the_same_worker():
    a, b = container(load_taskdef("worker-inf2.json")), container(load_taskdef("worker-cpu.json"))
    for key in ("command", "environment", "healthCheck", "stopTimeout", "logConfiguration", "mountPoints", "user"):
        assert a[key] == b[key], key
    assert {e["name"]: e["value"] for e in a["environment"]}["REFVISION_WORKER_SLOTS"] == "1"


def test_replay_serves_http_with_healthz():
    c = container(load_taskdef("replay.json"))
    assert c["portMappings"] == [{"containerPort": 8080, "protocol": "tcp", "name": "http", "appProtocol": "http"}]
    assert c["healthCheck"]["command"] == ["CMD", "/usr/local/bin/refvision", "health", "--url", "http://127.0.0.1:8080/healthz"]
    assert {e["name"]: e["value"] for e in c["environment"]}["REFVISION_HTTP_PORT"] == "8080"


# ---- scripts/render-taskdef ----

def test_render_fills_every_placeholder():
    values = sample_values("render")
    for name in FILES:
        out = render_mod.render(load_taskdef(name), values)
        assert "${" not in json.dumps(out)
        assert out["family"].startswith("rvrender-")


def test_render_refuses_missing_values():
    values = sample_values("missing")
    del values["IMAGE"], values["WORKER_TASK_ROLE_ARN"]
    with pytest.raises(render_mod.RenderError, match="IMAGE, WORKER_TASK_ROLE_ARN"):
        render_mod.render(load_taskdef("worker-cpu.json"), values)
    with pytest.raises(render_mod.RenderError):
        render_mod.render(load_taskdef("worker-cpu.json"), {**sample_values("x"), "IMAGE": ""})


def test_render_refuses_values_that_inject_placeholders():
    values = {**sample_values("inject"), "IMAGE": "${NAME}"}
    with pytest.raises(render_mod.RenderError):
        render_mod.render(load_taskdef("dispatcher.json"), values)


def test_values_file_parsing(tmp_path):
    good = tmp_path / "good.env"
    good.write_text("# comment\nIMAGE = repo:tag\n\nNAME=rv\n", encoding="utf-8")
    assert render_mod.read_values(str(good)) == {"IMAGE": "repo:tag", "NAME": "rv"}
    for bad in ["no equals sign\n", "lower=case\n", "=empty\n", "A-B=1\n"]:
        f = tmp_path / "bad.env"
        f.write_text(bad, encoding="utf-8")
        with pytest.raises(render_mod.RenderError):
            render_mod.read_values(str(f))


# ---- registration against moto_server ----

def ecs_client(endpoint):
    import boto3

    return boto3.client("ecs", region_name="us-east-1", endpoint_url=endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.mark.parametrize("name", FILES)
def test_registers_with_ecs(moto_endpoint, name):
    doc = render_mod.render(load_taskdef(name), sample_values(uuid.uuid4().hex[:10]))
    ecs = ecs_client(moto_endpoint)
    registered = ecs.register_task_definition(**doc)["taskDefinition"]
    described = ecs.describe_task_definition(taskDefinition=registered["taskDefinitionArn"])["taskDefinition"]
    assert described["family"] == doc["family"] and described["revision"] == 1
    assert described["executionRoleArn"] == doc["executionRoleArn"] != described["taskRoleArn"] == doc["taskRoleArn"]
    assert described["networkMode"] == "awsvpc"
    assert described["requiresCompatibilities"] == doc["requiresCompatibilities"]
    assert described.get("placementConstraints", []) == doc.get("placementConstraints", [])
    got, want = described["containerDefinitions"][0], doc["containerDefinitions"][0]
    for key in ("name", "image", "command", "environment", "healthCheck", "stopTimeout", "logConfiguration",
                "user", "readonlyRootFilesystem", "mountPoints"):
        assert got[key] == want[key], key
    assert got.get("secrets", []) == want.get("secrets", [])
    assert got.get("linuxParameters", {}) == want.get("linuxParameters", {})
    assert got.get("portMappings", []) == want.get("portMappings", [])


def test_botocore_rejects_a_malformed_task_definition(moto_endpoint):
    from botocore.exceptions import ParamValidationError

    doc = render_mod.render(load_taskdef("worker-cpu.json"), sample_values(uuid.uuid4().hex[:10]))
    doc["containerDefinitions"][0]["stopTimeout"] = "120"  # a string where an integer belongs
    with pytest.raises(ParamValidationError):
        ecs_client(moto_endpoint).register_task_definition(**doc)


# What each service checks at start-up on AWS (Sources/refvision/ServiceCommands.swift and NotifyCommands.swift:
# FleetPorts.open needs REFVISION_TABLE, `ports.require(...)` the queues and buckets, the notifier and the
# replay service their topic, base URL and secrets). REFVISION_TABLE also selects the AWS backend.
REQUIRED_ON_AWS = {
    "dispatcher": ({"REFVISION_TABLE", "REFVISION_INTAKE_QUEUE_URL", "REFVISION_JOBS_QUEUE_URL", "REFVISION_RAW_BUCKET"}, set()),
    "worker": ({"REFVISION_TABLE", "REFVISION_JOBS_QUEUE_URL", "REFVISION_RESULTS_QUEUE_URL", "REFVISION_ANNOTATED_BUCKET"}, set()),
    "notifier": ({"REFVISION_TABLE", "REFVISION_RESULTS_QUEUE_URL", "REFVISION_COACHES_TOPIC_ARN", "REFVISION_REPLAY_BASE_URL"},
                 {"REFVISION_LINK_KEYS"}),
    "replay": ({"REFVISION_TABLE"}, {"REFVISION_LINK_KEYS", "REFVISION_DASHBOARD_AUTH"}),
}
RESOURCE_VARIABLES = {"REFVISION_INTAKE_QUEUE_URL", "REFVISION_JOBS_QUEUE_URL", "REFVISION_RESULTS_QUEUE_URL",
                      "REFVISION_RAW_BUCKET", "REFVISION_ANNOTATED_BUCKET", "REFVISION_COACHES_TOPIC_ARN",
                      "REFVISION_OPS_TOPIC_ARN"}


@pytest.mark.parametrize("name", FILES)
def test_each_service_gets_what_it_uses_and_no_other_resource(name):
    service, _ = TASKDEF_FILES[name]
    c = container(load_taskdef(name))
    env = set(env_names(c))
    secrets = {s["name"] for s in c.get("secrets", [])}
    required, required_secrets = REQUIRED_ON_AWS[service]
    assert required <= env, f"{name}: missing {sorted(required - env)}"
    assert required_secrets <= secrets, f"{name}: missing secrets {sorted(required_secrets - secrets)}"
    # The queue, bucket and topic variables name only what the service uses (its task role matches them).
    assert env & RESOURCE_VARIABLES == required & RESOURCE_VARIABLES, name
