"""ClickHouse 26.9 as a server: the engine of PyPI's chdb-core, with its HTTP and native listeners.

Run by `clickflow stack` from the folder holding config.xml (listen_host, http_port, tcp_port,
users), with the chdb virtualenv's python:  server.py DATA_DIR

chdb embeds clickhouse-local, which reads ./config.xml and starts real listeners on
SYSTEM START LISTEN. The listeners live as long as the query that started them, so that query
ends by sleeping forever. The engine library is loaded by itself: chdb/__init__.py would open
a second engine, and a query from that one cannot start listeners. Why the in-process user is
`default` with only the SYSTEM LISTEN grant: docs/clickhouse.md#access.
"""

import ctypes
import importlib.util
import os
import socket
import sys
import threading
import time
import xml.etree.ElementTree as ET

# One row every 3 s for ~95 years: the server's lifetime.
BOOT = (
    "SYSTEM START LISTEN HTTP; SYSTEM START LISTEN TCP; "
    "SELECT sleepEachRow(3) FROM numbers(1000000000) "
    "SETTINGS max_block_size = 1, function_sleep_max_microseconds_per_block = 0"
)

# The in-process user may also stop the listeners (one grant covers START and STOP LISTEN), and
# a server without listeners looks alive to its supervisor: exit instead, so it is restarted.
WATCH_SECONDS = 2
GONE_AFTER_SECONDS = 10


def listeners() -> list:
    root = ET.parse("config.xml").getroot()
    host = root.findtext("listen_host", "127.0.0.1")
    return [(host, int(root.findtext(key))) for key in ("http_port", "tcp_port")]


def accepts(address) -> bool:
    try:
        socket.create_connection(address, timeout=2).close()
        return True
    except OSError:
        return False


def watch(addresses) -> None:
    up_since_boot = False
    down_since = None
    while True:
        time.sleep(WATCH_SECONDS)
        if all(accepts(a) for a in addresses):
            up_since_boot, down_since = True, None
        elif up_since_boot:
            down_since = down_since or time.monotonic()
            if time.monotonic() - down_since >= GONE_AFTER_SECONDS:
                print(
                    f"clickhouse (chdb): a listener of {addresses} is closed: exiting to be restarted", file=sys.stderr
                )
                os._exit(1)


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: server.py DATA_DIR", file=sys.stderr)
        return 2
    package = importlib.util.find_spec("chdb")
    if package is None or package.origin is None:
        print("chdb-core is not installed: run scripts/install-deps.sh", file=sys.stderr)
        return 1
    library = os.path.join(os.path.dirname(package.origin), "_chdb.abi3.so")
    # RTLD_DEEPBIND, as chdb does: the library's own allocator wins over the interpreter's.
    ctypes.CDLL(library, mode=os.RTLD_NOW | 0x8)
    spec = importlib.util.spec_from_file_location("chdb._chdb", library)
    engine = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(engine)
    threading.Thread(target=watch, args=(listeners(),), daemon=True).start()
    try:
        engine.query(BOOT, "TSV", path=sys.argv[1])
    except RuntimeError as e:  # a port in use, a bad config.xml: the engine's own message
        print(f"clickhouse (chdb): {e}", file=sys.stderr)
        return 1
    print("the engine's boot query ended: the listeners are gone", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
