"""deploy/refvision.yaml: cfn-lint clean, and in agreement with scaling/worker-policy.json (the one
source of truth for scaling) and taskdefs/*.json."""
import shutil
import subprocess
import sys

import pytest

from conftest import TASKDEF_FILES, TEMPLATE, load_policy, load_taskdef, load_template


@pytest.fixture(scope="module")
def template():
    return load_template()


@pytest.fixture(scope="module")
def policy():
    return load_policy()


def props(template, name):
    return template["Resources"][name]["Properties"]


def resources_of(template, kind):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_cfn_lint_is_clean():
    cmd = [shutil.which("cfn-lint")] if shutil.which("cfn-lint") else [sys.executable, "-m", "cfnlint"]
    run = subprocess.run(cmd + [str(TEMPLATE)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


# ---- template ↔ scaling/worker-policy.json ----

def test_capacity_and_target(template, policy):
    params = template["Parameters"]
    assert props(template, "WorkerScalableTarget")["MinCapacity"] == policy["capacity"]["minTasks"] == 0
    assert props(template, "WorkerScalableTarget")["MaxCapacity"] == {"Ref": "WorkerMaxTasks"}
    assert params["WorkerMaxTasks"]["Default"] == policy["capacity"]["maxTasks"]
    tt = props(template, "WorkerBacklogTracking")["TargetTrackingScalingPolicyConfiguration"]
    assert tt["TargetValue"] == {"Fn::FindInMap": ["LatencyTargets", {"Ref": "AcceptableLatencySeconds"}, "Target"]}
    service = policy["serviceTime"]["defaultSeconds"]
    table = template["Mappings"]["LatencyTargets"]
    assert sorted(table, key=int) == params["AcceptableLatencySeconds"]["AllowedValues"]
    for latency, row in table.items():
        assert row["Target"] == pytest.approx(int(latency) / service), latency
    default = params["AcceptableLatencySeconds"]["Default"]
    assert float(default) == policy["targetTracking"]["acceptableLatencySeconds"]
    assert table[default]["Target"] == pytest.approx(policy["targetTracking"]["targetValue"])


def test_target_tracking_metric_and_knobs(template, policy):
    tt = props(template, "WorkerBacklogTracking")["TargetTrackingScalingPolicyConfiguration"]
    p = policy["targetTracking"]
    assert tt["ScaleOutCooldown"] == p["scaleOutCooldownSeconds"]
    assert tt["ScaleInCooldown"] == p["scaleInCooldownSeconds"]
    assert tt["DisableScaleIn"] is p["disableScaleIn"]
    metrics = {m["Id"]: m for m in tt["CustomizedMetricSpecification"]["Metrics"]}
    backlog = metrics["backlog"]["MetricStat"]
    m = policy["metric"]
    assert backlog["Metric"]["Namespace"] == m["namespace"]
    assert backlog["Metric"]["MetricName"] == m["backlogPerTask"]["name"]
    assert [d["Name"] for d in backlog["Metric"]["Dimensions"]] == m["dimensions"]
    assert backlog["Stat"] == m["backlogPerTask"]["statistic"] and backlog["Unit"] == m["backlogPerTask"]["unit"]
    floor = p["trackedValueFloor"]
    assert metrics["tracked"]["Expression"] == f"IF(backlog < {floor}, {floor}, backlog)"
    assert metrics["tracked"]["ReturnData"] is True and metrics["backlog"]["ReturnData"] is False


def step_adjustments(steps):
    out = []
    for s in steps:
        row = {"ScalingAdjustment": s["adjustment"]}
        if "lowerBound" in s:
            row["MetricIntervalLowerBound"] = s["lowerBound"]
        if "upperBound" in s:
            row["MetricIntervalUpperBound"] = s["upperBound"]
        out.append(row)
    return out


@pytest.mark.parametrize("section,policy_res,alarm_res", [
    ("wakeFromZero", "WorkerWakeFromZero", "WorkerWakeAlarm"),
    ("scaleToZero", "WorkerScaleToZero", "WorkerIdleAlarm"),
])
def test_step_policies_and_their_alarms(template, policy, section, policy_res, alarm_res):
    p = policy[section]
    conf = props(template, policy_res)["StepScalingPolicyConfiguration"]
    assert conf["AdjustmentType"] == p["adjustmentType"]
    assert conf["Cooldown"] == p["cooldownSeconds"]
    assert conf["StepAdjustments"] == step_adjustments(p["steps"])
    alarm = props(template, alarm_res)
    assert alarm["ComparisonOperator"] == p["comparisonOperator"]
    assert alarm["Threshold"] == p["threshold"]
    assert alarm["EvaluationPeriods"] == p["evaluationPeriods"]
    assert alarm["DatapointsToAlarm"] == p["datapointsToAlarm"]
    assert alarm["TreatMissingData"] == p["treatMissingData"]
    assert alarm["AlarmActions"] == [{"Ref": policy_res}]
    sqs = [m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"]
           if "MetricStat" in m and m["MetricStat"]["Metric"]["Namespace"] == "AWS/SQS"]
    assert sqs == p["metrics"]
    for m in alarm["Metrics"]:
        if "MetricStat" in m:
            assert m["MetricStat"]["Period"] == policy["metric"]["periodSeconds"]
            if m["MetricStat"]["Metric"]["Namespace"] == "AWS/SQS":
                assert m["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["JobsQueue", "QueueName"]}}]


def test_wake_is_gated_on_zero_desired_tasks(template, policy):
    metrics = {m["Id"]: m for m in props(template, "WorkerWakeAlarm")["Metrics"]}
    desired = metrics["desired"]["MetricStat"]["Metric"]
    assert desired["Namespace"] == policy["metric"]["namespace"]
    assert desired["MetricName"] == policy["metric"]["desiredTasks"]["name"]
    assert [d["Name"] for d in desired["Dimensions"]] == policy["metric"]["dimensions"]
    assert metrics["wake"]["Expression"] == "IF(FILL(desired, 0) == 0, FILL(visible, 0), 0)"
    idle = {m["Id"]: m for m in props(template, "WorkerIdleAlarm")["Metrics"]}
    assert idle["outstanding"]["Expression"] == "FILL(visible, 0) + FILL(inflight, 0)"


def test_capacity_provider(template, policy):
    cp = props(template, "Inf2CapacityProvider")["AutoScalingGroupProvider"]
    p = policy["capacityProvider"]
    assert p["launchType"] == "EC2" and p["tasksPerInstance"] == 1
    ms = cp["ManagedScaling"]
    assert ms["Status"] == "ENABLED"
    assert ms["TargetCapacity"] == p["targetCapacityPercent"]
    assert ms["MinimumScalingStepSize"] == p["minimumScalingStepSize"]
    assert ms["MaximumScalingStepSize"] == p["maximumScalingStepSize"]
    assert ms["InstanceWarmupPeriod"] == p["instanceWarmupSeconds"]
    assert cp["ManagedTerminationProtection"] == "ENABLED"
    asg = props(template, "Inf2AutoScalingGroup")
    assert asg["NewInstancesProtectedFromScaleIn"] is True and asg["MinSize"] == "0"
    assert asg["MaxSize"] == {"Ref": "WorkerMaxTasks"}  # one task per instance
    lt = props(template, "Inf2LaunchTemplate")["LaunchTemplateData"]
    assert lt["ImageId"] == {"Ref": "NeuronAmiId"}
    ami = template["Parameters"]["NeuronAmiId"]
    assert ami["Type"] == "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>" and "neuron" in ami["Default"]
    worker = props(template, "WorkerService")
    assert worker["PlacementConstraints"]["Fn::If"][1] == [{"Type": "distinctInstance"}]
    assert worker["DesiredCount"] == 0


# ---- template ↔ taskdefs/*.json ----

def pascal(value):
    """taskdefs' camelCase request shape → CloudFormation's PascalCase property shape."""
    if isinstance(value, dict):
        return {k[0].upper() + k[1:]: pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pascal(v) for v in value]
    return value


@pytest.mark.parametrize("name", sorted(TASKDEF_FILES))
def test_template_task_definitions_mirror_taskdefs(template, name):
    service, resource = TASKDEF_FILES[name]
    doc = load_taskdef(name)
    t = props(template, resource)
    assert t["Family"] == {"Fn::Sub": doc["family"].replace("${NAME}", "${Name}")}
    for key in ("networkMode", "requiresCompatibilities", "cpu", "memory", "runtimePlatform", "volumes"):
        assert t[pascal({key: 0}).popitem()[0]] == pascal(doc[key]), key
    assert t.get("PlacementConstraints", []) == pascal(doc.get("placementConstraints", []))
    assert t["ExecutionRoleArn"] != t["TaskRoleArn"]
    c, want = t["ContainerDefinitions"][0], doc["containerDefinitions"][0]
    for key in ("name", "command", "user", "readonlyRootFilesystem", "essential", "healthCheck", "stopTimeout",
                "mountPoints"):
        assert c[pascal({key: 0}).popitem()[0]] == pascal(want[key]), key
    for key in ("linuxParameters", "ulimits", "portMappings"):
        assert c.get(pascal({key: 0}).popitem()[0]) == pascal(want.get(key)), key
    cfn_env = {e["Name"]: e["Value"] for e in c["Environment"]}
    json_env = {e["name"]: e["value"] for e in want["environment"]}
    assert list(cfn_env) == list(json_env)
    for k, v in json_env.items():
        if "${" not in v:  # literal values must be the same; placeholders are filled by the template
            assert cfn_env[k] == v, k
    assert [s["Name"] for s in c.get("Secrets", [])] == [s["name"] for s in want.get("secrets", [])]
    log = c["LogConfiguration"]
    assert log["LogDriver"] == "awslogs" and "awslogs-create-group" not in log["Options"]
    assert log["Options"]["awslogs-stream-prefix"] == want["logConfiguration"]["options"]["awslogs-stream-prefix"]
    group = log["Options"]["awslogs-group"]["Ref"]
    assert props(template, group)["LogGroupName"] == {"Fn::Sub": "/${Name}/" + service}


def test_worker_stop_timeout_matches_the_policy(template, policy):
    for resource in ("WorkerInf2TaskDefinition", "WorkerCpuTaskDefinition"):
        c = props(template, resource)["ContainerDefinitions"][0]
        assert c["StopTimeout"] == policy["task"]["stopTimeoutSeconds"] >= 120


# ---- the rest of the issue's checklist ----

def test_buckets(template):
    for name in ("RawBucket", "AnnotatedBucket"):
        b = props(template, name)
        assert all(b["PublicAccessBlockConfiguration"][k] is True for k in
                   ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"))
        assert b["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
        assert any("ExpirationInDays" in r for r in b["LifecycleConfiguration"]["Rules"])
        assert b["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"] is True


def test_every_queue_has_a_dead_letter_queue_and_an_alarm(template):
    for q in ("IntakeQueue", "JobsQueue", "ResultsQueue"):
        rp = props(template, q)["RedrivePolicy"]
        dlq = rp["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert template["Resources"][dlq]["Type"] == "AWS::SQS::Queue" and rp["maxReceiveCount"] >= 1
        alarms = [a for a in resources_of(template, "AWS::CloudWatch::Alarm").values()
                  if a["Properties"].get("Dimensions") == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}]]
        assert len(alarms) == 1, dlq
        a = alarms[0]["Properties"]
        assert a["ComparisonOperator"] == "GreaterThanThreshold" and a["Threshold"] == 0
        assert a["AlarmActions"] == [{"Ref": "OpsTopic"}]


def test_ops_alarms(template):
    oldest = props(template, "OldestJobAlarm")
    assert oldest["MetricName"] == "ApproximateAgeOfOldestMessage" and oldest["Threshold"] == {"Ref": "MaxJobAgeSeconds"}
    stalled = props(template, "NoDecisionsAlarm")
    assert stalled["EvaluationPeriods"] == {"Ref": "NoDecisionMinutes"}
    for a in ("OldestJobAlarm", "NoDecisionsAlarm"):
        assert props(template, a)["AlarmActions"] == [{"Ref": "OpsTopic"}]
    assert "Dashboard" in template["Resources"]


def test_table(template):
    t = props(template, "Table")
    assert t["BillingMode"] == "PAY_PER_REQUEST"
    assert t["TimeToLiveSpecification"]["Enabled"] is True
    assert {g["IndexName"] for g in t["GlobalSecondaryIndexes"]} == {"ByMeet", "ByAthlete"}


def test_events_feed_the_intake_queue(template):
    upload = props(template, "RawObjectCreatedRule")
    assert upload["EventPattern"]["detail-type"] == ["Object Created"]
    assert upload["EventPattern"]["detail"]["bucket"]["name"] == [{"Ref": "RawBucket"}]
    assert upload["Targets"][0]["Arn"] == {"Fn::GetAtt": ["IntakeQueue", "Arn"]}
    sweep = props(template, "SweepScheduleRule")
    assert sweep["ScheduleExpression"].startswith("rate(")
    assert sweep["Targets"][0]["Arn"] == {"Fn::GetAtt": ["IntakeQueue", "Arn"]}


def test_log_groups_have_retention(template):
    groups = resources_of(template, "AWS::Logs::LogGroup")
    assert len(groups) == 4
    assert all(g["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"} for g in groups.values())


def test_iam_is_least_privilege(template):
    wildcard_ok = {"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"}
    for name, role in resources_of(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for st in policy["PolicyDocument"]["Statement"]:
                actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                assert all("*" not in a for a in actions), (name, actions)
                if st["Resource"] == "*":
                    assert set(actions) <= wildcard_ok, (name, actions)
                    if "cloudwatch:PutMetricData" in actions:
                        assert st["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Refvision"}}
    for svc in ("Worker", "Dispatcher", "Notifier", "Replay"):
        assert f"{svc}TaskRole" in template["Resources"] and f"{svc}ExecutionRole" in template["Resources"]


def test_parameters_for_names_instance_types_max_tasks_and_latency(template):
    for p in ("Name", "Inf2InstanceType", "WorkerMaxTasks", "AcceptableLatencySeconds", "WorkerCapacity"):
        assert p in template["Parameters"]


def test_dashboard_body_is_json(template):
    import json
    import re

    body, variables = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert set(variables) == {"Target"}
    filled = re.sub(r"\$\{[^}]+\}", "1", body)  # every ${...} sits where a string or number goes
    widgets = json.loads(filled)["widgets"]
    assert {w["type"] for w in widgets} == {"metric", "alarm"}


def test_the_simulator_embeds_the_deployed_policy():
    from conftest import ROOT

    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "sync-policy"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


# ---- task roles: exactly the calls each service makes (docs/deploy.md#task-roles) ----

TASK_ROLES = {"Worker": "WorkerTaskRole", "Dispatcher": "DispatcherTaskRole", "Notifier": "NotifierTaskRole",
              "Replay": "ReplayTaskRole"}
ECS_ARN_PREFIX = "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:"


def resource_text(resource):
    """A statement's resource as docs/deploy.md writes it."""
    if isinstance(resource, str):
        return resource
    if "Ref" in resource:
        return resource["Ref"]
    if "Fn::GetAtt" in resource:
        att = resource["Fn::GetAtt"]
        return ".".join(att) if isinstance(att, list) else att
    if "Fn::Sub" in resource:
        text = resource["Fn::Sub"]
        return text[len(ECS_ARN_PREFIX):] if text.startswith(ECS_ARN_PREFIX) else text
    raise AssertionError(f"unexpected resource {resource}")


def role_statements(template, role):
    out = set()
    for policy in props(template, role)["Policies"]:
        for st in policy["PolicyDocument"]["Statement"]:
            assert st["Effect"] == "Allow"
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            out.add((frozenset(actions), frozenset(resource_text(r) for r in resources)))
    return out


def documented_role_statements():
    import re
    from conftest import ROOT

    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    section = text.split("## Task roles", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] not in TASK_ROLES:
            continue
        actions = frozenset(re.findall(r"`([a-z0-9]+:[A-Za-z]+)`", cells[1]))
        resources = frozenset(re.findall(r"`([^`]+)`", cells[2]))
        assert actions and resources, line
        rows.setdefault(TASK_ROLES[cells[0]], set()).add((actions, resources))
    return rows


def test_task_roles_are_the_ones_docs_deploy_md_lists(template):
    documented = documented_role_statements()
    assert sorted(documented) == sorted(TASK_ROLES.values())
    for role, statements in documented.items():
        assert role_statements(template, role) == statements, role


def test_task_roles_make_no_call_the_code_does_not(template):
    everything = {a for role in TASK_ROLES.values() for actions, _ in role_statements(template, role) for a in actions}
    # Updates are conditional PutItems; Scan is only `refvision status` without --meet; nothing publishes to
    # the ops topic; the worker's metrics are EMF log lines.
    for action in ("dynamodb:UpdateItem", "dynamodb:Scan", "dynamodb:DeleteItem", "ecs:GetTaskProtection"):
        assert action not in everything, action
    worker = {a for actions, _ in role_statements(template, "WorkerTaskRole") for a in actions}
    assert "cloudwatch:PutMetricData" not in worker and "sqs:GetQueueAttributes" not in worker
    for role in TASK_ROLES.values():
        for actions, resources in role_statements(template, role):
            assert "OpsTopic" not in resources, role
            if any(a.startswith("dynamodb:Query") for a in actions):
                assert resources == {"${Table.Arn}/index/ByMeet"}, role


QUEUE_VARIABLES = {"IntakeQueue": "REFVISION_INTAKE_QUEUE_URL", "JobsQueue": "REFVISION_JOBS_QUEUE_URL",
                   "ResultsQueue": "REFVISION_RESULTS_QUEUE_URL"}


@pytest.mark.parametrize("resource", ["WorkerInf2TaskDefinition", "WorkerCpuTaskDefinition", "DispatcherTaskDefinition",
                                      "NotifierTaskDefinition", "ReplayTaskDefinition"])
def test_a_task_role_reaches_exactly_the_queues_its_task_definition_names(template, resource):
    t = props(template, resource)
    role = t["TaskRoleArn"]["Fn::GetAtt"][0]
    env = {e["Name"] for e in t["ContainerDefinitions"][0]["Environment"]}
    reached = {r.split(".")[0] for _, resources in role_statements(template, role) for r in resources}
    for queue, variable in QUEUE_VARIABLES.items():
        assert (queue in reached) == (variable in env), (resource, queue)
        # A service sends to a dead-letter queue only through its queue's redrive policy.
        dlq = queue.replace("Queue", "DeadLetterQueue")
        if dlq in reached:
            assert variable in env
            dlq_actions = {a for actions, res in role_statements(template, role) if f"{dlq}.Arn" in res for a in actions}
            assert dlq_actions == {"sqs:GetQueueUrl", "sqs:SendMessage"}
            queue_actions = {a for actions, res in role_statements(template, role) if f"{queue}.Arn" in res for a in actions}
            assert "sqs:GetQueueAttributes" in queue_actions
