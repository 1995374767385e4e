-- The job's tables (all but brand_audience) in DuckDB SQL: the benchmark's peer and an
-- independent check of our outputs. Placeholders: {data} (input folder), {out} (output
-- folder). Written to be fast, not a strawman: one dedup, one reverse self-join, window
-- functions for the per-account ranks.
SET threads = 2;
SET preserve_insertion_order = false;

CREATE TEMP TABLE f AS
SELECT follower_id AS a, followee_id AS b, min(created_at) AS t
FROM read_parquet('{data}/follows/*.parquet')
WHERE follower_id IS NOT NULL AND followee_id IS NOT NULL AND follower_id <> followee_id
GROUP BY ALL;

CREATE TEMP TABLE i AS
SELECT actor_id AS a, target_id AS b, count(*) AS w
FROM read_parquet('{data}/interactions/*.parquet')
WHERE actor_id IS NOT NULL AND target_id IS NOT NULL AND actor_id <> target_id
GROUP BY ALL;

CREATE TEMP TABLE ids AS
SELECT a AS id FROM f UNION SELECT b FROM f UNION SELECT a FROM i UNION SELECT b FROM i;

-- Every edge, with its reverse's time if the pair is mutual, and events both ways.
CREATE TEMP TABLE e AS
SELECT f.a, f.b, f.t AS t_out, r.t AS t_back, r.a IS NOT NULL AS mutual,
       coalesce(io.w, 0) AS w_out, coalesce(ii.w, 0) AS w_in
FROM f
LEFT JOIN f r ON r.a = f.b AND r.b = f.a
LEFT JOIN i io ON io.a = f.a AND io.b = f.b
LEFT JOIN i ii ON ii.a = f.b AND ii.b = f.a;

CREATE TEMP TABLE follow_side AS
SELECT a AS id,
       count(*) AS following,
       count(*) FILTER (mutual) AS mutuals,
       count(*) FILTER (mutual AND t_back < t_out) AS followbacks_given,
       median((epoch_us(t_out) - epoch_us(t_back)) / 1e6) FILTER (mutual AND t_back < t_out) AS followback_latency_median_s,
       count(*) FILTER (w_out > 0) AS engaged_following,
       count(*) FILTER (mutual AND w_out > 0 AND w_in > 0) AS mutuals_engaged,
       count(*) FILTER (mutual AND w_out = 0 AND w_in = 0) AS mutuals_hollow
FROM e GROUP BY a;

CREATE TEMP TABLE gini_side AS
SELECT a AS id,
       CASE WHEN count(*) >= 2 AND sum(w_out) > 0
            THEN 2.0 * sum(rk * w_out) / (count(*) * sum(w_out)) - (count(*) + 1.0) / count(*) END AS gini_following
FROM (SELECT a, w_out, row_number() OVER (PARTITION BY a ORDER BY w_out) AS rk FROM e)
GROUP BY a;

CREATE TEMP TABLE followers AS SELECT b AS id, count(*) AS followers FROM f GROUP BY b;

CREATE TEMP TABLE ranked AS
SELECT a, w,
       row_number() OVER (PARTITION BY a ORDER BY w DESC) AS rk,
       sum(w) OVER (PARTITION BY a ORDER BY w DESC ROWS UNBOUNDED PRECEDING) AS cum,
       sum(w) OVER (PARTITION BY a) AS total
FROM i;

CREATE TEMP TABLE out_side AS
SELECT a AS id, max(total) AS interactions_out, count(*) AS partners_out,
       max(w) / max(total) AS top1_share,
       sum(w) FILTER (rk <= 5) / max(total) AS top5_share,
       sum(w * w) / (max(total) * max(total)) AS hhi_out,
       min(rk) FILTER (5 * cum >= 4 * total) AS handful_80
FROM ranked GROUP BY a;

CREATE TEMP TABLE in_side AS SELECT b AS id, sum(w) AS interactions_in FROM i GROUP BY b;

CREATE TEMP TABLE account_metrics AS
SELECT ids.id AS account_id,
       NULL::VARCHAR AS account_type,
       coalesce(fo.followers, 0) AS followers,
       coalesce(fs.following, 0) AS following,
       coalesce(fs.mutuals, 0) AS mutuals,
       coalesce(fs.mutuals, 0) / nullif(fo.followers, 0) AS follow_back_rate,
       fs.mutuals / nullif(fs.following, 0) AS reciprocated_rate,
       2.0 * coalesce(fs.mutuals, 0) / nullif(coalesce(fo.followers, 0) + coalesce(fs.following, 0), 0) AS reciprocity,
       coalesce(fs.followbacks_given, 0) AS followbacks_given,
       fs.followback_latency_median_s,
       CASE WHEN coalesce(fo.followers, 0) < 10 OR fo.followers IS NULL THEN 'insufficient'
            WHEN fs.mutuals / fo.followers >= 0.9 THEN 'follows_back_all'
            WHEN coalesce(fs.mutuals, 0) / fo.followers >= 0.1 THEN 'selective'
            ELSE 'rarely_follows_back' END AS camp,
       coalesce(os.interactions_out, 0) AS interactions_out,
       coalesce(ins.interactions_in, 0) AS interactions_in,
       coalesce(os.partners_out, 0) AS partners_out,
       coalesce(fs.engaged_following, 0) AS engaged_following,
       fs.engaged_following / nullif(fs.following, 0) AS engaged_following_share,
       coalesce(fs.mutuals_engaged, 0) AS mutuals_engaged,
       coalesce(fs.mutuals_hollow, 0) AS mutuals_hollow,
       os.top1_share, os.top5_share, os.hhi_out, 1.0 / os.hhi_out AS effective_partners,
       os.handful_80, gs.gini_following
FROM ids
LEFT JOIN followers fo ON fo.id = ids.id
LEFT JOIN follow_side fs ON fs.id = ids.id
LEFT JOIN gini_side gs ON gs.id = ids.id
LEFT JOIN out_side os ON os.id = ids.id
LEFT JOIN in_side ins ON ins.id = ids.id;

CREATE TEMP TABLE pairs AS
SELECT i.w, coalesce(r.w, 0) AS back FROM i LEFT JOIN i r ON r.a = i.b AND r.b = i.a;

CREATE TEMP TABLE population_summary AS
WITH c AS (
    SELECT (SELECT count(*) FROM ids) AS n, (SELECT count(*) FROM f) AS e,
           (SELECT count(*) FILTER (mutual) / 2 FROM e) AS m,
           (SELECT sum(w) FROM i) AS events
), g AS (
    SELECT 2.0 * sum(rk * followers) / (count(*) * sum(followers)) - (count(*) + 1.0) / count(*) AS gini_followers,
           2.0 * sum(rk2 * degree) / (count(*) * sum(degree)) - (count(*) + 1.0) / count(*) AS gini_degree
    FROM (SELECT followers, followers + following AS degree,
                 row_number() OVER (ORDER BY followers) AS rk,
                 row_number() OVER (ORDER BY followers + following) AS rk2 FROM account_metrics)
)
SELECT n AS accounts, e AS follow_edges, m AS mutual_dyads, e - 2 * m AS asymmetric_dyads,
       n * (n - 1) // 2 - m - (e - 2 * m) AS null_dyads,
       2.0 * m / nullif(e, 0) AS edge_reciprocity,
       m / nullif(e - m, 0) AS dyad_reciprocity,
       e / nullif(n * (n - 1.0), 0) AS density,
       (2.0 * m / e - e / (n * (n - 1.0))) / (1 - e / (n * (n - 1.0))) AS rho,
       events AS interaction_events,
       (SELECT count(*) FILTER (back > 0) / count(*) FROM pairs) AS interaction_pair_reciprocity,
       (SELECT sum(least(w, back)) / sum(w) FROM pairs) AS interaction_reciprocity,
       (SELECT median((epoch_us(t_out) - epoch_us(t_back)) / 1e6) FROM e WHERE mutual AND t_back < t_out) AS followback_latency_median_s,
       (SELECT count(*) FILTER (mutual AND w_out > 0 AND w_in > 0) / 2 FROM e) AS mutual_dyads_engaged,
       (SELECT count(*) FILTER (mutual AND w_out = 0 AND w_in = 0) / 2 FROM e) AS mutual_dyads_hollow,
       gini_followers, gini_degree,
       (SELECT count(*) FILTER (camp = 'follows_back_all') FROM account_metrics) AS camp_follows_back_all,
       (SELECT count(*) FILTER (camp = 'selective') FROM account_metrics) AS camp_selective,
       (SELECT count(*) FILTER (camp = 'rarely_follows_back') FROM account_metrics) AS camp_rarely_follows_back,
       (SELECT count(*) FILTER (camp = 'insufficient') FROM account_metrics) AS camp_insufficient
FROM c, g;

CREATE TEMP TABLE reciprocity_by_followers AS
SELECT CASE WHEN followers = 0 THEN 0 ELSE length(followers::VARCHAR) END AS bucket,
       min(followers) AS followers_min, max(followers) AS followers_max, count(*) AS accounts,
       avg(follow_back_rate) AS mean_follow_back_rate, median(follow_back_rate) AS median_follow_back_rate,
       avg(reciprocated_rate) AS mean_reciprocated_rate,
       avg(engaged_following_share) AS mean_engaged_following_share,
       median(effective_partners) AS median_effective_partners,
       avg(gini_following) AS mean_gini_following
FROM account_metrics GROUP BY ALL;

COPY (SELECT * FROM account_metrics ORDER BY account_id) TO '{out}/account_metrics.parquet' (FORMAT parquet);
COPY population_summary TO '{out}/population_summary.parquet' (FORMAT parquet);
COPY (SELECT * FROM reciprocity_by_followers ORDER BY bucket) TO '{out}/reciprocity_by_followers.parquet' (FORMAT parquet);
