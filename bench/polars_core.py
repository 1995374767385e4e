"""The reciprocity core in Polars (lazy API): clean, dedup keeping the earliest time, mutual
pairs by a canonical-pair group-by, per-account followers/following/mutuals, r and rho."""
import sys

import polars as pl

data, out = sys.argv[1], sys.argv[2]
f = (
    pl.scan_parquet(f"{data}/follows/*.parquet")
    .select("follower_id", "followee_id", "created_at")
    .filter(
        pl.col("follower_id").is_not_null()
        & pl.col("followee_id").is_not_null()
        & (pl.col("follower_id") != pl.col("followee_id"))
    )
    .group_by("follower_id", "followee_id")
    .agg(pl.col("created_at").min())
)
pairs = (
    f.select(
        lo=pl.min_horizontal("follower_id", "followee_id"),
        hi=pl.max_horizontal("follower_id", "followee_id"),
    )
    .group_by("lo", "hi")
    .agg(n=pl.len())
)
mutual = pairs.filter(pl.col("n") == 2)
mutual_ends = pl.concat([mutual.select(id="lo"), mutual.select(id="hi")]).group_by("id").agg(mutuals=pl.len())
followers = f.group_by(id="followee_id").agg(followers=pl.len())
following = f.group_by(id="follower_id").agg(following=pl.len())
ids = pl.concat([f.select(id="follower_id"), f.select(id="followee_id")]).unique()
per_account = (
    ids.join(followers, on="id", how="left")
    .join(following, on="id", how="left")
    .join(mutual_ends, on="id", how="left")
    .fill_null(0)
)
accounts, population = pl.collect_all(
    [per_account, per_account.select(n=pl.len(), e=pl.col("following").sum(), m2=pl.col("mutuals").sum())]
)
n, e, m2 = population.row(0)
r = m2 / e
density = e / (n * (n - 1))
rho = (r - density) / (1 - density)
accounts.write_parquet(f"{out}/core_accounts.parquet")
pl.DataFrame({"n": [n], "e": [e], "r": [r], "rho": [rho]}).write_parquet(f"{out}/core_population.parquet")
