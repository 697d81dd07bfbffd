#!/usr/bin/env python3
"""Helpers of bench/loader/run.sh (see README.md). Subcommands:

  watermarks BOOTSTRAP                         high watermarks of the four topics, as JSON
  commit BOOTSTRAP GROUP OFFSETS_JSON          commit offsets for GROUP without joining it
  expect DIR                                   valid lines per file (same validation as `consume`)
  consume ...                                  variant (a): the classic-stack Python consumer
  http ...                                     variants (c)/(c2): JSONEachRow over HTTP, no Kafka
  ddl kafka|null DB SOURCE_DB [BOOTSTRAP GROUP]  DDL of variants (b)/(c), one statement a line

Variant (a) is written the way the classic stack's Python plugins are: confluent-kafka
consumer, poll() one message at a time, json.loads per line, validate, batches of 1000 rows
per table, clickhouse-driver (native protocol) `INSERT ... VALUES`, commit after each insert.
"""

import base64
import http.client
import json
import os
import sys
import time
import urllib.parse
from datetime import UTC, datetime

COMMIT_ASYNC = os.environ.get("BENCH_A_COMMIT", "async") == "async"
TOPICS = ["browser_events", "device_events", "geo_events", "location_events"]

# Mirrors src/ingest/event_schema.cc: (name, kind, required[, min, max]).
SCHEMAS = {
    "browser_events": (
        "events_browser_raw",
        [
            ("event_id", "str", True),
            ("event_timestamp", "ts", True),
            ("event_type", "str", True),
            ("click_id", "str", True),
            ("browser_name", "str", False),
            ("browser_user_agent", "str", False),
            ("browser_language", "str", False),
        ],
    ),
    "device_events": (
        "events_device_raw",
        [
            ("click_id", "str", True),
            ("os", "str", False),
            ("os_name", "str", False),
            ("os_timezone", "str", False),
            ("device_type", "str", False),
            ("device_is_mobile", "bool", False),
            ("user_custom_id", "str", False),
            ("user_domain_id", "str", False),
        ],
    ),
    "geo_events": (
        "events_geo_raw",
        [
            ("click_id", "str", True),
            ("geo_latitude", "coord", False, -90.0, 90.0),
            ("geo_longitude", "coord", False, -180.0, 180.0),
            ("geo_country", "str", False),
            ("geo_timezone", "str", False),
            ("geo_region_name", "str", False),
            ("ip_address", "str", False),
        ],
    ),
    "location_events": (
        "events_location_raw",
        [
            ("event_id", "str", True),
            ("page_url", "str", False),
            ("page_url_path", "str", False),
            ("referer_url", "str", False),
            ("referer_medium", "str", False),
            ("utm_medium", "str", False),
            ("utm_source", "str", False),
            ("utm_content", "str", False),
            ("utm_campaign", "str", False),
        ],
    ),
}


class Invalid(Exception):
    pass


def parse_timestamp(text):
    # "2022-11-28 20:51:05.627882" (UTC) or ISO 8601 with T and Z / an offset.
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"not a timestamp: {text[:60]!r}") from None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def validate(fields, line):
    """One JSON line -> the row's values in column order (without the Kafka columns)."""
    try:
        obj = json.loads(line)
    except ValueError as e:
        raise Invalid(f"invalid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise Invalid("not a JSON object")
    row = []
    for spec in fields:
        name, kind, required = spec[0], spec[1], spec[2]
        v = obj.get(name)
        if kind == "str":
            if v is None:
                v = ""
            elif not isinstance(v, str):
                raise Invalid(f"{name}: expected a string")
            if required and not v:
                raise Invalid("missing " + name)
            row.append(v)
        elif kind == "ts":
            if v is None:
                if required:
                    raise Invalid("missing " + name)
                row += [datetime.fromtimestamp(0, UTC), 0]
                continue
            if not isinstance(v, str):
                raise Invalid(f"{name}: expected a string")
            dt = parse_timestamp(v)
            row += [dt, dt.microsecond]
        elif kind == "bool":
            if v is None:
                v = False
            elif not isinstance(v, bool):
                raise Invalid(f"{name}: expected true or false")
            if required and name not in obj:
                raise Invalid("missing " + name)
            row.append(1 if v else 0)
        else:  # coordinate: a JSON string or number holding a decimal, range-checked
            if v is None:
                x = 0.0
            elif isinstance(v, str):
                try:
                    x = float(v)
                except ValueError:
                    raise Invalid(f"{name}: not a number") from None
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                x = float(v)
            else:
                raise Invalid(f"{name}: expected a number or a numeric string")
            if not (spec[3] <= x <= spec[4]):
                raise Invalid(f"{name}: out of range")
            row.append(x)
    return row


def column_list(fields):
    cols = []
    for spec in fields:
        cols.append(spec[0])
        if spec[1] == "ts":
            cols.append(spec[0] + "_us")
    return [*cols, "_topic", "_partition", "_offset", "_ingested_at"]


# ---------------------------------------------------------------------------------------------


def cmd_watermarks(bootstrap):
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-loader-watermarks"})
    out = {}
    for t in TOPICS:
        md = c.list_topics(t, timeout=10).topics[t]
        if md.error is not None:
            sys.exit(f"topic {t}: {md.error} (run `clickflow topics create`)")
        out[t] = {str(p): c.get_watermark_offsets(TopicPartition(t, p), timeout=10)[1] for p in sorted(md.partitions)}
    c.close()
    print(json.dumps(out))


def cmd_commit(bootstrap, group, offsets_json):
    from confluent_kafka import Consumer, TopicPartition

    offsets = json.loads(offsets_json)
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    tps = [TopicPartition(t, int(p), o) for t, parts in offsets.items() for p, o in parts.items()]
    for tp in c.commit(offsets=tps, asynchronous=False):
        if tp.error is not None:
            sys.exit(f"commit {tp.topic}[{tp.partition}]: {tp.error}")
    c.close()


def cmd_expect(data_dir):
    out = {}
    for t in TOPICS:
        fields = SCHEMAS[t][1]
        ok = bad = 0
        with open(os.path.join(data_dir, t + ".jsonl"), "rb") as f:
            for line in f:
                if not line.strip():
                    continue
                try:
                    validate(fields, line)
                    ok += 1
                except Invalid:
                    bad += 1
        out[t] = {"valid": ok, "invalid": bad}
    print(json.dumps(out))


def cmd_consume(bootstrap, group, host, port, user, password, database, start_json, end_json, batch_size):
    """Variant (a). Reads from the group's committed offsets (run.sh commits `start`) up to `end`."""
    from clickhouse_driver import Client
    from confluent_kafka import Consumer, KafkaError, KafkaException

    batch_size = int(batch_size)
    end = {(t, int(p)): o for t, parts in json.loads(end_json).items() for p, o in parts.items()}
    begin = {(t, int(p)): o for t, parts in json.loads(start_json).items() for p, o in parts.items()}
    client = Client(host=host, port=int(port), user=user, password=password, database=database)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe(TOPICS)
    inserts = {
        t: "INSERT INTO {}.{} ({}) VALUES".format(database, SCHEMAS[t][0], ", ".join(column_list(SCHEMAS[t][1])))
        for t in TOPICS
    }
    buffers = {t: [] for t in TOPICS}
    errors = []
    remaining = {tp for tp, o in end.items() if o > begin.get(tp, 0)}
    rows = dead = 0
    start = time.time()

    def flush(topic):
        nonlocal rows, dead
        buf = buffers[topic]
        if buf:
            client.execute(inserts[topic], buf)
            rows += len(buf)
            buffers[topic] = []
        if errors:
            client.execute(
                f"INSERT INTO {database}.ingest_errors (_topic, _partition, _offset, raw, error, _ingested_at) VALUES",
                errors,
            )
            dead += len(errors)
            del errors[:]
        try:
            consumer.commit(asynchronous=COMMIT_ASYNC)
        except KafkaException as e:  # nothing new to commit
            if e.args[0].code() != KafkaError._NO_OFFSET:
                raise

    while remaining:
        msg = consumer.poll(1.0)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() != KafkaError._PARTITION_EOF:
                print(f"kafka: {msg.error()}", file=sys.stderr)
            continue
        topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
        tp = (topic, partition)
        if offset >= end.get(tp, 0):
            remaining.discard(tp)
            continue
        now = datetime.now(UTC).replace(microsecond=0)
        try:
            row = validate(SCHEMAS[topic][1], msg.value())
            row += [topic, partition, offset, now]
            buffers[topic].append(row)
        except Invalid as e:
            errors.append([topic, partition, offset, msg.value().decode("utf-8", "replace"), str(e), now])
        if offset + 1 >= end[tp]:
            remaining.discard(tp)
        if len(buffers[topic]) >= batch_size:
            flush(topic)
    for t in TOPICS:
        flush(t)
    seconds = time.time() - start
    consumer.close()
    print(json.dumps({"rows": rows, "dead_letters": dead, "seconds": seconds}))


def cmd_http(url, user, password, database, data_dir, batch_lines):
    """Variants (c)/(c2): the JSONL files straight into ClickHouse's HTTP interface, one INSERT
    per `batch_lines` lines, one keep-alive connection, files one after the other. The rows land
    in Null tables <db>.in_<table> whose materialized views convert the timestamp (see run.sh)."""
    batch_lines = int(batch_lines)
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 8123, timeout=300)
    auth = "Basic " + base64.b64encode((f"{user}:{password}").encode()).decode()
    inserts = lines = 0
    start = time.time()

    def post(table, body):
        nonlocal inserts
        query = f"INSERT INTO {database}.in_{table} FORMAT JSONEachRow"
        path = "/?" + urllib.parse.urlencode({"query": query, "input_format_skip_unknown_fields": "1"})
        conn.request("POST", path, body=body, headers={"Authorization": auth})
        resp = conn.getresponse()
        answer = resp.read()
        if resp.status != 200:
            sys.exit(f"ClickHouse answered {resp.status}: {answer[:500].decode('utf-8', 'replace')}")
        inserts += 1

    for t in TOPICS:
        table = SCHEMAS[t][0]
        batch = []
        with open(os.path.join(data_dir, t + ".jsonl"), "rb") as f:
            for line in f:
                if not line.strip():
                    continue
                batch.append(line)
                lines += 1
                if len(batch) >= batch_lines:
                    post(table, b"".join(batch))
                    batch = []
        if batch:
            post(table, b"".join(batch))
    seconds = time.time() - start
    conn.close()
    print(json.dumps({"lines": lines, "inserts": inserts, "seconds": seconds}))


def cmd_ddl(kind, db, source_db, bootstrap="", group_prefix=""):
    """Variants (b) and (c): one statement a line. Staging copies <db>.events_*_raw of
    <source_db>'s tables, a source table per topic holding the JSON fields as they come (the
    timestamp as a String) -- Kafka engine for (b), Null for (c) -- and a materialized view
    that converts like the loader does (timestamp -> DateTime + micros, required fields
    non-empty, coordinates in range) and fills the Kafka columns."""
    types = {"str": "String", "ts": "String", "bool": "UInt8", "coord": "Float64"}
    print(f"CREATE DATABASE IF NOT EXISTS {db}")
    for t in TOPICS:
        table, fields = SCHEMAS[t]
        print(f"CREATE TABLE {db}.{table} AS {source_db}.{table}")
    for t in TOPICS:
        table, fields = SCHEMAS[t]
        src = f"{db}.in_{table}"
        cols = ", ".join(f"{f[0]} {types[f[1]]}" for f in fields)
        # 18.16 syntax: Kafka(broker_list, topic_list, group_name, format).
        engine = f"Kafka('{bootstrap}', '{t}', '{group_prefix}_{t}', 'JSONEachRow')" if kind == "kafka" else "Null"
        print(f"CREATE TABLE {src} ({cols}) ENGINE = {engine}")
    for t in TOPICS:
        table, fields = SCHEMAS[t]
        src = f"{db}.in_{table}"
        select, where = [], []
        if any(f[1] == "ts" for f in fields):
            # The converted column keeps its JSON name, and 18.16 can neither alias it back to
            # the raw text in the same SELECT nor run a view over a subquery: a first view
            # (ENGINE = Null) renames the text, the converting view reads from it. (A view TO a
            # Null table would not cascade in 18.16; a view over a view does.) With a Kafka
            # source the engine may start as soon as the first view exists, but it joins its
            # group and fills a block (seconds) before it pushes: the second view is there by
            # then, and a loss would show in the row counts.
            mid = f"{db}.mid_{table}"
            print(
                "CREATE MATERIALIZED VIEW {} ENGINE = Null AS SELECT {} FROM {}".format(
                    mid, ", ".join(f"{f[0]} AS ts_text" if f[1] == "ts" else f[0] for f in fields), src
                )
            )
            src = mid
        for f in fields:
            if f[1] == "ts":
                select.append(f"parseDateTimeBestEffort(ts_text, 'UTC') AS {f[0]}")
                select.append(
                    f"toUInt32OrZero(substring(concat(extract(ts_text, '\\\\.([0-9]+)'), '000000'), 1, 6)) AS {f[0]}_us"
                )
            else:
                select.append(f[0])
            if f[2] and f[1] == "str":
                where.append(f"{f[0]} != ''")
            if f[1] == "coord":
                where.append(f"{f[0]} BETWEEN {f[3]} AND {f[4]}")
        # 18.16 has no virtual columns _topic/_partition/_offset on Kafka tables: constants.
        select += [f"'{t}' AS _topic", "toUInt16(0) AS _partition", "toUInt64(0) AS _offset", "now() AS _ingested_at"]
        print(
            "CREATE MATERIALIZED VIEW {}.mv_{} TO {}.{} AS SELECT {} FROM {}{}".format(
                db, table, db, table, ", ".join(select), src, " WHERE " + " AND ".join(where) if where else ""
            )
        )


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    fn = {
        "watermarks": cmd_watermarks,
        "commit": cmd_commit,
        "expect": cmd_expect,
        "consume": cmd_consume,
        "http": cmd_http,
        "ddl": cmd_ddl,
    }.get(cmd)
    if fn is None:
        sys.exit(__doc__)
    fn(*args)


if __name__ == "__main__":
    main()
