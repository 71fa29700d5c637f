"""A region made of regions (issue 28): provinces run as their own models on the executors, their totals as the
indicator catalogue declares, the same results wherever they run (in this process, on local processes, on a
real Dask cluster, after a worker is killed with a province in hand), and bad input refused in one line.

Small provinces (Tibet, Qinghai, Ningxia) at their coarsest faithful scales and a short horizon keep it light."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from test_distributed import DASK, HANG, Cluster
from typer.testing import CliRunner

from sim.analysis.executors import DaskCluster, InProcess, LocalProcesses
from sim.analysis.national import parts_folder, run_partition
from sim.catalogues.indicators import catalogue
from sim.cli import app
from sim.data.regions import PROVINCES, load_region
from sim.outputs.province_map import outlines
from sim.results.national import national_totals
from sim.scenario.partition import parse_partition, province_seed

runner = CliRunner()
SMALL = {"name": "west", "regions": ["tibet", "青海", "Ningxia"], "horizon": 2022, "scale": "faithful", "replicates": 2}
ROW = ["replicate", "year", "indicator", "sex", "age_group", "capacity", "residence", "group"]


def _partition(**changes):
    return parse_partition(SMALL | changes, "west.yaml")


def _run(executor, out: Path, **changes):
    with executor:
        return run_partition(_partition(**changes), out, executor)


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    return _run(InProcess(), tmp_path_factory.mktemp("in-process") / "run")


def _same(a, b) -> None:
    key = ["region", *ROW]
    x, y = (r.results.sort_values(key, kind="stable").reset_index(drop=True) for r in (a, b))
    pd.testing.assert_frame_equal(x, y, check_exact=True)


def test_the_totals_of_counts_are_exactly_the_sums_of_the_provinces(in_process):
    results = in_process.results
    assert set(results.region) == {"total", "tibet", "qinghai", "ningxia"}
    sums = [n for n, ind in catalogue().indicators.items() if ind.across_regions.weighted_by is None]
    parts = results[(results.region != "total") & results.indicator.isin(sums)]
    whole = results[(results.region == "total") & results.indicator.isin(sums)].set_index(ROW)["value"]
    added = parts.groupby(ROW)["value"].sum()
    assert len(whole) == len(added) > 0
    pd.testing.assert_series_equal(whole.sort_index(), added.sort_index(), check_exact=True, check_names=False)


def test_a_rate_is_weighted_by_the_indicator_the_catalogue_names(in_process):
    r = in_process.results
    at = (r.year == 2022) & (r.replicate == 0) & (r.sex == "all") & (r.residence == "all")
    beds = r[at & (r.indicator == "beds") & (r.group == "all/all")].set_index("region")["value"]
    older = r[at & (r.indicator == "population") & (r.age_group == "60+")].set_index("region")["value"]
    per_1000 = r[at & (r.indicator == "beds_per_1000")].set_index("region")["value"]
    assert per_1000["total"] == pytest.approx(beds["total"] / older["total"] * 1000, rel=1e-9)
    assert per_1000["total"] == pytest.approx((per_1000.drop("total") * older.drop("total")).sum() / older["total"])


def test_each_province_starts_from_its_census_table_at_one_agent_per_person(tmp_path):
    run = _run(InProcess(), tmp_path / "run", regions=["tibet", "qinghai"], horizon=2021, scale=1, replicates=1)
    r = run.results
    start = r[(r.year == 2020) & (r.indicator == "population") & (r.residence == "all") & (r.sex == "all")]
    for key in ("tibet", "qinghai"):
        region = load_region(key)
        ages = np.arange(region.population_by_age.shape[1]) + 40  # population_2020.csv from age 40
        for group, low in (("60+", 60), ("65+", 65), ("80+", 80)):
            census = region.population_by_age[:, ages >= low].sum()
            found = start[(start.region == key) & (start.age_group == group)]["value"].item()
            # exact below 100; the open group 100+ is spread over single years 100-110, each rounded to whole agents
            assert found == pytest.approx(census, abs=11), (key, group)


def test_the_31_provinces_census_tables_add_up_to_chinas():
    assert sum(load_region(k).population_total() for k in PROVINCES) == pytest.approx(264_018_218, abs=0.5)
    assert load_region("china").population_total() == pytest.approx(264_018_218, abs=0.5)


def test_seeds_depend_on_the_scenario_seed_and_the_province_alone():
    one, other = _partition(), _partition(regions=["ningxia", "tibet"])
    assert one.provinces["ningxia"].seed == other.provinces["ningxia"].seed == province_seed(20201101, "ningxia")
    assert one.provinces["tibet"].seed != one.provinces["ningxia"].seed


def test_national_counts_are_apportioned_and_a_province_overrides_them():
    plan = {"policy": {"beds": {"total": {2022: 100_000}}}, "provinces": {"qinghai": {"policy.beds.total": 9000}}}
    p = _partition(**plan)
    older = {k: load_region(k).population_total() for k in ("tibet", "ningxia", "qinghai")}
    share = older["tibet"] / sum(older.values())
    assert p.provinces["tibet"].policy.beds.total[2022] == pytest.approx(100_000 * share)
    assert p.provinces["qinghai"].policy.beds.total == 9000


def test_one_and_two_local_workers_give_the_same_results(in_process, tmp_path):
    _same(in_process, _run(LocalProcesses(2), tmp_path / "two"))


def test_a_dask_local_cluster_gives_the_same_results(in_process, tmp_path):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster:
        on_dask = _run(DaskCluster(cluster.scheduler_address), tmp_path / "dask")
    _same(in_process, on_dask)


def test_a_killed_workers_province_runs_again_with_the_same_result(in_process, tmp_path):
    if not Path(DASK).exists():
        pytest.fail("the dask command is not installed with the package")
    cluster = Cluster(tmp_path / "cluster", nanny=False)
    try:
        cluster.start_workers(2)
        cluster.hold("province", after=1)  # the second province a worker starts
        killer = cluster.kill_when_held("province")
        on_dask = _run(DaskCluster(cluster.address), tmp_path / "dask")
        killer.join(HANG)
        assert killer.killed is not None
    finally:
        cluster.close()
    _same(in_process, on_dask)


def test_finished_provinces_are_stored_and_not_run_again(tmp_path, monkeypatch):
    out = tmp_path / "run"
    first = _run(InProcess(), out)
    assert len(list(parts_folder(out).glob("*.parquet"))) == 6  # 3 provinces x 2 replicates, as they finished
    import sim.analysis.national as national

    monkeypatch.setattr(national, "run_province", lambda task: pytest.fail(f"{task.key} ran again"))
    _same(first, _run(InProcess(), out))


def test_totals_of_one_province_are_that_province():
    table = pd.DataFrame(
        {
            "region": ["tibet"] * 2,
            "run": "x",
            "replicate": 0,
            "year": 2020,
            "indicator": ["population", "occupancy"],
            "sex": "all",
            "age_group": "60+",
            "capacity": "all",
            "residence": "all",
            "group": "all",
            "unit": "u",
            "value": [5.0, 0.5],
        }  # fmt: skip
    )
    totals = national_totals(table, "total").set_index("indicator")["value"]
    assert totals["population"] == 5.0 and np.isnan(totals["occupancy"])  # no beds to weigh occupancy by


# --- bad input: one line, exit code 2, nothing written ------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"regions": ["tibet", "atlantis"]}, "regions.1 = 'atlantis': unknown province"),
        ({"regions": ["tibet", "西藏"]}, "regions.1 = '西藏': tibet is listed twice"),
        ({"provinces": {"tibet": {"policy.beds.towers": 3}}}, "provinces.tibet.policy.beds.towers = 3: not a lever"),
        ({"provinces": {"hainan": {"scale": 2}}}, "provinces.hainan = {'scale': 2}: not a province of this run"),
        ({"provinces": {"tibet": {"scale": 5000}}}, "province tibet: scale = 5000: results would depend on the scale"),
        ({"scale": 500}, "province tibet: scale = 500: results would depend on the scale"),
        ({"partition": "provinces"}, "give partition or regions, not both"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, change, said):
    path = tmp_path / "west.yaml"
    path.write_text(yaml.safe_dump(SMALL | change, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(path), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 2, result.output
    assert said in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert not out.exists() and not parts_folder(out).exists()


def test_sim_run_writes_one_table_with_a_region_column(tmp_path):
    path = tmp_path / "west.yaml"
    path.write_text(yaml.safe_dump(SMALL | {"regions": ["tibet", "qinghai"], "replicates": 1}), encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(path), "--out", str(out), "--workers", "1", "--no-charts"])
    assert result.exit_code == 0, result.output
    results = pd.read_parquet(out / "results.parquet")
    assert set(results.region) == {"total", "tibet", "qinghai"}
    assert set(pd.read_csv(out / "ranking.csv").region) == {"tibet", "qinghai"}
    assert not parts_folder(out).exists()
    again = runner.invoke(app, ["run", str(out / "scenario.yaml"), "--out", str(tmp_path / "again"), "--no-charts"])
    assert again.exit_code == 0, again.output
    pd.testing.assert_frame_equal(results, pd.read_parquet(tmp_path / "again" / "results.parquet"), check_exact=True)

    drawn = runner.invoke(app, ["map", str(out), "--indicator", "beds_per_1000", "--year", "2021", "--lang", "zh"])
    assert drawn.exit_code == 0, drawn.output
    assert (out / "charts" / "zh" / "map-beds_per_1000-2021.png").stat().st_size > 10_000
    report = runner.invoke(app, ["report", str(out), "--format", "html", "--out", str(tmp_path / "r.html")])
    assert report.exit_code == 0, report.output
    assert "alt='Population aged 60+, 2022'" in (tmp_path / "r.html").read_text(encoding="utf-8")  # its maps
    wrong = runner.invoke(app, ["map", str(out), "--indicator", "beds", "--group", "towers"])
    assert wrong.exit_code == 2 and "--group = 'towers': not a breakdown of beds" in wrong.output


def test_the_packaged_map_has_every_province_inside_chinas_bounds():
    places = outlines()
    assert set(PROVINCES) <= set(places) and len(places) == 34  # and Taiwan, Hong Kong, Macao, drawn grey
    for rings in places.values():
        for ring in rings:
            assert ring.shape[1] == 2 and len(ring) >= 3
            assert (
                (73 < ring[:, 0]).all()
                and (ring[:, 0] < 136).all()
                and (3 < ring[:, 1]).all()
                and (ring[:, 1] < 54).all()
            )
    beijing = np.concatenate(places["beijing"])
    assert 115.4 < beijing[:, 0].mean() < 117.5 and 39.4 < beijing[:, 1].mean() < 41.1
