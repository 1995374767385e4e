#!/usr/bin/env python3
"""reciprocity on Apache Spark: the binary's tables, computed by account bucket on a cluster.

    spark-submit jobs/spark/job.py --follows URL --out URL [any `reciprocity run` flag]

Takes exactly the flags of `reciprocity run` (job files, `--set`, `{date}` included; the
extension validates them with the binary's own code), plus `--buckets K` as the number of
Spark buckets [default: 2 per executor core]. Needs the `reciprocity_spark` extension
(`pip install ./python` or `maturin develop --release -m python/Cargo.toml`) on the driver and
every worker.

The flow:
  1. driver: `plan` checks the inputs' footers and schemas as a run does, and names the brands;
  2. Spark reads and cleans follows, interactions and the previous night (counting what each
     rule drops) and routes every row to both of its accounts' buckets,
     pmod(xxhash64(account id), K);
  3. workers: `groupBy(bucket).applyInArrow` hands each bucket to `compute_bucket`, the same
     kernels as the binary, run with the GIL released;
  4. Spark joins brands' followers with their followers' followers for the exact 2-hop reach;
  5. driver: `publish` merges the buckets' results and writes the tables, `_manifest.json` and
     `_SUCCESS` exactly as `reciprocity run` does (same code, same bytes).

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

NULL_US = -(2**63)
RESULT_SCHEMA = "bucket long, payload binary"


def read_edges(spark, url, src, dst, created, window=None):
    """Cleaned rows (a, b, t) of an edge dataset, and what each cleaning rule dropped."""
    df = spark.read.parquet(url)
    t = F.unix_micros(F.col(created)) if created in df.columns else F.lit(None).cast("long")
    df = df.select(F.col(src).cast("long").alias("a"), F.col(dst).cast("long").alias("b"), t.alias("t"))
    null = F.col("a").isNull() | F.col("b").isNull()
    loop = ~null & (F.col("a") == F.col("b"))
    outside = F.lit(False)
    if window is not None:
        start, end = window
        inside = F.col("t").isNotNull()
        if start is not None:
            inside = inside & (F.col("t") >= F.lit(start))
        if end is not None:
            inside = inside & (F.col("t") < F.lit(end))
        outside = ~null & ~loop & ~inside
    dropped = df.agg(*(F.sum(c.cast("long")) for c in (null, loop, outside))).first()
    counts = {"null_id": dropped[0] or 0, "self_loop": dropped[1] or 0, "outside_window": dropped[2] or 0}
    return df.where(~null & ~loop & ~outside), counts


def routed(df, stream, own, other, buckets, timed):
    """Rows of one stream under their `own` account's bucket."""
    return df.select(
        F.expr(f"pmod(xxhash64({own}), {buckets})").alias("bucket"),
        F.lit(stream).alias("stream"),
        F.col(own).alias("own"),
        F.col(other).alias("other"),
        (F.coalesce(F.col("t"), F.lit(NULL_US)) if timed else F.lit(NULL_US)).alias("t"),
    )


def bucket_kernel(plan, has_previous):
    """The function each worker runs on one bucket's rows."""
    brands = pa.array(plan["brands"], pa.int64()).to_numpy().astype("<i8").tobytes()
    params = (plan["signed_ids"], plan["min_followers"], plan["follows_back_all_rate"], plan["selective_rate"])

    def run(table: pa.Table) -> pa.Table:
        import reciprocity_spark as worker_kernel

        def column(stream, name):
            part = table.filter(pc.equal(table["stream"], stream))[name]
            return part.to_numpy().astype("<i8").tobytes()

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
        bucket = table["bucket"][0].as_py()
        return pa.table({"bucket": pa.array([bucket], pa.int64()), "payload": pa.array([payload], pa.binary())})

    return run


def reach_2hop(spark, follows, brands):
    """(brand, reach) for every brand: distinct x → f → brand, x neither the brand nor a follower."""
    if not brands:
        return []
    edges = follows.select("a", "b").distinct()
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

    follows, follow_counts = read_edges(spark, plan["follows"], c["follower_id"], c["followee_id"], c["follow_created_at"])
    streams = [
        routed(follows, "follows_out", "a", "b", buckets, True),
        routed(follows, "follows_in", "b", "a", buckets, True),
    ]
    counts = {"engine": "spark", "buckets": buckets, "follows": {k: follow_counts[k] for k in ("null_id", "self_loop")}}
    if plan["interactions"]:
        window = None
        if plan["window_start_us"] is not None or plan["window_end_us"] is not None:
            window = (plan["window_start_us"], plan["window_end_us"])
        events, counts["interactions"] = read_edges(
            spark, plan["interactions"], c["actor_id"], c["target_id"], c["event_created_at"], window
        )
        streams += [
            routed(events, "events_out", "a", "b", buckets, False),
            routed(events, "events_in", "b", "a", buckets, False),
        ]
    if plan["previous_follows"]:
        previous, previous_counts = read_edges(
            spark, plan["previous_follows"], c["follower_id"], c["followee_id"], c["follow_created_at"]
        )
        counts["previous_follows"] = {k: previous_counts[k] for k in ("null_id", "self_loop")}
        streams += [
            routed(previous, "previous_out", "a", "b", buckets, False),
            routed(previous, "previous_in", "b", "a", buckets, False),
        ]
    if plan["accounts"]:
        accounts = spark.read.parquet(plan["accounts"]).select(F.col(c["account_id"]).cast("long").alias("a"))
        accounts = accounts.where(F.col("a").isNotNull()).distinct().withColumn("t", F.lit(None).cast("long"))
        streams.append(routed(accounts, "listed", "a", "a", buckets, False))

    rows = streams[0]
    for s in streams[1:]:
        rows = rows.unionByName(s)
    kernel_fn = bucket_kernel(plan, bool(plan["previous_follows"]))
    results = rows.groupBy("bucket").applyInArrow(kernel_fn, RESULT_SCHEMA).collect()
    counts["reach"] = reach_2hop(spark, follows, plan["brands"])
    spark.stop()

    summary = kernel.publish(argv, json.dumps(counts), [bytes(r["payload"]) for r in results])
    sys.stderr.write(summary)


if __name__ == "__main__":
    main(sys.argv[1:])
