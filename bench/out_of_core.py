"""Out-of-core benchmark (issue #7): bucketed runs against the in-memory run, and the
Twitter-2010-scale moonshot. Run through `ci/bench.sh out-of-core [...]`.

1. Proof (default 3M accounts, ~110M follows): the same population in memory, in K spilled
   buckets and in K re-read buckets; every table must be byte-identical. Prints time and
   peak RSS of each.
2. Moonshot (--moonshot): generates 41.7M accounts / ~1.47B follows / ~0.5B interactions
   (timed), then runs the job under --memory-limit 16GiB, and prints wall time, peak RSS,
   stage times, bucket count and spill volume from the manifest. Needs ~26 GB of disk for
   the inputs (plus ~55 GB if the spill dir has room to spill; else the run re-reads).
"""
import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / "target" / "release" / "reciprocity"
TABLES = ["account_metrics", "population_summary", "reciprocity_by_followers", "brand_audience"]


def timed(cmd):
    """Runs cmd under /usr/bin/time; returns (seconds, peak RSS in MiB)."""
    result = subprocess.run(["/usr/bin/time", "-f", "BENCH %e %M"] + [str(c) for c in cmd],
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{result.stderr[-3000:]}")
    line = [l for l in result.stderr.splitlines() if l.startswith("BENCH ")][-1]
    _, seconds, kb = line.split()
    return float(seconds), int(kb) / 1024


def generate(data, accounts, *extra):
    if not (data / ".complete").exists():
        shutil.rmtree(data, ignore_errors=True)
        seconds, mib = timed([BIN, "generate", "--out", data, "--accounts", str(accounts), *extra])
        print(f"generated {accounts:,} accounts in {seconds:.1f} s, peak RSS {mib:,.0f} MiB", file=sys.stderr)
        (data / ".complete").touch()
    return data


def digests(out):
    """sha256 of every table object, by table and name."""
    return {f"{t}/{p.name}": hashlib.sha256(p.read_bytes()).hexdigest()
            for t in TABLES for p in sorted((out / t).glob("*.parquet"))}


def run(data, out, *extra):
    cmd = [BIN, "run", "--follows", data / "follows", "--interactions", data / "interactions",
           "--out", out, "--overwrite", "--log-format", "json", "--date", "2026-11-29", *extra]
    seconds, mib = timed(cmd)
    manifest = json.loads((out / "_manifest.json").read_text())
    return seconds, mib, manifest


def stages(manifest):
    return " · ".join(f"{t['stage']} {t['seconds']:.1f}" for t in manifest["timings_s"])


def proof(args):
    data = generate(args.data_dir / f"pop-{args.accounts}-s7-g2", args.accounts, "--seed", "7")
    work = args.data_dir / "out-of-core"
    shutil.rmtree(work, ignore_errors=True)
    spill = work / "spill"
    spill.mkdir(parents=True)
    ways = {
        "in memory": [],
        f"{args.buckets} buckets, spilled": ["--buckets", str(args.buckets), "--spill-dir", spill],
        f"{args.buckets} buckets, re-read": ["--buckets", str(args.buckets), "--rescan"],
    }
    print("| how | seconds | peak RSS (MiB) | execution | stages (s) | tables |\n| --- | ---: | ---: | --- | --- | --- |")
    want = None
    for i, (name, extra) in enumerate(ways.items()):
        out = work / f"out-{i}"
        seconds, mib, m = run(data, out, *extra)
        got = digests(out)
        want = want or got
        same = "reference" if i == 0 else ("byte-identical" if got == want else "**DIFFER**")
        e = m["execution"]
        print(f"| {name} | {seconds:.2f} | {mib:,.0f} | {e['mode']} K={e['buckets']} spilled={e['spill_bytes']} "
              f"| {stages(m)} | {same} |")
        if got != want:
            sys.exit("tables differ")
    follows = m["inputs"]["follows"]["rows"]
    print(f"\n{args.accounts:,} accounts, {follows:,} follow rows.")
    shutil.rmtree(work, ignore_errors=True)


def moonshot(args):
    data = generate(args.data_dir / "twitter-2010-scale", 41_700_000, "--following", "32.6",
                    "--interactions", "12", "--files", "32", "--seed", "2010")
    out = args.data_dir / "twitter-2010-scale-out"
    seconds, mib, m = run(data, out, "--memory-limit", args.memory_limit)
    e = m["execution"]
    print(f"| {m['accounts']:,} accounts, {m['inputs']['follows']['rows']:,} follows, "
          f"{m['inputs']['interactions']['rows']:,} events | --memory-limit {args.memory_limit} "
          f"| {seconds / 60:.1f} min | {mib / 1024:.2f} GiB | {e['mode']}, K = {e['buckets']}, "
          f"spilled {e['spill_bytes'] or 0:,} B | {stages(m)} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=3_000_000)
    ap.add_argument("--buckets", type=int, default=4)
    ap.add_argument("--moonshot", action="store_true")
    ap.add_argument("--memory-limit", default="16GiB")
    ap.add_argument("--data-dir", type=Path, default=ROOT / "target" / "bench-data")
    args = ap.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    moonshot(args) if args.moonshot else proof(args)


if __name__ == "__main__":
    main()
