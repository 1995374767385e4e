"""Our outputs are standard Parquet, and agree with independent implementations:
Polars and DuckDB read every table; DuckDB SQL recomputes the reciprocity core from the raw
sample inputs; NetworkX and igraph recompute reciprocity on real networks."""
import json
import pathlib
import re
import subprocess

import duckdb
import polars as pl
import pytest

from conftest import ROOT, realdata

CONTRACT = (ROOT.parent / "shared" / "METRICS.md")
TABLES = ["account_metrics", "population_summary", "reciprocity_by_followers", "brand_audience"]


def contract_columns():
    """Column names of account_metrics and population_summary, as METRICS.md lists them."""
    if not CONTRACT.exists():
        pytest.skip("METRICS.md is beside the project in CI only")
    text = CONTRACT.read_text()
    sections = {}
    for table in ["account_metrics", "population_summary"]:
        body = text.split(f"## Table `{table}`")[1].split("## ")[0]
        names = []
        for name in re.findall(r"^\| ([a-z0-9_, ]+) \|", body, re.M):
            names += [n.strip() for n in name.split(",")]
        sections[table] = [n for n in names if n not in ("column",)]
    return sections


def test_polars_and_duckdb_read_every_table(sample_out):
    manifest = json.loads((sample_out / "_manifest.json").read_text())
    assert (sample_out / "_SUCCESS").exists()
    for table in TABLES:
        glob = str(sample_out / table / "*.parquet")
        frame = pl.read_parquet(glob)
        rows = duckdb.connect().execute(f"select count(*) from read_parquet('{glob}')").fetchone()[0]
        assert frame.height == rows == manifest["tables"][table]["rows"], table


def test_columns_and_types_follow_the_contract(sample_out):
    columns = contract_columns()
    metrics = pl.read_parquet(str(sample_out / "account_metrics" / "*.parquet"))
    assert metrics.columns == columns["account_metrics"]
    population = pl.read_parquet(str(sample_out / "population_summary" / "*.parquet"))
    # The contract's follow_changes section adds these (null without a previous snapshot).
    diff = ["edges_added", "edges_removed", "mutual_dyads_gained", "mutual_dyads_lost",
            "mutual_tie_break_rate", "one_way_tie_break_rate", "mass_unfollowers"]
    assert population.columns == columns["population_summary"] + diff
    assert population["edges_added"][0] > 0, "the sample job compares with the previous night"
    changes = pl.read_parquet(str(sample_out / "follow_changes" / "*.parquet"))
    assert changes["account_id"].is_sorted() and changes["mass_unfollow"].dtype == pl.Boolean
    for name, dtype in metrics.schema.items():
        if name in ("account_type", "camp"):
            assert dtype == pl.String, name
        elif name == "account_id":
            assert dtype == pl.Int64
        elif any(k in name for k in ("rate", "reciprocity", "share", "median", "hhi", "effective", "gini")):
            assert dtype == pl.Float64, name
        else:
            assert dtype == pl.Int64, name
    assert metrics["account_id"].is_sorted()


def test_duckdb_sql_recomputes_the_reciprocity_core(sample_out):
    """An independent implementation of cleaning, dedup, mutuals and r in DuckDB SQL."""
    data = ROOT / "sample_data"
    con = duckdb.connect()
    con.execute(f"""
        create table edges as
        select follower_id a, followee_id b, min(created_at) t
        from read_parquet('{data}/follows/*.parquet')
        where follower_id is not null and followee_id is not null and follower_id <> followee_id
        group by all;
        create table ours as select * from read_parquet('{sample_out}/account_metrics/*.parquet');
    """)
    expected = con.execute("""
        with f as (select b id, count(*) n from edges group by b),
             g as (select a id, count(*) n from edges group by a),
             m as (select e.a id, count(*) n from edges e join edges r on e.a = r.b and e.b = r.a group by e.a)
        select o.account_id,
               coalesce(f.n, 0) = o.followers and coalesce(g.n, 0) = o.following and coalesce(m.n, 0) = o.mutuals ok
        from ours o left join f on f.id = o.account_id left join g on g.id = o.account_id
             left join m on m.id = o.account_id
    """).fetchall()
    assert expected and all(ok for _, ok in expected)
    # r = 2M/E, and 2M is the number of edges whose reverse exists.
    r_sql = con.execute("""
        select count(*) filter (where exists (select 1 from edges r where r.a = e.b and r.b = e.a)) / count(*)
        from edges e
    """).fetchone()[0]
    r_ours = pl.read_parquet(str(sample_out / "population_summary" / "*.parquet"))["edge_reciprocity"][0]
    assert abs(r_sql - r_ours) < 1e-12


def run_on(binary, follows, out):
    subprocess.run([binary, "run", "--follows", follows, "--out", out, "--log-format", "json"],
                   check=True, capture_output=True)
    return (pl.read_parquet(f"{out}/population_summary/*.parquet"),
            pl.read_parquet(f"{out}/account_metrics/*.parquet"))


@pytest.mark.parametrize("dataset", ["wiki-vote", "bitcoin-otc"])
def test_networkx_and_igraph_agree_on_real_networks(binary, tmp_path, dataset):
    import igraph
    import networkx as nx

    path = realdata(dataset) / "follows"
    population, metrics = run_on(binary, str(path), str(tmp_path / "out"))
    edges = pl.read_parquet(str(path / "*.parquet")).select("follower_id", "followee_id")
    pairs = [(a, b) for a, b in edges.iter_rows() if a != b]
    g = nx.DiGraph(pairs)
    assert abs(population["edge_reciprocity"][0] - nx.overall_reciprocity(g)) < 1e-12
    # NetworkX's per-node reciprocity is our `reciprocity` column (null where it has none).
    per_node = nx.reciprocity(g, list(g.nodes))
    ours = dict(zip(metrics["account_id"].to_list(), metrics["reciprocity"].to_list()))
    assert len(ours) == g.number_of_nodes()
    for node, value in per_node.items():
        assert abs(ours[node] - value) < 1e-12, node
    ig = igraph.Graph.TupleList(pairs, directed=True)
    assert abs(population["dyad_reciprocity"][0] - ig.reciprocity(ignore_loops=True, mode="ratio")) < 1e-12
    assert abs(population["edge_reciprocity"][0] - ig.reciprocity(ignore_loops=True, mode="default")) < 1e-12
