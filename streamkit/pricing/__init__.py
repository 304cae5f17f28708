"""What a DynamoDB Streams workload costs per month: stream reads, Lambda, free tiers.

Prices come from ``streamkit/data/prices.json``: every figure there has its value, unit, region,
source URL and as-of date, and says whether an AWS-owned source confirms it
(:func:`price_table` shows them all). Nothing here calls AWS.

The model in one paragraph
--------------------------
A DynamoDB stream is billed per ``GetRecords`` call ("stream read request unit"), whatever the call
returns, empty polls included. Calls made by Lambda triggers and by global tables replication are
free; every other consumer (a KCL application, a custom SDK poller) pays for each call after the
first 2,500,000 per month, per account and region. A polling consumer calls ``GetRecords`` on each
shard at least at its poll rate, and more often when one call cannot carry all the records that
arrived (1,000 records or 1 MB per call): see :func:`polling_read_requests`. A Lambda trigger costs
Lambda requests (one per batch, see :func:`lambda_invocations`) and duration (GB-seconds, see
:func:`lambda_cost`). :func:`estimate` puts a whole workload together as line items, applying each
free tier once.

Units and conventions
---------------------
* Money in US dollars, unrounded (round for display only; AWS rounds the bill, not each line).
* Request counts and GB-seconds per month. A month is :data:`HOURS_PER_MONTH` = 730 hours
  (365 x 24 / 12), the month of the AWS Pricing Calculator; every function takes ``hours=`` to use
  another (720 for a 30-day month, or ``run_seconds / 3600`` to compare with a short measured run).
* Rates in records (or calls) per second, sizes in bytes, Lambda memory in MB (1 GB = 1024 MB, as
  AWS computes GB-seconds), durations in milliseconds.

Vectorized
----------
The numeric functions accept Python numbers, sequences, NumPy arrays and pandas Series, broadcast
them against each other, and return a Python ``float`` for scalar input, an ``ndarray`` for array
input, or a ``Series`` with the input's index. Bad input (negative, NaN, infinite, out of range,
unknown region or architecture) raises :class:`~streamkit.errors.PricingError`, whose message names
the valid values.

Command line: ``python -m streamkit.pricing --help`` (or ``streamkit price --help``).

Modules
-------
* :mod:`streamkit.pricing.model`: the price table and the vectorized functions (no pandas until a
  DataFrame or Series is involved, no matplotlib, no ipywidgets).
* :mod:`streamkit.pricing.workload`: :class:`Workload`, its consumers, :func:`estimate` and
  :func:`format_estimate`.
* :mod:`streamkit.pricing.views`: :func:`calculator_view`, the figure (matplotlib).
* :mod:`streamkit.pricing.calculator`: :func:`calculator_widget`, the controls (ipywidgets).
* :mod:`streamkit.pricing.cli`: :func:`main`, the command line.

Everything public is importable from ``streamkit.pricing`` itself.
"""

from __future__ import annotations

from .calculator import calculator_widget
from .cli import main
from .model import (
    ARCHITECTURES,
    HOURS_PER_MONTH,
    PRICES_AS_OF,
    format_price_table,
    kinesis_cdc_cost,
    lambda_cost,
    lambda_duration_cost,
    lambda_gb_seconds,
    lambda_invocations,
    lambda_request_cost,
    polling_read_requests,
    price_label,
    price_table,
    regions,
    stream_read_cost,
)
from .views import calculator_view
from .workload import (
    Consumer,
    GlobalTableReplica,
    LambdaTrigger,
    Poller,
    Workload,
    estimate,
    format_estimate,
)

__all__ = [
    "HOURS_PER_MONTH",
    "ARCHITECTURES",
    "PRICES_AS_OF",
    "price_table",
    "format_price_table",
    "regions",
    "price_label",
    "stream_read_cost",
    "polling_read_requests",
    "lambda_invocations",
    "lambda_gb_seconds",
    "lambda_request_cost",
    "lambda_duration_cost",
    "lambda_cost",
    "kinesis_cdc_cost",
    "Workload",
    "LambdaTrigger",
    "Poller",
    "GlobalTableReplica",
    "Consumer",
    "estimate",
    "format_estimate",
    "calculator_view",
    "calculator_widget",
    "main",
]
