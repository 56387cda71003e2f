"""deploy/: every manifest is a valid Kubernetes object (strict: no unknown fields) by the schemas
kubernetes-validate ships (offline), and the pieces agree with each other and with the harness."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from harness.farm.inventory import load_inventory

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
KUBERNETES = "1.34.0"


def objects() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(DEPLOY.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found.append((f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc))
    return found


@pytest.mark.parametrize(("name", "doc"), objects(), ids=[n for n, _ in objects()])
def test_manifest_is_a_valid_kubernetes_object(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_the_validator_rejects_what_it_should() -> None:
    """A validator that accepts anything proves nothing: a misspelt field must fail."""
    job = dict(next(d for n, d in objects() if n.endswith("Job/regionlock-nightly")))
    job["spec"] = {**job["spec"], "paralellism": 3}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, KUBERNETES, strict=True)


def by_kind(kind: str) -> dict[str, Any]:
    return next(d for _, d in objects() if d["kind"] == kind)


def test_the_inventory_loads_and_names_every_emulator_pod(tmp_path: Path) -> None:
    inventory_map = next(d for n, d in objects() if n.endswith("ConfigMap/farm-inventory"))
    path = tmp_path / "farm.yaml"
    path.write_text(inventory_map["data"]["farm.yaml"])
    inventory = load_inventory(path)
    stateful = by_kind("StatefulSet")
    pods = [f"{stateful['metadata']['name']}-{i}.{stateful['spec']['serviceName']}:5037"
            for i in range(stateful["spec"]["replicas"])]
    assert [h.adb for h in inventory.hosts] == pods
    exposed = {p["containerPort"] for c in stateful["spec"]["template"]["spec"]["containers"]
               for p in c.get("ports", [])}
    assert all(5554 + 2 * i + h.console_offset in exposed for h in inventory.hosts for i in range(2)
               if h.console_offset is not None)


def test_the_job_runs_every_shard_once() -> None:
    job = by_kind("Job")
    spec = job["spec"]
    args = " ".join(spec["template"]["spec"]["containers"][0]["args"])
    shards = re.search(r"--shard \$\(\(JOB_COMPLETION_INDEX \+ 1\)\)/(\d+)", args)
    assert spec["completionMode"] == "Indexed" and shards is not None
    assert spec["completions"] == spec["parallelism"] == int(shards.group(1))
    assert "--redis redis://farm-redis:6379/0" in args and "--farm /etc/farm/farm.yaml" in args
