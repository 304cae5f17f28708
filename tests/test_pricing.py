"""Tests for streamkit.pricing: hand-computed values at and around every threshold.

Arithmetic used below (us-east-1):
* stream reads: $0.02 per 100,000 = $2e-7 per read request unit, first 2,500,000 per month free;
* Lambda: $0.20 per 1,000,000 requests (first 1,000,000 free), x86_64 $0.0000166667 per GB-s
  (first 400,000 free), arm64 $0.0000133334 per GB-s;
* a 730-hour month has 2,628,000 seconds; one hour 3,600.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import streamkit.pricing as pricing  # noqa: E402
from streamkit.__main__ import main as streamkit_main  # noqa: E402
from streamkit.errors import PricingError, StreamkitError  # noqa: E402
from streamkit.pricing import (  # noqa: E402
    GlobalTableReplica,
    LambdaTrigger,
    Poller,
    Workload,
)

MONTH_S = 2_628_000.0  # seconds in 730 hours
PER_READ = 0.02 / 100_000
PER_REQUEST = 0.20 / 1_000_000
X86 = 0.0000166667
ARM = 0.0000133334
approx = pytest.approx


# --------------------------------------------------------------------------------------------
# The price table
# --------------------------------------------------------------------------------------------


def test_every_figure_has_value_unit_region_source_date_and_status():
    table = pricing.price_table()
    assert len(table) > 0
    for _, f in table.iterrows():
        assert f["value"] > 0 and f["per"] >= 1
        assert f["unit"] and f["region"]
        assert f["source"].startswith("https://")
        assert f["as_of"] >= pricing.PRICES_AS_OF  # the table's date: its oldest check
        assert isinstance(f["confirmed"], bool | np.bool_)
        if not f["confirmed"]:
            assert ("UNCONFIRMED" in f["notes"]) or ("INFERRED" in f["notes"]) or f["notes"]


def test_the_figures_from_aws_facts():
    t = pricing.price_table().set_index(["id", "region"])
    assert t.loc[("streams.read_request_units", "us-east-1"), "value"] == 0.02
    assert t.loc[("streams.read_request_units", "us-east-1"), "per"] == 100_000
    assert t.loc[("streams.read_request_units", "us-east-2"), "value"] == 0.02
    assert t.loc[("streams.free_read_request_units", "any"), "value"] == 2_500_000
    assert t.loc[("lambda.free_requests", "any"), "value"] == 1_000_000
    assert t.loc[("lambda.free_gb_seconds", "any"), "value"] == 400_000
    assert not t.loc[("streams.read_request_units", "us-west-2"), "confirmed"]


def test_regions_lists_where_prices_exist():
    assert {"us-east-1", "us-east-2"} <= set(pricing.regions())
    assert "any" not in pricing.regions()
    assert pricing.regions("lambda.duration") == pricing.regions()  # every region priceable
    assert "eu-central-1" in pricing.regions()
    with pytest.raises(PricingError, match="streams.read_request_units"):
        pricing.regions("nope")


def test_price_label_names_region_date_and_unconfirmed():
    assert pricing.price_label() == "us-east-1, prices as of 2026-11-27"
    assert "UNCONFIRMED" in pricing.price_label("eu-west-1")


def test_format_price_table_writes_values_out():
    text = pricing.format_price_table()
    assert "0.0000166667" in text and "e-" not in text
    with pytest.raises(PricingError, match="expected any of"):
        pricing.format_price_table(["bogus"])


# --------------------------------------------------------------------------------------------
# stream_read_cost
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requests", "cost"),
    [
        (0, 0.0),
        (1, 0.0),
        (2_499_999, 0.0),
        (2_500_000, 0.0),  # the knee
        (2_500_001, 2e-7),
        (2_600_000, 0.02),
        (12_500_000, 2.00),
        (26_280_000, 4.756),
    ],
)
def test_stream_read_cost_around_the_free_tier(requests, cost):
    result = pricing.stream_read_cost(requests)
    assert type(result) is float
    assert result == approx(cost, abs=1e-12)


@pytest.mark.parametrize(("requests", "cost"), [(1, 2e-7), (100_000, 0.02), (2_500_000, 0.50)])
def test_stream_read_cost_without_free_tier(requests, cost):
    assert pricing.stream_read_cost(requests, free_tier=False) == approx(cost, abs=1e-12)


def test_stream_read_cost_by_region():
    assert pricing.stream_read_cost(2_600_000, region="us-east-2") == approx(0.02)
    assert pricing.stream_read_cost(2_600_000, region="us-west-2") == approx(0.0217)


def test_stream_read_cost_arrays_keep_shape_and_series_keep_index():
    arr = pricing.stream_read_cost(np.array([[0, 2.5e6], [2.6e6, 12.5e6]]))
    assert isinstance(arr, np.ndarray) and arr.shape == (2, 2)
    np.testing.assert_allclose(arr, [[0, 0], [0.02, 2.0]], atol=1e-12)
    assert isinstance(pricing.stream_read_cost([0, 3e6]), np.ndarray)
    s = pd.Series([2_500_001, 2_600_000], index=["a", "b"])
    out = pricing.stream_read_cost(s)
    assert isinstance(out, pd.Series) and list(out.index) == ["a", "b"]
    np.testing.assert_allclose(out.to_numpy(), [2e-7, 0.02])
    assert type(pricing.stream_read_cost(np.float64(2_600_000))) is float


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "many", [1, -2]])
def test_stream_read_cost_rejects_bad_counts(bad):
    with pytest.raises(PricingError, match="read_requests"):
        pricing.stream_read_cost(bad)


def test_errors_name_position_or_index():
    with pytest.raises(PricingError, match="position 1"):
        pricing.stream_read_cost([1, np.nan])
    with pytest.raises(PricingError, match="index 'b'"):
        pricing.stream_read_cost(pd.Series([1, -1], index=["a", "b"]))


def test_unknown_region_lists_the_valid_ones():
    with pytest.raises(PricingError, match="us-east-1, us-east-2") as info:
        pricing.stream_read_cost(1, region="mars-1")
    assert isinstance(info.value, StreamkitError) and isinstance(info.value, ValueError)
    with pytest.raises(PricingError, match="True or False"):
        pricing.stream_read_cost(1, free_tier="yes")


# --------------------------------------------------------------------------------------------
# polling_read_requests
# --------------------------------------------------------------------------------------------


def test_idle_shard_polled_once_per_second():
    assert pricing.polling_read_requests(1, 1.0) == MONTH_S
    # AWS-FACTS 4.1: one idle shard, 30 days = 2,592,000 calls; 10 shards = $4.68.
    assert pricing.polling_read_requests(1, 1.0, hours=720) == 2_592_000
    calls = pricing.polling_read_requests(10, 1.0, hours=720)
    assert calls == 25_920_000
    assert pricing.stream_read_cost(calls) == approx(4.684)
    assert round(pricing.stream_read_cost(pricing.polling_read_requests(10, 1.0)), 2) == 4.76


def test_short_run_for_comparison_with_a_measured_count():
    assert pricing.polling_read_requests(1, 4.0, hours=60 / 3600) == approx(240)
    assert pricing.polling_read_requests(3, 1.0, hours=0) == 0


@pytest.mark.parametrize(
    ("records", "calls_per_hour"),
    [
        (0, 3600),  # zero traffic: still one call per poll
        (999, 3600),
        (1000, 3600),  # a poll's page is exactly full
        (1001, 3603.6),  # 1.001 full pages per second
        (2000, 7200),
        (10_000, 36_000),
    ],
)
def test_the_1000_record_page(records, calls_per_hour):
    got = pricing.polling_read_requests(1, 1.0, hours=1, records_per_second=records)
    assert got == approx(calls_per_hour)


@pytest.mark.parametrize(
    ("shards", "polls", "records", "calls_per_hour"),
    [
        (4, 1.0, 4000, 14_400),  # 1,000 per shard: at the limit
        (4, 1.0, 4004, 14_414.4),  # 1,001 per shard
        (4, 1.0, 8000, 28_800),
        (1, 4.0, 4000, 14_400),  # 4 polls of 1,000: at the limit
        (1, 4.0, 4400, 15_840),
        (2.5, 2.0, 0, 18_000),  # a time-averaged shard count
    ],
)
def test_records_spread_over_shards_and_poll_rates(shards, polls, records, calls_per_hour):
    got = pricing.polling_read_requests(shards, polls, hours=1, records_per_second=records)
    assert got == approx(calls_per_hour)


@pytest.mark.parametrize(
    ("record_bytes", "records", "calls_per_hour"),
    [
        (1024, 1000, 3600),  # 1,000 x 1 KiB < 1 MiB: the record limit binds
        (1048.576, 1000, 3600),  # exactly 1 MiB per 1,000 records
        (1049, 999, 3600),  # 999 records per page
        (1049, 1000, 3600 * 1000 / 999),
        (2048, 512, 3600),  # 512 records = 1 MiB
        (2048, 513, 3600 * 513 / 512),
        (2048, 1024, 7200),
        (1_048_576, 0.5, 3600),  # 1 MiB records: one per call
        (1_048_576, 3, 10_800),
    ],
)
def test_the_1_mb_page(record_bytes, records, calls_per_hour):
    got = pricing.polling_read_requests(
        1, 1.0, hours=1, records_per_second=records, avg_record_bytes=record_bytes
    )
    assert got == approx(calls_per_hour)


def test_polling_rejects_bad_input():
    with pytest.raises(PricingError, match="polls_per_second 0.0: expected a finite number > 0"):
        pricing.polling_read_requests(1, 0)
    with pytest.raises(PricingError, match="avg_record_bytes"):
        pricing.polling_read_requests(1, 1, avg_record_bytes=1_048_577)
    with pytest.raises(PricingError, match="shards"):
        pricing.polling_read_requests(-1, 1)
    with pytest.raises(PricingError, match="hours"):
        pricing.polling_read_requests(1, 1, hours=np.nan)
    with pytest.raises(PricingError, match="records need at least one shard"):
        pricing.polling_read_requests([0, 1], 1, records_per_second=5)
    assert pricing.polling_read_requests(0, 1) == 0


def test_polling_broadcasts_arrays_and_series():
    shards = np.array([1, 2, 3])[:, None]
    got = pricing.polling_read_requests(shards, np.array([1.0, 2.0]), hours=1)
    assert got.shape == (3, 2)
    np.testing.assert_allclose(got, [[3600, 7200], [7200, 14400], [10800, 21600]])
    idx = pd.Index([10, 20, 30], name="scenario")
    s = pricing.polling_read_requests(pd.Series([1, 2, 3], index=idx), 1.0, hours=1)
    assert isinstance(s, pd.Series) and s.index.equals(idx)
    np.testing.assert_allclose(s.to_numpy(), [3600, 7200, 10800])
    both = pricing.polling_read_requests(
        pd.Series([1, 1], index=idx[:2]), pd.Series([1.0, 2.0], index=idx[:2]), hours=1
    )
    np.testing.assert_allclose(both.to_numpy(), [3600, 7200])
    with pytest.raises(PricingError, match="share one index"):
        pricing.polling_read_requests(pd.Series([1, 1]), pd.Series([1.0, 2.0], index=[5, 6]))
    with pytest.raises(PricingError, match="do not broadcast"):
        pricing.polling_read_requests([1, 2, 3], [1.0, 2.0])


def test_vectorized_matches_scalar_calls():
    rng = np.random.default_rng(7)
    shards = rng.integers(1, 20, 50).astype(float)
    polls = rng.uniform(0.1, 5, 50)
    records = rng.uniform(0, 30_000, 50)
    size = rng.uniform(0, 400_000, 50)
    vec = pricing.polling_read_requests(
        shards, polls, records_per_second=records, avg_record_bytes=size
    )
    one = [
        pricing.polling_read_requests(a, b, records_per_second=c, avg_record_bytes=d)
        for a, b, c, d in zip(shards, polls, records, size, strict=True)
    ]
    np.testing.assert_allclose(vec, one)
    # Plain-Python restatement of the model.
    for a, b, c, d, v in zip(shards, polls, records, size, vec, strict=True):
        page = min(1000, math.floor(1_048_576 / d)) if d else 1000
        assert v == approx(max(a * b, c / page) * MONTH_S)


# --------------------------------------------------------------------------------------------
# lambda_invocations
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shards", "records", "per_second"),
    [
        (1, 0, 0),  # zero traffic: empty polls invoke nothing
        (1, 1, 1),  # a trickle: one record per invocation
        (1, 4, 4),  # as many records as polls
        (1, 10, 4),  # each of the 4 polls a second sends a batch
        (1, 400, 4),  # 4 batches of exactly 100
        (1, 401, 4.01),  # batches are full: records / 100
        (1, 1000, 10),
        (4, 8, 8),  # 2 records per shard per second
        (4, 16, 16),
        (4, 1600, 16),  # 400 per shard: at the batch-size edge
        (4, 2000, 20),
    ],
)
def test_invocations_without_a_window(shards, records, per_second):
    got = pricing.lambda_invocations(shards, records, hours=1)
    assert got == approx(per_second * 3600)


@pytest.mark.parametrize(
    ("records", "per_second"),
    [
        (0.1, 0.1),
        (0.2, 0.2),  # one record per 5 s window
        (1, 0.2),
        (20, 0.2),  # exactly 100 records per window
        (40, 0.4),  # full batches
    ],
)
def test_invocations_with_a_5_second_window(records, per_second):
    got = pricing.lambda_invocations(1, records, batching_window_s=5, hours=1)
    assert got == approx(per_second * 3600)


def test_invocations_6_mb_payload_limit():
    # 6 MiB / 1 KiB = 6,144 records per batch at most, whatever BatchSize says.
    got = pricing.lambda_invocations(1, 61_440, batch_size=10_000, hours=1, avg_record_bytes=1024)
    assert got == approx(10 * 3600)
    got = pricing.lambda_invocations(1, 61_440, batch_size=10_000, hours=1)
    assert got == approx(6.144 * 3600)


def test_invocations_vectorized_over_batch_size():
    sizes = pd.Series([1, 10, 100, 1000], index=list("abcd"))
    got = pricing.lambda_invocations(1, 1000, batch_size=sizes, hours=1)
    assert list(got.index) == list("abcd")
    np.testing.assert_allclose(got.to_numpy(), np.array([1000, 100, 10, 4]) * 3600)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 10_001}, "<= 10000"),
        ({"batch_size": 2.5}, "whole number"),
        ({"batching_window_s": 301}, "batching_window_s"),
        ({"batching_window_s": 0.5}, "whole number"),
        ({"avg_record_bytes": -1}, "avg_record_bytes"),
    ],
)
def test_invocations_reject_bad_mapping_settings(kwargs, match):
    with pytest.raises(PricingError, match=match):
        pricing.lambda_invocations(1, 10, **kwargs)


# --------------------------------------------------------------------------------------------
# Lambda cost
# --------------------------------------------------------------------------------------------


def test_aws_worked_example_1():
    # 512 MB, 3M invocations of 1 s: 1,500,000 GB-s - 400,000 free = 1,100,000 billable.
    assert pricing.lambda_gb_seconds(3_000_000, memory_mb=512, duration_ms=1000) == 1_500_000
    cost = pricing.lambda_cost(3_000_000, memory_mb=512, duration_ms=1000)
    assert cost == approx(1_100_000 * X86 + 0.40)  # 18.73337; AWS prints 18.74 at $0.00001667
    assert round(cost, 2) == 18.73


def test_aws_worked_example_2():
    # 128 MB, 30M invocations of 200 ms: 750,000 GB-s - 400,000 free; 29M billable requests.
    cost = pricing.lambda_cost(30_000_000, memory_mb=128, duration_ms=200)
    assert cost == approx(350_000 * X86 + 5.80)
    assert round(cost, 2) == 11.63  # AWS's figure


@pytest.mark.parametrize(
    ("requests", "cost"), [(0, 0), (999_999, 0), (1_000_000, 0), (1_000_001, 2e-7), (3e6, 0.4)]
)
def test_request_free_tier_edge(requests, cost):
    assert pricing.lambda_request_cost(requests) == approx(cost, abs=1e-12)


@pytest.mark.parametrize(
    ("gbs", "cost"), [(0, 0), (400_000, 0), (400_001, X86), (1_400_000, 1_000_000 * X86)]
)
def test_duration_free_tier_edge(gbs, cost):
    assert pricing.lambda_duration_cost(gbs) == approx(cost, abs=1e-12)


def test_duration_tiers():
    f = pricing.lambda_duration_cost
    assert f(6e9, free_tier=False) == approx(6e9 * X86)
    assert f(6e9 + 1e6, free_tier=False) == approx(6e9 * X86 + 1e6 * 0.000015)
    assert f(16e9, free_tier=False) == approx(6e9 * X86 + 9e9 * 0.000015 + 1e9 * 0.0000133334)
    assert f(7.5e9, architecture="arm64", free_tier=False) == approx(7.5e9 * ARM)
    assert f(7.5e9 + 1, architecture="arm64", free_tier=False) == approx(7.5e9 * ARM + 0.0000120001)
    assert f(7.5e9, architecture="arm64") == approx((7.5e9 - 400_000) * ARM)
    got = f(np.array([0, 400_001, 6e9 + 1e6]), free_tier=False)
    np.testing.assert_allclose(got, [0, 400_001 * X86, 6e9 * X86 + 1e6 * 0.000015])


@pytest.mark.parametrize(
    ("duration_ms", "billed_ms"), [(100, 100), (100.2, 101), (0, 1), (0.1 * 3 * 1000, 300)]
)
def test_duration_is_rounded_up_to_1_ms(duration_ms, billed_ms):
    got = pricing.lambda_gb_seconds(1000, memory_mb=1024, duration_ms=duration_ms)
    assert got == approx(1000 * billed_ms / 1000)


def test_lambda_rejects_bad_input():
    with pytest.raises(PricingError, match="x86_64, arm64"):
        pricing.lambda_cost(1, architecture="graviton")
    with pytest.raises(PricingError, match="memory_mb 64.0"):
        pricing.lambda_cost(1, memory_mb=64)
    with pytest.raises(PricingError, match="us-east-1, us-east-2"):
        pricing.lambda_cost(1, region="ap-south-1")
    with pytest.raises(PricingError, match="duration_ms"):
        pricing.lambda_gb_seconds(1, duration_ms=-5)


def test_lambda_cost_keeps_series_index():
    inv = pd.Series([0, 3_000_000], index=["idle", "busy"])
    got = pricing.lambda_cost(inv, memory_mb=512, duration_ms=1000)
    assert list(got.index) == ["idle", "busy"]
    np.testing.assert_allclose(got.to_numpy(), [0, 1_100_000 * X86 + 0.40])


# --------------------------------------------------------------------------------------------
# Kinesis Data Streams change data capture
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item_bytes", "units_per_write"), [(0, 1), (1, 1), (1024, 1), (1025, 2), (409_600, 400)]
)
def test_kinesis_cdc_units_round_up_per_kb(item_bytes, units_per_write):
    got = pricing.kinesis_cdc_cost(1, item_bytes)
    assert got == approx(MONTH_S * units_per_write * 0.10 / 1e6)


def test_kinesis_cdc_rejects_items_over_400_kb():
    with pytest.raises(PricingError, match="item_bytes"):
        pricing.kinesis_cdc_cost(1, 409_601)


# --------------------------------------------------------------------------------------------
# estimate
# --------------------------------------------------------------------------------------------


def _lines(df, consumer, charge):
    return df[(df["consumer"] == consumer) & (df["charge"] == charge)].iloc[0]


def test_estimate_trigger_poller_and_replica():
    work = Workload(writes_per_second=100, item_bytes=2048, shards=4)
    df = pricing.estimate(work, [LambdaTrigger("fn"), Poller("kcl", 1.0), GlobalTableReplica()])
    assert list(df.columns) == [
        "consumer", "kind", "charge", "quantity", "unit", "unit_price_usd", "per", "cost_usd",
        "notes",
    ]  # fmt: skip
    # Lambda: 25 records/s per shard, 4 polls/s -> 4 invocations/s per shard, 16/s in all.
    reads = _lines(df, "fn", "stream reads")
    assert reads["quantity"] == 4 * 4 * MONTH_S and reads["cost_usd"] == 0
    requests = _lines(df, "fn", "Lambda requests")
    assert requests["quantity"] == approx(16 * MONTH_S)
    assert requests["cost_usd"] == approx(16 * MONTH_S * PER_REQUEST)
    duration = _lines(df, "fn", "Lambda duration")
    assert duration["quantity"] == approx(16 * MONTH_S * 0.1 * 0.125)  # 525,600 GB-s
    assert duration["cost_usd"] == approx(525_600 * X86)
    kcl = _lines(df, "kcl", "stream reads")
    assert kcl["quantity"] == 4 * MONTH_S and kcl["cost_usd"] == approx(4 * MONTH_S * PER_READ)
    assert math.isnan(_lines(df, "global-table-replication", "stream reads")["quantity"])
    free = df[df["kind"] == "free tier"].set_index("charge")["quantity"]
    assert free.to_dict() == {
        "stream reads": -2_500_000,
        "Lambda requests": -1_000_000,
        "Lambda duration": -400_000,
    }
    total = df["cost_usd"].sum()
    expected = pricing.stream_read_cost(4 * MONTH_S) + pricing.lambda_cost(16 * MONTH_S)
    assert total == approx(expected)
    assert round(total, 2) == 11.91
    assert df.attrs["region"] == "us-east-1" and df.attrs["prices_as_of"] == "2026-11-27"
    assert df.attrs["confirmed"] is True
    assert any("WARNING: 3 readers" in a for a in df.attrs["assumptions"])


def test_free_tier_applied_once_across_consumers():
    work = Workload(0, shards=1)
    df = pricing.estimate(work, [Poller("a", 1.0), Poller("b", 1.0)])
    # 2 x 2,628,000 idle polls = 5,256,000; minus 2,500,000 once.
    assert df["cost_usd"].sum() == approx((2 * MONTH_S - 2_500_000) * PER_READ)
    assert df["cost_usd"].sum() == approx(pricing.stream_read_cost(2 * MONTH_S))
    no_free = pricing.estimate(work, [Poller("a", 1.0), Poller("b", 1.0)], free_tier=False)
    assert (no_free["kind"] != "free tier").all()
    assert no_free["cost_usd"].sum() == approx(2 * MONTH_S * PER_READ)


def test_free_tier_caps_at_usage():
    df = pricing.estimate(Workload(0, shards=1), [Poller("slow", 10.0)])  # 262,800 polls
    assert df["cost_usd"].sum() == approx(0.0, abs=1e-12)
    assert _lines(df, "free tier", "stream reads")["quantity"] == -262_800


def test_zero_traffic_trigger_costs_nothing_poller_pays_for_empty_polls():
    df = pricing.estimate(Workload(0, shards=4), [LambdaTrigger(), Poller()])
    assert _lines(df, "lambda-trigger", "Lambda requests")["quantity"] == 0
    assert _lines(df, "free tier", "Lambda requests")["quantity"] == 0
    assert not np.signbit(_lines(df, "free tier", "Lambda requests")["quantity"])
    assert df["cost_usd"].sum() == approx((4 * MONTH_S - 2_500_000) * PER_READ)


def test_mixed_architectures_share_the_free_gb_seconds():
    work = Workload(400, shards=1)  # 4 invocations/s of 100 records for each trigger
    a = LambdaTrigger("x", memory_mb=1024, duration_ms=100)
    b = LambdaTrigger("y", memory_mb=1024, duration_ms=300, architecture="arm64")
    df = pricing.estimate(work, [a, b])
    n = 4 * MONTH_S
    gx, gy = n * 0.1, n * 0.3  # GB-s: 1,051,200 and 3,153,600
    free = df[(df["kind"] == "free tier") & (df["charge"] == "Lambda duration")]
    np.testing.assert_allclose(
        free["quantity"], [-400_000 * gx / (gx + gy), -400_000 * gy / (gx + gy)]
    )
    expected = (2 * n - 1e6) * PER_REQUEST + gx * X86 + gy * ARM
    expected -= 400_000 * (gx * X86 + gy * ARM) / (gx + gy)
    assert df["cost_usd"].sum() == approx(expected)
    assert df.attrs["confirmed"] is False  # the arm64 rate is not confirmed


def test_batching_window_cuts_invocations():
    work = Workload(100, shards=4)
    plain = _lines(pricing.estimate(work), "lambda-trigger", "Lambda requests")["quantity"]
    windowed = pricing.estimate(work, [LambdaTrigger(batching_window_s=5)])
    got = _lines(windowed, "lambda-trigger", "Lambda requests")["quantity"]
    assert plain == approx(16 * MONTH_S)  # 4 per shard per second
    # 25 records per shard per second: 125 per 5 s window, more than a batch of 100, so batches
    # are full: 0.25 invocations per shard per second, 1 per second in all.
    assert got == approx(MONTH_S)
    trickle = pricing.estimate(Workload(2, shards=4), [LambdaTrigger(batching_window_s=5)])
    got = _lines(trickle, "lambda-trigger", "Lambda requests")["quantity"]
    assert got == approx(4 * 0.2 * MONTH_S)  # 2.5 records per window: one batch per window
    assert "5 s window" in _lines(windowed, "lambda-trigger", "Lambda requests")["notes"]


def test_estimate_unconfirmed_region_without_lambda():
    df = pricing.estimate(Workload(10), [Poller()], region="eu-west-1")
    assert df.attrs["confirmed"] is False
    assert "UNCONFIRMED" in df.attrs["label"]
    with_trigger = pricing.estimate(Workload(10), [LambdaTrigger()], region="eu-west-1")
    assert with_trigger.attrs["confirmed"] is False
    with pytest.raises(PricingError, match="No Lambda price for region 'mars'.*--triggers 0"):
        pricing.lambda_cost(10, region="mars")


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Workload(-1), "writes_per_second"),
        (lambda: Workload(float("nan")), "writes_per_second"),
        (lambda: Workload(1, shards=0), "at least 1 shard"),
        (lambda: Workload(1, item_bytes=500_000), "item_bytes"),
        (lambda: Workload(1, record_bytes=2e6), "record_bytes"),
        (lambda: LambdaTrigger(memory_mb=100), "memory_mb"),
        (lambda: LambdaTrigger(architecture="x86"), "x86_64, arm64"),
        (lambda: Poller(poll_interval_s=0), "poll_interval_s"),
        (lambda: pricing.estimate(Workload(1), [Poller(), Poller()]), "repeated: poller"),
        (lambda: pricing.estimate(Workload(1), ["kcl"]), "LambdaTrigger, Poller"),
        (lambda: pricing.estimate({"writes": 1}), "Workload"),
        (lambda: pricing.estimate(Workload(1), hours=-1), "hours"),
        (lambda: pricing.estimate(Workload(1), region="moon"), "us-east-1"),
    ],
)
def test_estimate_rejects_bad_input(make, match):
    with pytest.raises(PricingError, match=match):
        make()


def test_no_consumers_costs_nothing():
    df = pricing.estimate(Workload(10), [])
    assert df.empty
    assert "idle stream costs nothing" in pricing.format_estimate(df)


def test_format_estimate_shows_label_lines_total_and_assumptions():
    df = pricing.estimate(Workload(100, 2048, 4), [LambdaTrigger("fn"), Poller("kcl")])
    text = pricing.format_estimate(df)
    assert text.splitlines()[0] == (
        "Monthly cost estimate (USD): us-east-1, prices as of 2026-11-27, 730 hours per month"
    )
    assert "42,048,000" in text and "$0.02 / 100,000" in text and "free" in text
    assert "Total: $11.91 per month" in text
    assert "Assumptions:" in text


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def test_cli_prints_a_table(capsys):
    args = ["--writes-per-second", "100", "--item-bytes", "2048", "--shards", "4", "--poller", "1"]
    assert pricing.main(args) == 0
    out = capsys.readouterr().out
    assert "poller-1 (1 s)" in out and "Total: $11.91 per month" in out


def test_cli_csv_and_options(capsys):
    args = ["--writes-per-second", "0", "--triggers", "0", "--poller", "1", "--poller", "0.5",
            "--hours", "720", "--csv"]  # fmt: skip
    assert pricing.main(args) == 0
    from io import StringIO

    df = pd.read_csv(StringIO(capsys.readouterr().out))
    assert df["cost_usd"].sum() == approx((3 * 2_592_000 - 2_500_000) * PER_READ)


def test_cli_errors_go_to_stderr(capsys):
    assert pricing.main(["--region", "mars"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No DynamoDB Streams read price for region 'mars'")
    with pytest.raises(SystemExit):
        pricing.main(["--architecture", "sparc"])


def test_cli_prices(capsys):
    assert pricing.main(["--prices"]) == 0
    assert "streams.read_request_units" in capsys.readouterr().out


def test_streamkit_price_subcommand(capsys):
    assert streamkit_main(["price", "--shards", "2", "--no-free-tier", "--global-table"]) == 0
    assert "global-table-replication" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        streamkit_main(["price", "--help"])
    assert info.value.code == 0
    assert "usage: streamkit price" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        streamkit_main(["nope"])


# --------------------------------------------------------------------------------------------
# The calculator behind the notebook's widgets
# --------------------------------------------------------------------------------------------


def test_calculator_view_draws_on_a_figure_object():
    df, fig = pricing.calculator_view(writes_per_second=100, item_bytes=2048, shards=4)
    assert df["cost_usd"].sum() == approx(11.905338, abs=1e-6)
    assert "us-east-1, prices as of 2026-11-27" in fig._suptitle.get_text()
    assert len(fig.axes) == 2
    assert plt.get_fignums() == []  # no pyplot figure: nothing global, nothing to close
    line = fig.axes[1].lines[0]
    # The curve passes through the estimate at the chosen 1 s poll interval.
    x, y = line.get_data()
    assert np.interp(1.0, x, y) == approx(df["cost_usd"].sum(), rel=1e-3)


def test_calculator_widget_recomputes_on_change():
    box = pricing.calculator_widget(shards=2)
    assert "Total: USD" in box.summary.value and bytes(box.chart.value).startswith(b"\x89PNG")
    assert "USD per month" in box.table.value and "$" not in box.table.value + box.summary.value
    before = box.summary.value
    box.controls["shards"].value = 8
    assert box.summary.value != before
    box.controls["writes_per_second"].value = 0.1  # idle: the pollers' reads are all that is left
    assert "Total: USD" in box.summary.value


def test_calculator_controls_keep_values_typed_and_readouts_plain():
    box = pricing.calculator_widget(item_bytes=2048, batch_size=10_000, writes_per_second=150)
    item = box.controls["item_bytes"]
    assert item.value == 2048 and isinstance(item.value, int)  # not snapped to 1995.26
    assert item.label == "2,048 B"
    assert box.controls["batch_size"].label == "10,000 records"
    assert box.controls["writes_per_second"].value == 150  # a value off the series is added
    for control in box.controls.values():
        assert control.layout.min_width == "560px"  # label 160 px + readout: >= 300 px of track
    assert box.controls["shards"].readout_format == ",d"


def test_the_calculator_callback_is_safe_from_four_threads():
    import threading

    box = pricing.calculator_widget(shards=2)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for n in range(10):  # each change redraws the chart (~0.2 s): 40 changes, 80 calls
                box.controls["shards"].value = 1 + (worker * 10 + n) % 64
                box.recompute()
        except BaseException as exc:  # noqa: BLE001 - the test reports every failure
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert "Total: USD" in box.summary.value
    shards = box.controls["shards"].value
    assert f"spread evenly over {shards} shards" in box.table.value  # the last call drew last


def test_a_region_without_lambda_prices_says_what_to_pass():
    with pytest.raises(PricingError, match="--triggers 0"):
        pricing.lambda_cost(1_000, region="ap-south-1")


def test_calculator_rejects_unknown_settings():
    with pytest.raises(PricingError, match="Unknown calculator setting"):
        pricing.calculator_widget(shard=2)


def test_cli_shards_is_a_whole_number(capsys):
    with pytest.raises(SystemExit):
        pricing.main(["--shards", "2.5"])
    assert "a whole number >= 1" in capsys.readouterr().err
    assert pricing.main(["--shards", "3"]) == 0
    assert "over 3 shards" in capsys.readouterr().out


def test_cli_every_option_has_help_and_the_help_shows_examples():
    from streamkit.pricing.cli import _build_parser

    parser = _build_parser("streamkit price")
    for action in parser._actions:
        assert action.help, action.option_strings
    text = parser.format_help()
    assert "examples:" in text and "streamkit price --writes-per-second 100" in text


@pytest.mark.parametrize("region", pricing.regions())
def test_cli_prices_every_region_of_the_price_table(region, capsys):
    assert pricing.main(["--region", region, "--poller", "1"]) == 0
    assert f"{region}, prices as of" in capsys.readouterr().out


def test_eu_central_1_is_priced_and_flagged_unconfirmed():
    table = pricing.price_table()
    frankfurt = table[table["region"] == "eu-central-1"]
    assert set(frankfurt["id"]) == {
        "streams.read_request_units",
        "lambda.requests",
        "lambda.duration",
    }
    assert not frankfurt["confirmed"].any()
    assert frankfurt["notes"].str.contains("UNCONFIRMED").all()
    assert frankfurt["source"].str.startswith("https://aws.amazon.com/").all()
