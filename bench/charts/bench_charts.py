"""Times every chart of the Superset dashboards: the chart-data API (cold: force=true) against
ClickHouse running the very SQL Superset generated for it. Standard library only.

  python3 bench_charts.py SUPERSET_URL ADMIN_PASSWORD CLICKHOUSE_URL CH_USER CH_PASSWORD [RUNS]
"""

import json
import statistics
import sys
import time
import urllib.error
import urllib.request

superset, password, clickhouse, ch_user, ch_password = sys.argv[1:6]
runs = int(sys.argv[6]) if len(sys.argv) > 6 else 7


def call(url, body=None, headers=None):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return r.read()
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"HTTP {e.code}: {e.read()[:300].decode(errors='replace')}") from None


def api(path, body=None):
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return json.loads(call(superset + path, body, headers))


token = json.loads(
    call(
        f"{superset}/api/v1/security/login",
        json.dumps({"username": "admin", "password": password, "provider": "db"}),
        {"Content-Type": "application/json"},
    )
)["access_token"]
charts = api("/api/v1/chart/?q=(columns:!(id,slice_name),page_size:100)")["result"]


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


print(f"{'chart':<44} {'API p50':>8} {'API p95':>8} {'CH p50':>8} {'ratio':>6}")
worst_p95, ratios, failed = 0.0, [], []
for chart in sorted(charts, key=lambda c: c["slice_name"]):
    cid = chart["id"]
    context = json.loads(api(f"/api/v1/chart/{cid}")["result"]["query_context"])
    # The SQL Superset runs for this chart (result_type=query), to time it bare on ClickHouse.
    sqls = [
        q["query"].strip().rstrip(";")
        for q in api("/api/v1/chart/data", json.dumps({**context, "result_type": "query"}))["result"]
    ]
    try:
        api_times = [timed(lambda cid=cid: api(f"/api/v1/chart/{cid}/data/?force=true")) for _ in range(runs)]
    except RuntimeError as e:
        failed.append(chart["slice_name"])
        print(f"{chart['slice_name'][:44]:<44} FAILED: {' '.join(str(e).split())[:160]}")
        continue
    ch_headers = {"X-ClickHouse-User": ch_user, "X-ClickHouse-Key": ch_password}
    ch_times = [
        timed(lambda sqls=sqls, headers=ch_headers: [call(clickhouse, s + "\nFORMAT JSON", headers) for s in sqls])
        for _ in range(runs)
    ]
    a50, a95, c50 = pct(api_times, 50), pct(api_times, 95), pct(ch_times, 50)
    worst_p95 = max(worst_p95, a95)
    ratios.append(a50 / c50)
    print(f"{chart['slice_name'][:44]:<44} {a50:8.3f} {a95:8.3f} {c50:8.3f} {a50 / c50:6.1f}")
print(
    f"worst chart p95: {worst_p95:.3f} s (goal <= 1 s); API/ClickHouse p50 ratio: median "
    f"{statistics.median(ratios):.1f}x, max {max(ratios):.1f}x (goal <= 3x)"
)
if failed:
    print(f"{len(failed)} chart(s) failed: {', '.join(failed)}")
    sys.exit(1)
