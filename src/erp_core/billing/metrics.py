"""SaaS metrics computed in SQL over the subscription history (docs/metrics.md).

One statement evaluates every subscription's MRR at every instant it needs (month
boundaries, plus the points where a subscription's MRR can change, to know whether a
customer ever had MRR before a month); Python only rounds the aggregates it gets back.
MRR values are exact fractions evaluated with 40 decimal places, summed, and rounded
half-up to whole minor units only when reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

COUNTING = "('active', 'past_due')"

# States with their validity [t_from, t_to): the next state of the same subscription (by
# event `created`, ties by reception order) ends the previous one. An empty interval (two
# events in one second) means the earlier-received one never counts: the later one wins.
_STATES = """
st AS (
  SELECT s.stripe_subscription_id AS sub, s.stripe_customer_id AS cus, s.status, s.currency,
         s.effective_at AS t_from,
         lead(s.effective_at) OVER (PARTITION BY s.stripe_subscription_id
                                    ORDER BY s.effective_at, s.received_seq) AS t_to,
         s.mrr_numerator AS num, s.mrr_denominator AS den, s.interval_k AS k,
         s.interval_count AS c
  FROM subscription_states s {where}
)"""

# MRR of each probed (kind, t, sub): forever discounts only; a subscription's own discounts
# take precedence over its customer's; percent_off on the item amounts, amount_off per
# billing interval normalised like the price. Exact numerator over one denominator.
_MRR = """
dact AS (
  SELECT p.kind, p.t, p.sub, cp.duration, cp.percent_off, cp.amount_off,
         CASE WHEN d.stripe_subscription_id IS NULL THEN 2 ELSE 1 END AS lvl
  FROM probe p
  JOIN discounts d ON d.started_at <= p.t AND (d.ended_at IS NULL OR d.ended_at > p.t)
   AND (d.stripe_subscription_id = p.sub
        OR (d.stripe_subscription_id IS NULL AND d.stripe_customer_id = p.cus))
  JOIN coupons cp ON cp.id = d.coupon_id
),
dsum AS (
  SELECT kind, t, sub,
         coalesce(sum(percent_off) FILTER (WHERE duration = 'forever'), 0) AS pct,
         coalesce(sum(amount_off) FILTER (WHERE duration = 'forever'), 0) AS amt
  FROM (SELECT dact.*, min(lvl) OVER (PARTITION BY kind, t, sub) AS best FROM dact) x
  WHERE lvl = best
  GROUP BY kind, t, sub
),
smrr AS (
  SELECT p.kind, p.t, p.sub, p.cus,
         greatest(0, CAST(
             p.num * (100 - least(100, coalesce(ds.pct, 0))) * 12 * p.c
             - 100 * coalesce(ds.amt, 0) * p.k * p.den AS numeric(80, 40))
           / (100 * p.den * 12 * p.c)) AS mrr
  FROM probe p
  LEFT JOIN dsum ds ON ds.kind = p.kind AND ds.t = p.t AND ds.sub = p.sub
)"""

_PROBE_AT = (
    """
SELECT {kind} AS kind, i.t, st.sub, st.cus, st.num, st.den, st.k, st.c
FROM {points} JOIN st ON {match} st.t_from <= i.t AND (st.t_to IS NULL OR st.t_to > i.t)
WHERE st.status IN """
    + COUNTING
    + " AND st.currency = :currency"
)

_SERIES_SQL = (
    "WITH"  # noqa: S608  (constant fragments only; values are bound parameters)
    + _STATES.format(where="")
    + """,
pts AS (
  SELECT sub, t_from AS t FROM st
  UNION
  SELECT s.sub, b.t
  FROM (SELECT DISTINCT sub, cus FROM st) s
  JOIN discounts d ON d.stripe_subscription_id = s.sub
    OR (d.stripe_subscription_id IS NULL AND d.stripe_customer_id = s.cus)
  CROSS JOIN LATERAL (VALUES (d.started_at), (d.ended_at)) AS b(t)
  WHERE b.t IS NOT NULL
),
probe AS ("""
    + _PROBE_AT.format(
        kind="'i'", points="unnest(CAST(:instants AS timestamptz[])) AS i(t)", match=""
    )
    + " UNION ALL "
    + _PROBE_AT.format(kind="'p'", points="pts AS i", match="st.sub = i.sub AND")
    + "),"
    + _MRR
    + """,
cm AS (SELECT t, cus, sum(mrr) AS mrr FROM smrr WHERE kind = 'i' GROUP BY t, cus),
fp AS (SELECT cus, min(t) AS first_at FROM smrr WHERE kind = 'p' AND mrr > 0 GROUP BY cus),
b AS (
  SELECT * FROM unnest(CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[]))
         AS b(m, n)
),
pm AS (
  SELECT m, cus, sum(s) AS s, sum(e) AS e
  FROM (SELECT b.m, c.cus, c.mrr AS s, 0 AS e FROM b JOIN cm c ON c.t = b.m
        UNION ALL
        SELECT b.m, c.cus, 0, c.mrr FROM b JOIN cm c ON c.t = b.n) AS x
  GROUP BY m, cus
),
agg AS (
  SELECT pm.m,
    sum(pm.s) AS mrr_start, sum(pm.e) AS mrr_end,
    sum(pm.e) FILTER (WHERE pm.s = 0 AND pm.e > 0
                      AND (fp.first_at IS NULL OR fp.first_at >= pm.m)) AS new_mrr,
    count(*) FILTER (WHERE pm.s = 0 AND pm.e > 0
                     AND (fp.first_at IS NULL OR fp.first_at >= pm.m)) AS new_customers,
    sum(pm.e) FILTER (WHERE pm.s = 0 AND pm.e > 0 AND fp.first_at < pm.m) AS reactivation_mrr,
    count(*) FILTER (WHERE pm.s = 0 AND pm.e > 0 AND fp.first_at < pm.m)
      AS reactivated_customers,
    sum(pm.e - pm.s) FILTER (WHERE pm.s > 0 AND pm.e > pm.s) AS expansion_mrr,
    sum(pm.s - pm.e) FILTER (WHERE pm.s > 0 AND pm.e > 0 AND pm.e < pm.s) AS contraction_mrr,
    sum(pm.s) FILTER (WHERE pm.s > 0 AND pm.e = 0) AS churned_mrr,
    count(*) FILTER (WHERE pm.s > 0 AND pm.e = 0) AS churned_customers,
    count(*) FILTER (WHERE pm.s > 0) AS customers_start,
    count(*) FILTER (WHERE pm.e > 0) AS active_customers
  FROM pm LEFT JOIN fp ON fp.cus = pm.cus
  GROUP BY pm.m
),
paid AS (
  SELECT b.m, coalesce(sum(inv.amount_paid), 0) AS paid
  FROM b LEFT JOIN invoices inv
    ON inv.paid_at >= b.m AND inv.paid_at < b.m + interval '1 month'
   AND inv.currency = :currency AND inv.paid_at IS NOT NULL
  GROUP BY b.m
),
ref AS (
  SELECT observed_at, greatest(0, amount_refunded_total - coalesce(max(amount_refunded_total)
           OVER (PARTITION BY stripe_charge_id ORDER BY observed_at, received_seq
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)) AS increase
  FROM refund_observations WHERE currency = :currency
),
refunded AS (
  SELECT b.m, coalesce(sum(r.increase), 0) AS refunded
  FROM b LEFT JOIN ref r ON r.observed_at >= b.m AND r.observed_at < b.m + interval '1 month'
  GROUP BY b.m
)
SELECT b.m, agg.*, paid.paid, refunded.refunded
FROM b LEFT JOIN agg ON agg.m = b.m
JOIN paid ON paid.m = b.m JOIN refunded ON refunded.m = b.m
ORDER BY b.m"""
)

_SUBSCRIPTION_MRR_SQL = (
    "WITH"  # noqa: S608  (constant fragments only)
    + _STATES.format(where="WHERE s.stripe_subscription_id = :sub")
    + ", probe AS ("
    + _PROBE_AT.format(kind="'i'", points="(SELECT CAST(:at AS timestamptz) AS t) AS i", match="")
    + "),"
    + _MRR
    + " SELECT coalesce(sum(mrr), 0) FROM smrr"
)

ZERO = Decimal(0)
AMOUNTS = (
    "mrr_start",
    "mrr_end",
    "new_mrr",
    "reactivation_mrr",
    "expansion_mrr",
    "contraction_mrr",
    "churned_mrr",
)
COUNTS = (
    "new_customers",
    "reactivated_customers",
    "churned_customers",
    "customers_start",
    "active_customers",
)


def month_start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def report_amount(value: Decimal) -> int:
    """Half-up to whole minor units, after clearing the last digits of accumulated error."""
    with localcontext() as ctx:
        ctx.prec = 100  # 40 decimal places plus any realistic total fit exactly
        cleaned = value.quantize(Decimal("1e-20"))
        return int(cleaned.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _ratio(numerator: Decimal, denominator: Decimal) -> float | None:
    if denominator == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 100
        return float(numerator.quantize(Decimal("1e-20")) / denominator.quantize(Decimal("1e-20")))


@dataclass(frozen=True)
class MonthFigures:
    """Exact aggregates for one month (amounts are Decimals in minor units)."""

    month: date
    values: dict[str, Decimal]
    counts: dict[str, int]
    revenue: int

    def report(self, currency: str) -> dict[str, Any]:
        v, n = self.values, self.counts
        start, end = v["mrr_start"], v["mrr_end"]
        lost = v["churned_mrr"] + v["contraction_mrr"]
        return {
            "month": self.month.strftime("%Y-%m"),
            "currency": currency,
            "mrr": report_amount(end),
            "arr": report_amount(12 * end),
            "mrr_start": report_amount(start),
            "new_mrr": report_amount(v["new_mrr"]),
            "expansion_mrr": report_amount(v["expansion_mrr"]),
            "contraction_mrr": report_amount(v["contraction_mrr"]),
            "churned_mrr": report_amount(v["churned_mrr"]),
            "reactivation_mrr": report_amount(v["reactivation_mrr"]),
            "active_customers": n["active_customers"],
            "customers_start": n["customers_start"],
            "new_customers": n["new_customers"],
            "reactivated_customers": n["reactivated_customers"],
            "churned_customers": n["churned_customers"],
            "customer_churn_rate": _ratio(
                Decimal(n["churned_customers"]), Decimal(n["customers_start"])
            ),
            "gross_mrr_churn_rate": _ratio(lost, start),
            "net_mrr_churn_rate": _ratio(lost - v["expansion_mrr"] - v["reactivation_mrr"], start),
            "nrr": _ratio(start + v["expansion_mrr"] - lost, start),
            "arpa": None
            if n["active_customers"] == 0
            else report_amount(end / n["active_customers"]),
            "revenue": self.revenue,
        }


async def compute_months(
    session: AsyncSession, months: list[date], currency: str, now: datetime
) -> list[MonthFigures]:
    """Figures for each month (UTC calendar months; the current one ends at `now`)."""
    starts = [month_start(m) for m in months]
    ends = [min(month_start(next_month(m)), now) for m in months]
    instants = sorted(set(starts) | set(ends))
    # CTE row estimates are poor (1 row), which makes the planner nest-loop joins over
    # hundreds of thousands of rows; hash joins are right here, so ask for them. The
    # penalised costs would then trigger JIT compilation (seconds, for a sub-second query).
    previous = (
        await session.execute(
            text("SELECT current_setting('enable_nestloop'), current_setting('jit')")
        )
    ).one()
    await session.execute(text("SET LOCAL enable_nestloop = off"))
    await session.execute(text("SET LOCAL jit = off"))
    rows = await session.execute(
        text(_SERIES_SQL),
        {"instants": instants, "starts": starts, "ends": ends, "currency": currency.lower()},
    )
    by_month = {row.m: row for row in rows}
    # (on an error the transaction is aborted and the SET LOCALs end with it)
    await session.execute(
        text("SELECT set_config('enable_nestloop', :n, true), set_config('jit', :j, true)"),
        {"n": previous[0], "j": previous[1]},
    )
    figures = []
    for month, start in zip(months, starts, strict=True):
        row = by_month.get(start)  # a month with no subscription history has no row: zeros
        values = {name: Decimal(getattr(row, name, 0) or 0) for name in AMOUNTS}
        counts = {name: int(getattr(row, name, 0) or 0) for name in COUNTS}
        revenue = int(getattr(row, "paid", 0) or 0) - int(getattr(row, "refunded", 0) or 0)
        figures.append(MonthFigures(month, values, counts, revenue))
    return figures


async def subscription_mrr(
    session: AsyncSession, stripe_subscription_id: str, at: datetime, currency: str
) -> Decimal:
    """One subscription's exact MRR at instant `at` (0 when it does not count)."""
    value = await session.scalar(
        text(_SUBSCRIPTION_MRR_SQL),
        {"sub": stripe_subscription_id, "at": at, "currency": currency.lower()},
    )
    return Decimal(value or 0)
