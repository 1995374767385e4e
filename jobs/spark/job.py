#!/usr/bin/env python3
"""reciprocity on Apache Spark: the binary's tables, computed by account bucket on a cluster.

    spark-submit jobs/spark/job.py --follows URL --out URL [any `reciprocity run` flag]

Takes exactly the flags of `reciprocity run` (job files, `--set`, `{date}` included; the
extension validates them with the binary's own code), plus `--buckets K` as the number of
Spark buckets [default: 2 per executor core]. Needs the `reciprocity_spark` extension
(`pip install ./python` or `maturin develop --release -m python/Cargo.toml`) on the driver and
every worker.

The flow (Spark reads, shuffles and schedules; every rule is the binary's own Rust code):
  1. driver: `plan` checks the inputs' footers and schemas as a run does, and names the brands;
  2. workers: `mapInArrow` hands each batch of follows, interactions and the previous night to
     `clean_and_route`, which applies the cleaning rules (null ids, self-loops, the window)
     and routes every kept row to both of its accounts' buckets (the binary's routing rule,
     buckets by a fixed hash of the id); what each rule dropped comes back in the same batches,
     as rows of one more bucket;
  3. workers: `groupBy(bucket).applyInArrow` hands each bucket to `compute_bucket`, the
     binary's bucket kernel, run with the GIL released;
  4. Spark joins brands' followers with their followers' followers for the exact 2-hop reach;
  5. driver: `publish` merges the buckets' results and runs the binary's one pipeline (lock,
     tables, `_manifest.json`, `_SUCCESS`, release): same code, same bytes.

Input URLs go to `spark.read.parquet` as given, and the output through object_store as in the
binary: on a cluster use URLs both understand (plain paths on a shared filesystem, or `s3://`
with a Spark that reads it: EMR, Dataproc and Databricks ship connectors; pip's pyspark has
none). Timestamps are read at Spark's microsecond precision; ids as Spark longs (int64 and
narrower, signed or unsigned; not uint64). reach_2hop is exact (no estimate mode).
"""

import json
import os
import sys

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

import reciprocity_spark as kernel

NULL_TS = -(2**63)
RESULT_SCHEMA = "bucket long, payload binary"
ROUTED_SCHEMA = "bucket long, stream byte, own long, other long, t long"
# A batch's cleaning counts travel as one row (own, other, t: null_id, self_loop,
# outside_window) in bucket COUNTS, stream -1 - the dataset's index: summed there by the same
# groupBy as the buckets, so counting costs no pass of its own.
COUNTS = -1
DATASETS = ["follows", "interactions", "previous_follows"]


def int64_bytes(array):
    """An int64 column as little-endian bytes (nulls as 0) and its validity bytes (empty: no nulls)."""
    array = pc.cast(array, pa.int64())
    valid = b"" if array.null_count == 0 else pc.is_valid(array).to_numpy(zero_copy_only=False).tobytes()
    return pc.fill_null(array, 0).to_numpy(zero_copy_only=False).astype("<i8").tobytes(), valid


def from_bytes(data, dtype):
    import numpy as np

    return pa.array(np.frombuffer(data, dtype=dtype))


def clean_and_route(dataset, plan, buckets):
    """mapInArrow: each batch (a, b, t) cleaned and routed by the extension, plus one row of counts."""
    signed, start, end = plan["signed_ids"], plan["window_start_ns"], plan["window_end_ns"]

    def run(batches):
        import reciprocity_spark as worker_kernel

        for batch in batches:
            src, src_valid = int64_bytes(batch.column("a"))
            dst, dst_valid = int64_bytes(batch.column("b"))
            t = pc.fill_null(pc.cast(batch.column("t"), pa.int64()), NULL_TS).to_numpy(zero_copy_only=False)
            routed = worker_kernel.clean_and_route(
                dataset, src, src_valid, dst, dst_valid, t.astype("<i8").tobytes(), buckets, signed, start, end
            )
            bucket, stream, own, other, created, dropped = routed
            yield pa.RecordBatch.from_arrays(
                [from_bytes(bucket, "<i8"), from_bytes(stream, "i1"), from_bytes(own, "<i8"),
                 from_bytes(other, "<i8"), from_bytes(created, "<i8")],
                names=["bucket", "stream", "own", "other", "t"],
            )
            counts = [pa.array([v], pa.int64()) for v in dropped]
            yield pa.RecordBatch.from_arrays(
                [pa.array([COUNTS], pa.int64()), pa.array([-1 - DATASETS.index(dataset)], pa.int8()), *counts],
                names=["bucket", "stream", "own", "other", "t"],
            )

    return run


def route_accounts(plan, buckets):
    """mapInArrow: the accounts table's ids, routed to their buckets as stream `listed`."""
    signed = plan["signed_ids"]

    def run(batches):
        import reciprocity_spark as worker_kernel

        listed = worker_kernel.STREAMS.index("listed")
        for batch in batches:
            ids, valid = int64_bytes(batch.column("a"))
            bucket, own = worker_kernel.route_accounts(ids, valid, buckets, signed)
            n = len(bucket) // 8
            yield pa.RecordBatch.from_arrays(
                [from_bytes(bucket, "<i8"), pa.array([listed] * n, pa.int8()), from_bytes(own, "<i8"),
                 pa.nulls(n, pa.int64()), pa.nulls(n, pa.int64())],
                names=["bucket", "stream", "own", "other", "t"],
            )

    return run


def read_edges(spark, url, src, dst, created, dataset, plan, buckets):
    """An edge dataset's rows, cleaned and routed (and the batches' cleaning counts)."""
    df = spark.read.parquet(url)
    # Nanoseconds as the binary reads them, from Spark's microseconds.
    t = F.unix_micros(F.col(created)) * 1000 if created in df.columns else F.lit(None).cast("long")
    df = df.select(F.col(src).cast("long").alias("a"), F.col(dst).cast("long").alias("b"), t.alias("t"))
    return df.mapInArrow(clean_and_route(dataset, plan, buckets), ROUTED_SCHEMA)


def dropped_counts(table):
    """The COUNTS bucket: what each cleaning rule dropped, per dataset, as JSON bytes."""
    counts = {}
    for i, dataset in enumerate(DATASETS):
        rows = table.filter(pc.equal(table["stream"], -1 - i))
        if rows.num_rows:
            sums = [pc.sum(rows[c]).as_py() or 0 for c in ("own", "other", "t")]
            counts[dataset] = dict(zip(("null_id", "self_loop", "outside_window"), sums))
    return json.dumps(counts).encode()


def bucket_kernel(plan, has_previous):
    """The function each worker runs on one bucket's rows."""
    brands = pa.array(plan["brands"], pa.int64()).to_numpy().astype("<i8").tobytes()
    streams = kernel.STREAMS
    params = (plan["signed_ids"], plan["min_followers"], plan["follows_back_all_rate"], plan["selective_rate"])

    def run(table: pa.Table) -> pa.Table:
        import reciprocity_spark as worker_kernel

        bucket = table["bucket"][0].as_py()
        if bucket == COUNTS:
            payload = dropped_counts(table)
            return pa.table({"bucket": pa.array([bucket], pa.int64()), "payload": pa.array([payload], pa.binary())})

        def column(stream, name):
            part = table.filter(pc.equal(table["stream"], streams.index(stream)))[name]
            return part.to_numpy(zero_copy_only=False).astype("<i8").tobytes()

        def timed(stream):
            return (column(stream, "own"), column(stream, "other"), column(stream, "t"))

        def pair(stream):
            return (column(stream, "own"), column(stream, "other"))

        payload = worker_kernel.compute_bucket(
            timed("follows_out"),
            timed("follows_in"),
            pair("events_out"),
            pair("events_in"),
            pair("previous_out") if has_previous else None,
            pair("previous_in") if has_previous else None,
            column("listed", "own"),
            brands,
            *params,
        )
        return pa.table({"bucket": pa.array([bucket], pa.int64()), "payload": pa.array([payload], pa.binary())})

    return run


def reach_2hop(spark, follows, brands):
    """(brand, reach) for every brand: distinct x → f → brand, x neither the brand nor a follower."""
    if not brands:
        return []
    edges = follows.where(F.col("stream") == kernel.STREAMS.index("follows_out"))
    edges = edges.select(F.col("own").alias("a"), F.col("other").alias("b")).distinct()
    brand_ids = spark.createDataFrame([(b,) for b in brands], "brand long")
    followers = edges.join(brand_ids, edges.b == brand_ids.brand).select("brand", F.col("a").alias("f"))
    second = edges.select(F.col("a").alias("x"), F.col("b").alias("f"))
    hop = followers.join(second, "f").select("brand", "x").where(F.col("x") != F.col("brand"))
    hop = hop.join(followers.select("brand", F.col("f").alias("x")), ["brand", "x"], "left_anti")
    return [(r["brand"], r["count"]) for r in hop.distinct().groupBy("brand").count().collect()]


def main(argv):
    plan = json.loads(kernel.plan(argv))
    builder = SparkSession.builder.appName("reciprocity")
    if os.environ.get("RECIPROCITY_SPARK_MASTER"):
        builder = builder.master(os.environ["RECIPROCITY_SPARK_MASTER"])
    spark = builder.getOrCreate()
    buckets = plan["buckets"] or 2 * spark.sparkContext.defaultParallelism
    c = plan["columns"]

    follows = read_edges(spark, plan["follows"], c["follower_id"], c["followee_id"], c["follow_created_at"],
                         "follows", plan, buckets)
    streams = [follows]
    if plan["interactions"]:
        streams.append(read_edges(spark, plan["interactions"], c["actor_id"], c["target_id"],
                                  c["event_created_at"], "interactions", plan, buckets))
    if plan["previous_follows"]:
        streams.append(read_edges(spark, plan["previous_follows"], c["follower_id"], c["followee_id"],
                                  c["follow_created_at"], "previous_follows", plan, buckets))
    if plan["accounts"]:
        accounts = spark.read.parquet(plan["accounts"]).select(F.col(c["account_id"]).cast("long").alias("a"))
        streams.append(accounts.mapInArrow(route_accounts(plan, buckets), ROUTED_SCHEMA))

    rows = streams[0]
    for s in streams[1:]:
        rows = rows.unionByName(s)
    kernel_fn = bucket_kernel(plan, bool(plan["previous_follows"]))
    results = rows.groupBy("bucket").applyInArrow(kernel_fn, RESULT_SCHEMA).collect()
    counts = {"engine": "spark", "buckets": buckets}
    for dataset in DATASETS:  # an input of no batches dropped nothing, and says so
        if dataset == "follows" or plan[dataset]:
            counts[dataset] = {"null_id": 0, "self_loop": 0, "outside_window": 0}
    payloads = []
    for r in results:
        if r["bucket"] == COUNTS:
            counts.update(json.loads(bytes(r["payload"])))
        else:
            payloads.append(bytes(r["payload"]))
    for dataset in ("follows", "previous_follows"):
        if dataset in counts:
            counts[dataset].pop("outside_window", None)  # follows have no window
    counts["reach"] = reach_2hop(spark, follows, plan["brands"])
    spark.stop()

    summary = kernel.publish(argv, json.dumps(counts), payloads)
    sys.stderr.write(summary)


if __name__ == "__main__":
    main(sys.argv[1:])
