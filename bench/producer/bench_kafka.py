"""Helpers for bench/producer/run.sh, on confluent-kafka (the client Python pipelines use).

bench_kafka.py create BOOTSTRAP TOPIC...         fresh topics, 3 partitions
bench_kafka.py delete BOOTSTRAP TOPIC...
bench_kafka.py count BOOTSTRAP TOPIC             messages in the topic (sum of high watermarks)
bench_kafka.py produce BOOTSTRAP TOPIC FILE KEY  the Python baseline: same settings as clickflow
"""

import json
import sys

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

# Must match DefaultProducerProperties() in src/kafka/producer.cc (run.sh passes these to kcat too).
PRODUCER_PROPERTIES = {
    "enable.idempotence": True,
    "acks": "all",
    "compression.type": "lz4",
    "linger.ms": 10,
    "batch.size": 1000000,
    "batch.num.messages": 100000,
    "partitioner": "murmur2_random",
    "message.timeout.ms": 120000,
    "allow.auto.create.topics": False,
}


def create(bootstrap, topics):
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 4})
    futures = admin.create_topics([NewTopic(t, num_partitions=3, replication_factor=1) for t in topics])
    for f in futures.values():
        f.result(30)


def delete(bootstrap, topics):
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 4})
    for t, f in admin.delete_topics(list(topics), operation_timeout=30).items():
        try:
            f.result(30)
        except KafkaException as e:
            print(f"delete {t}: {e}", file=sys.stderr)


def count(bootstrap, topic):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "clickflow-bench-count"})
    md = c.list_topics(topic, timeout=30)
    total = 0
    for p in md.topics[topic].partitions:
        low, high = c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
        total += high - low
    c.close()
    print(total)


def produce(bootstrap, topic, path, key_field):
    failed = 0
    first_error = None

    def on_delivery(err, _msg):
        nonlocal failed, first_error
        if err is not None:
            failed += 1
            first_error = first_error or str(err)

    p = Producer({"bootstrap.servers": bootstrap, **PRODUCER_PROPERTIES})
    lines = 0
    with open(path, "rb", buffering=1 << 20) as f:
        for raw_line in f:
            line = raw_line.rstrip(b"\n")
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                continue
            key = None
            try:
                doc = json.loads(line)
                if isinstance(doc, dict) and isinstance(doc.get(key_field), str):
                    key = doc[key_field]
            except ValueError:
                pass
            while True:
                try:
                    p.produce(topic, value=line, key=key, on_delivery=on_delivery)
                    break
                except BufferError:  # local queue full: serve delivery reports, retry
                    p.poll(0.01)
            lines += 1
            if lines % 1000 == 0:
                p.poll(0)
    left = p.flush(180)
    if failed or left:
        sys.exit(f"{failed} failed, {left} undelivered; first error: {first_error}")
    print(lines)


def main(argv):
    cmd, bootstrap, *rest = argv[1:]
    {
        "create": lambda: create(bootstrap, rest),
        "delete": lambda: delete(bootstrap, rest),
        "count": lambda: count(bootstrap, rest[0]),
        "produce": lambda: produce(bootstrap, *rest),
    }[cmd]()


if __name__ == "__main__":
    main(sys.argv)
