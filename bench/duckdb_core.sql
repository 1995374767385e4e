-- The reciprocity core in DuckDB SQL, as a user would write it: read follows, clean, dedup
-- keeping the earliest time, mutuals by a reverse self-join, per-account followers/following/
-- mutuals, population r and rho.
SET threads = 2;
SET preserve_insertion_order = false;
CREATE TEMP TABLE f AS
SELECT follower_id AS a, followee_id AS b, min(created_at) AS t
FROM read_parquet('{data}/follows/*.parquet')
WHERE follower_id IS NOT NULL AND followee_id IS NOT NULL AND follower_id <> followee_id
GROUP BY ALL;
CREATE TEMP TABLE m AS SELECT f.a, f.b FROM f JOIN f r ON r.a = f.b AND r.b = f.a;
CREATE TEMP TABLE per_account AS
WITH ids AS (SELECT a AS id FROM f UNION SELECT b FROM f)
SELECT ids.id,
       (SELECT count(*) FROM f WHERE f.b = ids.id) AS followers,
       (SELECT count(*) FROM f WHERE f.a = ids.id) AS following,
       (SELECT count(*) FROM m WHERE m.a = ids.id) AS mutuals
FROM ids;
COPY (SELECT count(*) AS n, (SELECT count(*) FROM f) AS e, (SELECT count(*) FROM m) / 2 AS m FROM per_account)
TO '{out}/core_population.parquet' (FORMAT parquet);
COPY per_account TO '{out}/core_accounts.parquet' (FORMAT parquet);
