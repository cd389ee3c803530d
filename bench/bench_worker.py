"""Like-for-like HTTP benchmark of the edge endpoint and the services a user would pick instead, in
one run, with one external load generator (wrk) for every system.

    make bench-worker                # builds what it needs, installs wrk, runs this script
    .venv/bin/python bench/bench_worker.py [--seconds 4] [--rounds 3] [--only NAME,...]

Systems (all on 127.0.0.1, started once, measured in interleaved rounds):
  workerd alone      the built worker in workerd itself (bench/workerd_alone.capnp): no Miniflare,
                     no asset routing, no log store bound (logging off); the upper bound
  workerd            the built worker in workerd through Miniflare (`make serve`: worker/serve.mjs),
                     prediction logging off, then on (R2 and Queues simulated on disk, as
                     `make serve` runs it)
  wrangler dev       the same worker behind `wrangler dev` (`make dev`), logging off, then on
  fastapi            bench/peers/fastapi_app.py: FastAPI + LightGBM Booster.predict, one uvicorn
                     worker process
  mlflow             `mlflow models serve` (local env, one worker) of the same LightGBM model

The peers' model: LightGBM with the bundle's own training parameters (same trees, leaves and 45
features, computed by `creditscore features`) trained on the project's synthetic data; cached under
target/bench/worker/. Each request scores the seed README's client: POST /predict {"data": record}
for the worker and FastAPI; MLflow's own `dataframe_split` body (the same record's 45 features) for
MLflow. For each system and 1 and 32 requests in flight, every round runs `wrk -t1 -cN` for the
given seconds; the table shows the median over rounds of req/s, p50 and p99 latency (wrk's
percentiles), and the server's CPU time per request (all its processes, from /proc), plus the cold
start (process start to the first 200 of POST /predict). The machine's cores are shared by the
load generator and every server (and, on a busy machine, other work): compare ratios in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench" / "peers"))
from peer_model import FeatureMap, bundle_header  # noqa: E402

WORK = ROOT / "target" / "bench" / "worker"
BUNDLE = ROOT / "models" / "default.csb"
CLI = Path(os.environ.get("CREDITSCORE_CLI", ROOT / "target" / "release" / "creditscore"))
VENV_BIN = Path(sys.executable).parent
NODE = shutil.which("node") or "node"
TICK = os.sysconf("SC_CLK_TCK")


def seed_client() -> dict:
    """The seed README's example client, from the one copy the npm, browser and worker tests use."""
    script = "import('./tests/npm/fixtures.mjs').then((m) => console.log(JSON.stringify(m.SEED_CLIENT)))"
    return json.loads(
        subprocess.run([NODE, "-e", script], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    )


SECRETS = ["--var", "LOGS_ACCESS_TOKEN:bench-token", "--var", "LOG_HASH_KEY:bench-hash-key"]


def prepare_peer_model() -> dict:
    """Trains (once per bundle) the peers' LightGBM model; returns the bundle header."""
    header = bundle_header(BUNDLE)
    stamp = WORK / "bundle.sha256"
    sha = subprocess.run(
        ["sha256sum", str(BUNDLE)], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    if stamp.exists() and stamp.read_text() == sha and (WORK / "mlflow_model").exists():
        return header
    import lightgbm as lgb
    import mlflow.lightgbm
    import pandas as pd

    sys.path.insert(0, str(ROOT / "train"))
    from creditscore_train import synthetic

    WORK.mkdir(parents=True, exist_ok=True)
    raw = synthetic.generate(20000, seed=7)
    target = raw.pop(synthetic.TARGET)
    raw.to_csv(WORK / "raw.csv", index=False)
    subprocess.run(
        [
            str(CLI),
            "features",
            "--schema",
            str(BUNDLE),
            "--input",
            str(WORK / "raw.csv"),
            "--out",
            str(WORK / "features.csv"),
        ],
        check=True,
    )
    x = pd.read_csv(WORK / "features.csv")
    params = dict(header["meta"]["training"]["params"])
    model = lgb.LGBMClassifier(**params, random_state=7, verbose=-1, n_jobs=1).fit(x, target)
    booster = model.booster_
    booster.save_model(str(WORK / "model.txt"))
    (WORK / "schema.json").write_text(
        json.dumps({"schema": header["schema"], "threshold": header["threshold"]})
    )
    shutil.rmtree(WORK / "mlflow_model", ignore_errors=True)
    mlflow.lightgbm.save_model(booster, str(WORK / "mlflow_model"))
    stamp.write_text(sha)
    return header


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, body: bytes, timeout: float = 5.0) -> tuple[int, str]:
    """(status, body text); status 0 while nothing answers."""
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, res.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except OSError:
        return 0, ""


class System:
    def __init__(
        self, name: str, cmd: list[str], body: bytes, env: dict | None = None, path: str = "/predict"
    ):
        self.name, self.cmd, self.body, self.env, self.path = name, cmd, body, env, path
        self.port = free_port()
        self.cmd = [c.replace("{port}", str(self.port)) for c in cmd]
        self.url = f"http://127.0.0.1:{self.port}{path}"
        self.proc: subprocess.Popen | None = None
        self.cold_start_ms = float("nan")
        self.log = tempfile.TemporaryFile()

    def start(self, timeout: float = 600.0) -> None:
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=ROOT,
            env={**os.environ, **(self.env or {})},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own session: CPU accounting and stopping cover every child
        )
        while True:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"{self.name} exited: {self.log.read().decode(errors='replace')[-3000:]}")
            status, text = post(self.url, self.body, timeout=2.0)
            if status == 200:
                self.cold_start_ms = (time.perf_counter() - t0) * 1e3
                return
            if status not in (0, 502, 503):  # answering, but not with a score: the body is wrong
                raise RuntimeError(f"{self.name}: POST {self.path} answered {status}: {text[:2000]}")
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError(f"{self.name}: no 200 after {timeout} s")
            time.sleep(0.01)

    def cpu_seconds(self) -> float:
        """User + system CPU time of every live process in the system's session."""
        total = 0
        sid = self.proc.pid
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[3]) == sid:  # field 6 of stat: session id
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / TICK

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def wrk_script(body: bytes) -> Path:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(body.decode())}\n"
    )
    return script


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def run_wrk(system: System, script: Path, conns: int, seconds: int) -> dict:
    cpu0 = system.cpu_seconds()
    out = subprocess.run(
        ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", str(script), system.url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = system.cpu_seconds() - cpu0
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if bad or errors or requests == 0:
        raise RuntimeError(f"{system.name}: failed requests at {conns} in flight:\n{out}")
    pct = {
        p: float(v) * UNITS[u] for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    }
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": pct["50"],
        "p99_ms": pct["99"],
        "cpu_ms_per_request": cpu * 1e3 / requests,
    }


def systems(header: dict, only: set[str] | None) -> list[System]:
    client = seed_client()
    record = json.dumps({"data": client}).encode()
    features = FeatureMap(header["schema"])
    mlflow_body = json.dumps(
        # NaN for a missing value, as Python's json module writes it: mlflow reads it as a float
        # (null would make the column an object column, which LightGBM rejects).
        {"dataframe_split": {"columns": features.names, "data": [features.features(client)]}}
    ).encode()
    state = tempfile.mkdtemp(prefix="creditscore-bench-state-")
    wrangler = str(ROOT / "node_modules" / "wrangler" / "bin" / "wrangler.js")
    serve = [NODE, "worker/serve.mjs", "--quiet", "--port", "{port}", *SECRETS]
    dev = [NODE, wrangler, "dev", "--ip", "127.0.0.1", "--port", "{port}", "--inspector-port", "0", *SECRETS]
    off = ["--var", "LOG_PREDICTIONS:0"]
    cf_off = {"CLOUDFLARE_CF_FETCH_ENABLED": "false", "WRANGLER_SEND_METRICS": "false", "CI": "1"}
    peer_env = {"PEER_DIR": str(WORK)}
    workerd = [str(ROOT / "node_modules" / ".bin" / "workerd"), "serve", str(ROOT / "bench" / "workerd_alone.capnp")]
    all_systems = [
        System("workerd alone, no Miniflare (logs off)", [*workerd, "--socket-addr", "http=127.0.0.1:{port}"], record),
        System("workerd logs off", [*serve, *off, "--persist-to", f"{state}/a"], record),
        System("workerd logs on (make serve)", [*serve, "--persist-to", f"{state}/b"], record),
        System("wrangler dev logs off", [*dev, *off, "--persist-to", f"{state}/c"], record, cf_off),
        System("wrangler dev logs on (make dev)", [*dev, "--persist-to", f"{state}/d"], record, cf_off),
        System(
            "fastapi + Booster.predict",
            [
                str(VENV_BIN / "uvicorn"),
                "--app-dir",
                "bench/peers",
                "fastapi_app:app",
                "--host",
                "127.0.0.1",
                "--port",
                "{port}",
                "--workers",
                "1",
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            record,
            peer_env,
        ),
        System(
            "mlflow models serve",
            [
                str(VENV_BIN / "mlflow"),
                "models",
                "serve",
                "-m",
                str(WORK / "mlflow_model"),
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                "{port}",
                "-w",
                "1",
            ],
            mlflow_body,
            # It starts `uvicorn` from PATH.
            {"PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
            "/invocations",
        ),
    ]
    return [s for s in all_systems if only is None or any(o in s.name for o in only)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=4, help="wrk duration per round and system")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", help="comma-separated substrings of system names")
    ap.add_argument("--json", type=Path, default=WORK / "results.json")
    args = ap.parse_args()
    # Stopped from outside (timeout, Ctrl-C): still stop every server started (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    header = prepare_peer_model()
    chosen = systems(header, set(args.only.split(",")) if args.only else None)
    scripts = {s.name: wrk_script(s.body) for s in chosen}
    results: dict[str, dict] = {}
    try:
        for s in chosen:
            s.start()
            print(f"started {s.name}: first 200 after {s.cold_start_ms:.0f} ms", flush=True)
        for s in chosen:  # warm-up (JIT, caches, first log writes)
            run_wrk(s, scripts[s.name], 8, 1)
        for conns in (1, 32):
            runs: dict[str, list[dict]] = {s.name: [] for s in chosen}
            for r in range(args.rounds):
                for s in chosen:
                    runs[s.name].append(run_wrk(s, scripts[s.name], conns, args.seconds))
                print(f"{conns} in flight: round {r + 1}/{args.rounds} done", flush=True)
            for name, rs in runs.items():
                results.setdefault(name, {})[str(conns)] = {
                    k: statistics.median(x[k] for x in rs) for k in rs[0]
                }
    finally:
        for s in chosen:
            s.stop()
    for s in chosen:
        results[s.name]["cold_start_ms"] = s.cold_start_ms
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))
    print_table(results, args)


def print_table(results: dict, args) -> None:
    load = os.getloadavg()[0]
    print(
        f"\nPOST /predict, seed README client; wrk -t1, {args.rounds} interleaved rounds "
        f"of {args.seconds} s, medians; "
        f"{os.cpu_count()} cores shared by wrk and the servers (load average {load:.1f} at the end)"
    )
    print("| system | in flight | req/s | p50 ms | p99 ms | CPU ms/req | cold start ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        for c in ("1", "32"):
            m = r[c]
            print(
                f"| {name} | {c} | {m['rps']:.0f} | {m['p50_ms']:.2f} | {m['p99_ms']:.2f} | "
                f"{m['cpu_ms_per_request']:.2f} | {r['cold_start_ms']:.0f} |"
            )
    products = [n for n in results if n.startswith("workerd")]
    peers = [n for n in results if not n.startswith("workerd")]
    if products and peers:
        print("\nreq/s ratios (product / other, same run):")
        for p in products:
            for c in ("1", "32"):
                ratios = ", ".join(f"{q}: {results[p][c]['rps'] / results[q][c]['rps']:.2f}x" for q in peers)
                print(f"  {p}, {c} in flight -> {ratios}")


if __name__ == "__main__":
    main()
