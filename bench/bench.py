"""Benchmark: our job against DuckDB and Polars on the same generated populations.

Times whole processes (median of --runs, rounds interleaved so that drift hits every tool
alike) with /usr/bin/time for wall time, CPU time (user and kernel) and peak RSS, checks
DuckDB's tables equal ours, and prints a Markdown table for docs/benchmarks.md. Run through
ci/bench.sh.
"""
import argparse
import json
import math
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / "target" / "release" / "reciprocity"


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time; returns (seconds, peak RSS in MiB, user s, kernel s)."""
    result = subprocess.run(
        ["/usr/bin/time", "-f", "BENCH %e %M %U %S"] + cmd, capture_output=True, text=True, env=env
    )
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{result.stderr[-3000:]}")
    line = [l for l in result.stderr.splitlines() if l.startswith("BENCH ")][-1]
    _, seconds, kb, user, kernel = line.split()
    return float(seconds), int(kb) / 1024, float(user), float(kernel)


def medians(runs):
    """Median wall, user and kernel seconds of a case's runs, and its highest peak RSS."""
    return {
        "s": statistics.median(r[0] for r in runs),
        "rss": max(r[1] for r in runs),
        "user": statistics.median(r[2] for r in runs),
        "sys": statistics.median(r[3] for r in runs),
    }


def duckdb_cmd(sql_file, data, out):
    sql = (ROOT / "bench" / sql_file).read_text().replace("{data}", str(data)).replace("{out}", str(out))
    script = out / f"{sql_file}.run.sql"
    script.write_text(sql)
    return [sys.executable, "-c", f"import duckdb; duckdb.connect().execute(open({str(script)!r}).read())"]


def generate(data_dir, accounts, seed):
    # -g2: the block-by-block generator (interactions drawn from each account's own follows).
    data = data_dir / f"pop-{accounts}-s{seed}-g2"
    if not (data / ".complete").exists():
        shutil.rmtree(data, ignore_errors=True)
        subprocess.run([BIN, "generate", "--out", data, "--accounts", str(accounts), "--seed", str(seed)], check=True)
        (data / ".complete").touch()
    return data


def evolve(data):
    nxt = data.parent / (data.name + "-next")
    if not (nxt / ".complete").exists():
        shutil.rmtree(nxt, ignore_errors=True)
        subprocess.run([BIN, "generate", "--out", nxt, "--evolve-from", data, "--seed", "8"], check=True)
        (nxt / ".complete").touch()
    return nxt


def compare(ours, theirs):
    """Rows of account_metrics and population_summary that differ beyond 1e-9."""
    con = duckdb.connect()
    bad = 0
    for table, key in [("account_metrics", "account_id"), ("population_summary", None),
                       ("reciprocity_by_followers", "bucket")]:
        a = pl.read_parquet(f"{ours}/{table}/*.parquet")
        b = pl.read_parquet(f"{theirs}/{table}.parquet")
        common = [c for c in b.columns if c in a.columns and c != "account_type"]
        a, b = a.select(common), b.select(common)
        if key:
            a, b = a.sort(key), b.sort(key)
        if a.height != b.height:
            print(f"  {table}: {a.height} rows vs {b.height}")
            bad += 1
            continue
        for c in common:
            x, y = a[c], b[c]
            if x.dtype.is_numeric() and y.dtype.is_numeric():
                x, y = x.cast(pl.Float64), y.cast(pl.Float64)
                differ = ((x - y).abs() > 1e-9 * pl.max_horizontal(x.abs(), y.abs(), pl.lit(1.0))) | (x.is_null() != y.is_null())
                n = pl.select(differ.fill_null(False)).to_series().sum()
            else:
                n = (x.cast(pl.String) != y.cast(pl.String)).fill_null(True).sum()
            if n:
                print(f"  {table}.{c}: {n} rows differ")
                bad += 1
    del con
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--scaling", type=int, nargs="*", default=None, metavar="ACCOUNTS",
                    help="populations of the scaling line besides --accounts (default, and with no value: "
                         "half and twice --accounts)")
    ap.add_argument("--no-scaling", action="store_true", help="skip the scaling line")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1,
                    help="untimed rounds of every case before the timed ones (as hyperfine --warmup)")
    ap.add_argument("--data-dir", type=Path, default=ROOT / "target" / "bench-data")
    ap.add_argument("--baseline", type=Path, default=None, metavar="BIN",
                    help="another build of reciprocity (e.g. main before a change): each of our cases also runs "
                         "with it, interleaved, and a before/after table is printed")
    args = ap.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, POLARS_MAX_THREADS="2")
    data = generate(args.data_dir, args.accounts, 7)
    nxt = evolve(data)
    work = Path(tempfile.mkdtemp(prefix="bench-", dir=args.data_dir))

    def ours(name, *extra, bin=BIN):
        out = work / name
        return [bin, "run", "--follows", f"{data}/follows", "--out", out, "--overwrite", "--log-format", "json", *extra]

    def fresh(name):
        out = work / name
        out.mkdir(exist_ok=True)
        return out

    cases = {
        "ours: full job (no brands)": lambda: ours("full", "--interactions", f"{data}/interactions"),
        "duckdb: full job (no brands)": lambda: duckdb_cmd("duckdb_job.sql", data, fresh("duckdb-full")),
        "ours: reciprocity core": lambda: ours("core"),
        "duckdb: reciprocity core": lambda: duckdb_cmd("duckdb_core.sql", data, fresh("duckdb-core")),
        "polars: reciprocity core": lambda: [sys.executable, ROOT / "bench" / "polars_core.py", data, fresh("polars-core")],
        "ours: full job + brands": lambda: ours("brands", "--interactions", f"{data}/interactions", "--accounts", f"{data}/accounts"),
        "ours: full job + brands, reach estimated": lambda: ours(
            "brands-est", "--interactions", f"{data}/interactions", "--accounts", f"{data}/accounts", "--reach-2hop", "estimate"),
        "ours: full job + previous night": lambda: [
            BIN, "run", "--follows", f"{nxt}/follows", "--interactions", f"{nxt}/interactions",
            "--previous-follows", f"{data}/follows", "--out", work / "prev", "--overwrite", "--log-format", "json"],
        "ours: full job on the next night": lambda: [
            BIN, "run", "--follows", f"{nxt}/follows", "--interactions", f"{nxt}/interactions",
            "--out", work / "noprev", "--overwrite", "--log-format", "json"],
    }
    if args.baseline:
        # The same commands with the baseline binary, writing elsewhere.
        def with_baseline(make, name):
            def command():
                cmd = [str(c) for c in make()]
                return [str(args.baseline)] + [c.replace(str(work), str(work / "baseline")) for c in cmd[1:]]
            return command

        (work / "baseline").mkdir()
        for name in [n for n in cases if n.startswith("ours: ")]:
            cases["baseline: " + name[len("ours: "):]] = with_baseline(cases[name], name)
    # Untimed warm-up rounds: the first run after the machine sat idle pays for the memory
    # the VM has taken back, and for inputs evicted from the page cache (runs K-O: the
    # benchmark's first case, always the previous night in the seeded order, took 5.3-6.6 s
    # where its other undisturbed rounds took 3.8-4.7 s; a cold page cache alone adds
    # 0.3-0.5 s). Every case, peers included, gets the same warm-up.
    for w in range(args.warmup):
        for name, make in cases.items():
            timed([str(c) for c in make()], env=env)
        print(f"warm-up round {w + 1} of {args.warmup} done (untimed)", file=sys.stderr)
    results = {name: [] for name in cases}
    for round_ in range(args.runs):
        # A fresh order each round (seeded, so reruns match): whichever case follows DuckDB's
        # multi-GB process pays for the memory it freed (seen in run H), so no case should
        # always be the one that does.
        order = list(cases.items())
        random.Random(round_).shuffle(order)
        previous = "nothing"
        for name, make in order:
            results[name].append(timed([str(c) for c in make()], env=env))
            # What ran just before explains much of a round's time (docs/benchmarks.md, runs H-J).
            wall, _, _, kernel = results[name][-1]
            print(f"round {round_ + 1}: {name}: {wall:.2f} s, {kernel:.2f} s in the kernel (after {previous})", file=sys.stderr)
            previous = name

    mismatches = compare(work / "full", work / "duckdb-full")
    med = {name: medians(r) for name, r in results.items()}
    manifest = json.loads((work / "full" / "_manifest.json").read_text())

    # The scaling line: our full job on each population, rounds interleaved like the cases'.
    points = [] if args.no_scaling else sorted(set((args.scaling or [args.accounts // 2, 2 * args.accounts]) + [args.accounts]))
    if len(points) < 2:
        points = []
    dirs = {n: generate(args.data_dir, n, 7) for n in points}
    scale_runs = {n: [] for n in points}
    for _ in range(args.runs):
        for n in points:
            d = dirs[n]
            scale_runs[n].append(timed([str(BIN), "run", "--follows", f"{d}/follows", "--interactions",
                                        f"{d}/interactions", "--out", str(work / f"scale-{n}"), "--overwrite",
                                        "--log-format", "json"]))
    scaling = []
    for n in points:
        rows = json.loads((work / f"scale-{n}" / "_manifest.json").read_text())["inputs"]["follows"]["rows"]
        scaling.append((n, rows, medians(scale_runs[n])))

    versions = subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"\n### {args.accounts:,} accounts, {manifest['inputs']['follows']['rows']:,} follow rows, "
          f"{manifest['inputs']['interactions']['rows']:,} interaction rows (median of {args.runs})\n")
    print(f"Machine: {os.cpu_count()} cores, {platform.platform()}; {versions}, duckdb {duckdb.__version__}, "
          f"polars {pl.__version__}\n")
    # CPU time beside wall time: on this VM the kernel's clearing of fresh pages (sys) swings
    # with what ran before, while user time is the work itself (docs/benchmarks.md, run S).
    print("| what | seconds | CPU user (s) | CPU sys (s) | peak RSS (MiB) |\n| --- | ---: | ---: | ---: | ---: |")
    for name, m in med.items():
        print(f"| {name} | {m['s']:.2f} | {m['user']:.2f} | {m['sys']:.2f} | {m['rss']:,.0f} |")
    wall = {name: m["s"] for name, m in med.items()}
    full = wall["duckdb: full job (no brands)"] / wall["ours: full job (no brands)"]
    best_peer = min(wall["duckdb: reciprocity core"], wall["polars: reciprocity core"])
    core = best_peer / wall["ours: reciprocity core"]
    brands = wall["ours: full job + brands"] / wall["ours: full job (no brands)"] - 1
    brands_est = wall["ours: full job + brands, reach estimated"] / wall["ours: full job (no brands)"] - 1
    prev = wall["ours: full job + previous night"] / wall["ours: full job on the next night"]
    # Two decimals: one would print 4.98 as "5.0×" against a target of 5×.
    print(f"\n- full job: **{full:.2f}×** faster than DuckDB (target ≥ 10×)")
    print(f"- reciprocity core: **{core:.2f}×** faster than the best of DuckDB and Polars (target ≥ 5×)")
    print(f"- brand_audience adds **{100 * brands:.0f}%** with exact 2-hop reach, "
          f"**{100 * brands_est:.0f}%** with it estimated (target ≤ 50%)")
    print(f"- with the previous night: **{prev:.2f}×** the run without it (target ≤ 1.5×)")
    print(f"- DuckDB's tables equal ours: {'yes' if mismatches == 0 else f'NO ({mismatches} differences)'}")
    print(f"- our stage times (s): " + ", ".join(f"{t['stage']} {t['seconds']:.2f}" for t in manifest["timings_s"]))
    if args.baseline:
        print(f"\nBefore/after, the same cases interleaved (median of {args.runs}; before = {args.baseline}):\n")
        print("| case | before (s) | after (s) | after / before | user before | user after |\n"
              "| --- | ---: | ---: | ---: | ---: | ---: |")
        for name in [n for n in med if n.startswith("ours: ")]:
            a, b = med[name], med["baseline: " + name[len("ours: "):]]
            print(f"| {name[len('ours: '):]} | {b['s']:.2f} | {a['s']:.2f} | {a['s'] / b['s']:.3f} "
                  f"| {b['user']:.2f} | {a['user']:.2f} |")
    if scaling:
        print(f"\nScaling, our full job (median of {args.runs}, rounds interleaved):\n")
        print("| accounts | follow rows | seconds | CPU user (s) | CPU sys (s) | peak RSS (MiB) | time vs previous "
              "| per doubling of rows | user time per doubling |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    previous = None
    for n, rows, m in scaling:
        times = per_doubling = user_per_doubling = ""
        if previous:
            # Normalised to exactly 2× the rows: the target is ≤ 2.2×.
            doubling = math.log(2) / math.log(rows / previous[0])
            times = f"{m['s'] / previous[1]['s']:.2f}×"
            per_doubling = f"{(m['s'] / previous[1]['s']) ** doubling:.2f}×"
            user_per_doubling = f"{(m['user'] / previous[1]['user']) ** doubling:.2f}×"
        print(f"| {n:,} | {rows:,} | {m['s']:.2f} | {m['user']:.2f} | {m['sys']:.2f} | {m['rss']:,.0f} | {times} "
              f"| {per_doubling} | {user_per_doubling} |")
        previous = (rows, m)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
