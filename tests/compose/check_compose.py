"""The checks of tests/compose/check_compose.sh over what docker-compose resolved: run by it as

    check_compose.py REPO WORK

with WORK holding config.yml, override.yml, services.txt and volumes.txt (docker-compose config
output without and with a .env of changed passwords). Prints ok:/FAIL: per check; exit 1 if any failed.
"""

import ast
import contextlib
import os
import re
import sys
import xml.etree.ElementTree as ET

import yaml

repo, work = sys.argv[1], sys.argv[2]
failures = []


def check(condition, message):
    if condition:
        print("ok:", message)
    else:
        print("FAIL:", message)
        failures.append(message)
    return condition


def load(name):
    with open(os.path.join(work, name), encoding="utf-8") as f:
        return yaml.safe_load(f)


def read(path):
    """A file of the repository (an absolute path is read as it is)."""
    with open(os.path.join(repo, path), encoding="utf-8") as f:
        return f.read()


cfg = load("config.yml")
over = load("override.yml")
services = cfg.get("services", {})

# ---- services and volumes (config --services / --volumes) ----
listed = read(os.path.join(work, "services.txt")).split()
expected_services = [
    "kafka",
    "clickhouse",
    "postgres",
    "airflow-init",
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "superset",
    "clickflow-init",
    "clickflow-loader",
]
for name in expected_services:
    check(name in listed, f"service {name} exists")
check(sorted(listed) == sorted(expected_services), f"no unexpected services (config --services: {' '.join(listed)})")

volumes = read(os.path.join(work, "volumes.txt")).split()
data_volumes = {  # volume -> (service, mount point)
    "kafka-data": ("kafka", "/var/lib/kafka/data"),
    "clickhouse-data": ("clickhouse", "/var/lib/clickhouse"),
    "postgres-data": ("postgres", "/var/lib/postgresql/data"),
    "superset-home": ("superset", "/app/superset_home"),
    "airflow-logs": ("airflow-api-server", "/opt/airflow/logs"),
    "airflow-secrets": ("airflow-api-server", "/opt/airflow/secrets"),
}


def mounts(service):
    out = []
    for v in services.get(service, {}).get("volumes", []):
        if isinstance(v, str):
            parts = v.split(":")
            out.append((parts[0], parts[1] if len(parts) > 1 else parts[0]))
        else:
            out.append((v.get("source"), v.get("target")))
    return out


for vol, (service, target) in data_volumes.items():
    check(vol in volumes, f"named volume {vol} declared (config --volumes)")
    check((vol, target) in mounts(service), f"{service} keeps its data in volume {vol} at {target}")
for service in ("airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
    check(
        ("airflow-logs", "/opt/airflow/logs") in mounts(service)
        and ("airflow-secrets", "/opt/airflow/secrets") in mounts(service),
        f"{service} shares the airflow-logs and airflow-secrets volumes",
    )

# Bind mounts must name files of the repository (they are relative to it).
for name in services:
    for source, _target in mounts(name):
        if source and source.startswith("/"):
            check(os.path.exists(source), f"{name}: bind-mounted {os.path.relpath(source, repo)} exists")


# ---- published ports: docs/design.md#components-and-ports, on loopback unless CLICKFLOW_BIND says otherwise ----
def published(svc_cfg):
    out = {}
    for p in svc_cfg.get("ports", []):
        if isinstance(p, dict):
            out[int(p["published"])] = (p.get("host_ip", ""), int(p["target"]))
            continue
        m = re.fullmatch(r"(?:(?P<ip>[0-9.:\[\]a-fA-F]+):)?(?P<pub>\d+):(?P<tgt>\d+)(?:/\w+)?", str(p))
        if m:
            out[int(m["pub"])] = (m["ip"] or "", int(m["tgt"]))
    return out


expected_ports = {
    "kafka": [9092],
    "clickhouse": [8123, 9000],
    "postgres": [5432],
    "airflow-api-server": [8080],
    "superset": [8088],
    "clickflow-loader": [9464],
}
for name, ports in expected_ports.items():
    got = published(services.get(name, {}))
    for port in ports:
        check(port in got, f"{name} publishes port {port}")
        if port in got:
            check(got[port][0] == "127.0.0.1", f"{name}:{port} is bound to 127.0.0.1 by default (got '{got[port][0]}')")
            check(
                published(over["services"][name]).get(port, ("",))[0] == "0.0.0.0",
                f"{name}:{port} follows CLICKFLOW_BIND",
            )
check(
    published(services["kafka"]).get(9092, (None, None))[1] == 29092,
    "host port 9092 reaches Kafka's EXTERNAL listener (29092), advertised as localhost:9092",
)
for name in services:
    if name not in expected_ports:
        check(not services[name].get("ports"), f"{name} publishes no port")


# ---- images ----
def env(svc_cfg):
    e = svc_cfg.get("environment", {}) or {}
    if isinstance(e, list):
        e = dict(item.split("=", 1) for item in e)
    return {k: ("" if v is None else str(v)) for k, v in e.items()}


check(services["kafka"].get("image") == "apache/kafka:4.1.1", "kafka runs apache/kafka:4.1.1")
ch_image = services["clickhouse"].get("image", "")
ch_tag = re.fullmatch(r"clickhouse/clickhouse-server:(\d+\.\d+)(\.\d+)*", ch_image)
check(ch_tag is not None, f"clickhouse runs a clickhouse/clickhouse-server release ({ch_image})")
# chdb-core X.Y embeds ClickHouse X.Y: compose runs the release line the local stack runs.
chdb_core = re.search(r"^chdb-core==(\d+\.\d+)\.", read("clickhouse/chdb/requirements.lock"), re.M)
check(
    ch_tag is not None and chdb_core is not None and ch_tag.group(1) == chdb_core.group(1),
    f"clickhouse's image is the release line of the local stack's chdb-core "
    f"({ch_image}, chdb-core {chdb_core.group(1) if chdb_core else 'not in clickhouse/chdb/requirements.lock'})",
)
check(services["postgres"].get("image") == "postgres:15", "postgres runs postgres:15")

# ---- healthchecks and start order ----
for name in (
    "kafka",
    "clickhouse",
    "postgres",
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "superset",
    "clickflow-loader",
):
    hc = services.get(name, {}).get("healthcheck", {})
    check(bool(hc.get("test")) and not hc.get("disable"), f"{name} has a healthcheck")


def depends(name):
    d = services.get(name, {}).get("depends_on", {})
    return d if isinstance(d, dict) else {k: {"condition": "service_started"} for k in d}


def check_depends(name, on, condition):
    got = depends(name).get(on, {}).get("condition")
    check(got == condition, f"{name} waits for {on}: {condition} (got {got})")


for on in ("kafka", "clickhouse", "superset"):
    check_depends("clickflow-init", on, "service_healthy")
check_depends("clickflow-loader", "clickflow-init", "service_completed_successfully")
check_depends("superset", "postgres", "service_healthy")
check_depends("airflow-init", "postgres", "service_healthy")
for name in ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
    check_depends(name, "airflow-init", "service_completed_successfully")
    check_depends(name, "postgres", "service_healthy")


# ---- commands ----
def command(name):
    c = services.get(name, {}).get("command") or []
    return c if isinstance(c, list) else c.split()


check(command("airflow-api-server")[:1] == ["api-server"], "airflow-api-server runs `airflow api-server`")
check(command("airflow-scheduler")[:1] == ["scheduler"], "airflow-scheduler runs `airflow scheduler`")
check(command("airflow-dag-processor")[:1] == ["dag-processor"], "airflow-dag-processor runs `airflow dag-processor`")
check(command("airflow-triggerer")[:1] == ["triggerer"], "airflow-triggerer runs `airflow triggerer`")
check(command("airflow-init") == ["db", "migrate"], "airflow-init runs `airflow db migrate`")
check(command("clickflow-loader") == ["load", "--follow"], "clickflow-loader runs `clickflow load --follow`")
init_script = read("deploy/clickflow/init.sh")
check(
    services["clickflow-init"].get("entrypoint") == ["/bin/bash", "/opt/clickflow/deploy/init.sh"],
    "clickflow-init runs deploy/clickflow/init.sh",
)
for step in ("clickflow migrate", "clickflow topics create", "clickflow superset import --url"):
    check(re.search(r"^\s*" + re.escape(step), init_script, re.M) is not None, f"clickflow-init runs `{step}`")
check(
    env(services["clickflow-init"]).get("SUPERSET_URL") == "http://superset:8088",
    "clickflow-init imports into http://superset:8088",
)

# ---- logins and settings (defaults) ----
# The local stack's ClickHouse logins, as clickflow.yaml.example gives them.
local_ch = yaml.safe_load(read("clickflow.yaml.example"))["clickhouse"]
ch, pg = env(services["clickhouse"]), env(services["postgres"])
check(
    ch.get("CLICKHOUSE_USER") == local_ch["user"] and ch.get("CLICKHOUSE_PASSWORD") == local_ch["password"],
    f"ClickHouse login {local_ch['user']} / {local_ch['password']}, the local stack's "
    f"(got {ch.get('CLICKHOUSE_USER')} / {ch.get('CLICKHOUSE_PASSWORD')})",
)
check(
    local_ch["readonly_user"] == "dashboards"
    and ch.get("CLICKHOUSE_READONLY_PASSWORD") == local_ch["readonly_password"],
    f"ClickHouse read-only login dashboards / {local_ch['readonly_password']}, the local stack's",
)
check(
    pg.get("POSTGRES_USER") == "clickflow" and pg.get("POSTGRES_PASSWORD") == "clickflow",
    "PostgreSQL login clickflow / clickflow",
)
init_sql = read("deploy/postgres/init.sql")
for db in ("airflow", "superset"):
    check(re.search(rf"CREATE DATABASE {db}\b", init_sql) is not None, f"PostgreSQL database {db} created by init.sql")
check(
    (os.path.join(repo, "deploy/postgres/init.sql"), "/docker-entrypoint-initdb.d/10-clickflow.sql")
    in mounts("postgres"),
    "init.sql mounted into /docker-entrypoint-initdb.d",
)

ss = env(services["superset"])
check(ss.get("SUPERSET_ADMIN_PASSWORD") == "admin", "Superset login admin / admin")
check(
    ss.get("POSTGRES_HOST") == "postgres" and ss.get("SUPERSET_DATABASE") == "superset",
    "Superset metadata in PostgreSQL database superset",
)

clickflow_expect = {
    "CLICKFLOW_KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
    "CLICKFLOW_CLICKHOUSE_URL": "http://clickhouse:8123",
    "CLICKFLOW_CLICKHOUSE_USER": local_ch["user"],
    "CLICKFLOW_CLICKHOUSE_PASSWORD": local_ch["password"],
    "CLICKFLOW_CLICKHOUSE_READONLY_USER": "dashboards",
    "CLICKFLOW_CLICKHOUSE_READONLY_PASSWORD": local_ch["readonly_password"],
    "CLICKFLOW_STACK_CLICKHOUSE_TCP_PORT": "9000",
    "CLICKFLOW_STACK_SUPERSET_PASSWORD": "admin",
}
for name in ("clickflow-init", "clickflow-loader", "airflow-scheduler"):
    e = env(services[name])
    wrong = {k: e.get(k) for k, v in clickflow_expect.items() if e.get(k) != v}
    check(not wrong, f"{name}: clickflow talks to kafka:9092 and http://clickhouse:8123 (wrong: {wrong or 'none'})")
loader = env(services["clickflow-loader"])
check(
    loader.get("CLICKFLOW_STACK_HOST") == "0.0.0.0" and loader.get("CLICKFLOW_STACK_METRICS_PORT") == "9464",
    "clickflow-loader serves metrics on 0.0.0.0:9464 inside its container",
)

af = env(services["airflow-api-server"])
af_expect = {
    "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
    "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
    "AIRFLOW_ADMIN_PASSWORD": "admin",
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_FOLDER": "/opt/clickflow/airflow/dags",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": "http://airflow-api-server:8080/execution/",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg2://clickflow:clickflow@postgres:5432/airflow",
}
for k, v in af_expect.items():
    check(af.get(k) == v, f"Airflow {k}={v} (got {af.get(k)})")
for name in ("airflow-init", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
    check(env(services[name]) == af, f"{name} has the api-server's environment")
check(
    (os.path.join(repo, "airflow/dags"), "/opt/clickflow/airflow/dags") in mounts("airflow-dag-processor"),
    "airflow/dags mounted where AIRFLOW__CORE__DAGS_FOLDER points",
)

kafka = env(services["kafka"])
check(
    kafka.get("KAFKA_PROCESS_ROLES") == "broker,controller"
    and kafka.get("KAFKA_NUM_PARTITIONS") == "3"
    and kafka.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE") == "false"
    and bool(kafka.get("CLUSTER_ID")),
    "Kafka: one KRaft broker+controller, 3 partitions by default, no auto-created topics",
)
check(
    "PLAINTEXT://kafka:9092" in kafka.get("KAFKA_ADVERTISED_LISTENERS", ""),
    "Kafka advertises kafka:9092 to the other containers",
)

# ---- the read-only ClickHouse user ----
users_xml = os.path.join(repo, "deploy/clickhouse/users.d/dashboards.xml")
check(
    (users_xml, "/etc/clickhouse-server/users.d/dashboards.xml") in mounts("clickhouse"),
    "deploy/clickhouse/users.d/dashboards.xml mounted into users.d",
)
root = ET.parse(users_xml).getroot()
user = root.find("users/dashboards")
if check(user is not None, "users.d defines the user dashboards"):
    pw = user.find("password")
    check(
        pw is not None and pw.get("from_env") == "CLICKHOUSE_READONLY_PASSWORD",
        "dashboards' password comes from CLICKHOUSE_READONLY_PASSWORD",
    )
    check(user.findtext("profile") == "readonly", "dashboards uses the readonly profile")
    check(user.findtext("networks/ip") == "::/0", "dashboards may connect from the compose network")
profile = root.find("profiles/readonly")
want = {"readonly": "1", "max_execution_time": "60", "max_result_rows": "1000000"}
if check(profile is not None, "users.d defines the readonly profile"):
    got = {k: profile.findtext(k) for k in want}
    check(got == want, f"readonly profile: readonly=1, max_execution_time 60, max_result_rows 1000000 (got {got})")
    template = ET.fromstring(read("clickhouse/templates/users.xml").replace("{{", "x").replace("}}", "x"))
    local = {c.tag: c.text for c in template.find("profiles/readonly")}
    ours = {c.tag: c.text for c in profile}
    check(ours == local, "readonly profile equals the local stack's (clickhouse/templates/users.xml)")

# ---- .env overrides reach every service ----
o = {name: env(s) for name, s in over["services"].items()}
check(
    o["clickhouse"].get("CLICKHOUSE_PASSWORD") == "ch-Secret1"
    and o["clickhouse"].get("CLICKHOUSE_READONLY_PASSWORD") == "ro-Secret2",
    ".env: ClickHouse passwords",
)
for name in ("clickflow-init", "clickflow-loader", "airflow-scheduler"):
    check(
        o[name].get("CLICKFLOW_CLICKHOUSE_PASSWORD") == "ch-Secret1"
        and o[name].get("CLICKFLOW_CLICKHOUSE_READONLY_PASSWORD") == "ro-Secret2"
        and o[name].get("CLICKFLOW_STACK_SUPERSET_PASSWORD") == "ss-Secret4",
        f".env: {name} gets the ClickHouse and Superset passwords",
    )
check(
    o["postgres"].get("POSTGRES_PASSWORD") == "pg-Secret3"
    and o["superset"].get("POSTGRES_PASSWORD") == "pg-Secret3"
    and o["airflow-scheduler"]
    .get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "")
    .endswith(":pg-Secret3@postgres:5432/airflow"),
    ".env: the PostgreSQL password reaches postgres, superset and Airflow",
)
check(
    o["superset"].get("SUPERSET_ADMIN_PASSWORD") == "ss-Secret4"
    and o["superset"].get("SUPERSET_SECRET_KEY") == "ss-key-6",
    ".env: Superset admin password and SECRET_KEY",
)
check(
    o["airflow-api-server"].get("AIRFLOW_ADMIN_PASSWORD") == "af-Secret5"
    and o["airflow-api-server"].get("AIRFLOW__API_AUTH__JWT_SECRET") == "jwt-7",
    ".env: Airflow admin password and JWT secret",
)
check(
    o["clickflow-init"].get("CLICKFLOW_BIND") == "0.0.0.0",
    ".env: clickflow-init sees CLICKFLOW_BIND (default-password check)",
)


# ---- Dockerfiles: each exists, and every file they COPY is in the repository ----
def instructions(text):
    """(keyword, arguments) of each Dockerfile instruction, continuation lines joined."""
    out, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if current and line.lstrip().startswith("#"):
            continue
        current += line.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        keyword, _, args = current.strip().partition(" ")
        out.append((keyword.upper(), args.strip()))
        current = ""
    return out


def copy_sources(args):
    items = ast.literal_eval(args) if args.startswith("[") else args.split()
    flags = [i for i in items if i.startswith("--")]
    paths = [i for i in items if not i.startswith("--")]
    if any(f.startswith("--from") for f in flags):
        return None  # from another stage or image
    return paths[:-1]


dockerfiles = {}
for name, svc in services.items():
    build = svc.get("build")
    if not build:
        continue
    if isinstance(build, str):
        build = {"context": build}
    context = build.get("context", ".")
    dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
    if check(os.path.isfile(dockerfile), f"{name}: build file {os.path.relpath(dockerfile, repo)} exists"):
        dockerfiles[dockerfile] = context
for dockerfile, context in sorted(dockerfiles.items()):
    rel = os.path.relpath(dockerfile, repo)
    copied = 0
    for keyword, args in instructions(read(dockerfile)):
        if keyword not in ("COPY", "ADD"):
            continue
        sources = copy_sources(args)
        for source in sources or []:
            copied += 1
            check(os.path.exists(os.path.join(context, source)), f"{rel}: COPY source {source} exists")
    check(copied > 0, f"{rel}: copies files from the repository")


# The Airflow image repeats the clickflow image's build stage: keep them equal.
def build_stage(path):
    text = read(path)
    m = re.search(r"# ---- build stage.*?\n(.*?)# ---- end of build stage ----", text, re.S)
    return m.group(1) if m else None


stage_a, stage_b = build_stage("deploy/clickflow.Dockerfile"), build_stage("deploy/airflow.Dockerfile")
check(
    stage_a is not None and stage_a == stage_b,
    "deploy/airflow.Dockerfile builds clickflow exactly as deploy/clickflow.Dockerfile does",
)
check(
    "-DBUILD_TESTING=OFF" in (stage_a or "")
    and "-G Ninja" in (stage_a or "")
    and "FROM debian:12 AS build" in (stage_a or ""),
    "clickflow is built on debian:12 with cmake -G Ninja -DBUILD_TESTING=OFF",
)
check(
    re.search(r"^FROM debian:12-slim\s*$", read("deploy/clickflow.Dockerfile"), re.M) is not None,
    "the clickflow runtime image is debian:12-slim",
)
# Every -dev package the build stage installs is one scripts/install-deps.sh installs.
deps_script = read("scripts/install-deps.sh")
for pkg in sorted(set(re.findall(r"\b([a-z0-9.+-]+-dev)\b", stage_a or ""))):
    check(
        re.search(r"\b" + re.escape(pkg) + r"\b", deps_script) is not None,
        f"build stage's {pkg} is in scripts/install-deps.sh",
    )

# Versions follow the repository's locks.
lock_af = re.search(r"^apache-airflow==(\S+)", read("airflow/requirements.lock"), re.M).group(1)
af_docker = read("deploy/airflow.Dockerfile")
check(
    re.search(r"apache/airflow:" + re.escape(lock_af) + r"\b", af_docker) is not None,
    f"deploy/airflow.Dockerfile uses apache/airflow:{lock_af} (airflow/requirements.lock)",
)
ss_in = read("superset/requirements.in")
ss_docker = read("deploy/superset.Dockerfile")
ss_version = re.search(r"^apache-superset==(\S+)", ss_in, re.M).group(1)
check(f"apache/superset:{ss_version}" in ss_docker, f"deploy/superset.Dockerfile uses apache/superset:{ss_version}")
for pkg in ("clickhouse-sqlalchemy", "flask-caching", "psycopg2-binary"):
    pin = re.search(r"^" + re.escape(pkg) + r"==\S+", ss_in, re.M).group(0)
    check(pin in ss_docker, f"deploy/superset.Dockerfile pins {pin} as superset/requirements.in does")


# The compose Superset config keeps the local one's settings.
def assignments(path):
    out = {}
    for node in ast.parse(read(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            with contextlib.suppress(ValueError):
                out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


local_cfg, compose_cfg = assignments("superset/superset_config.py"), assignments("deploy/superset/superset_config.py")
for key in (
    "FEATURE_FLAGS",
    "CACHE_CONFIG",
    "DATA_CACHE_CONFIG",
    "RATELIMIT_STORAGE_URI",
    "SQLLAB_TIMEOUT",
    "SUPERSET_WEBSERVER_TIMEOUT",
    "TIME_GRAIN_ADDON_EXPRESSIONS",
):
    check(
        key in local_cfg and compose_cfg.get(key) == local_cfg[key],
        f"deploy/superset/superset_config.py: {key} equals superset/superset_config.py's",
    )

if failures:
    print(f"\n{len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
