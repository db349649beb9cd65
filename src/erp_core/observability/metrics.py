"""Prometheus metrics of this process: requests per route, jobs per kind and outcome,
webhooks per type. One registry per process (several `serve`/`worker` processes are scraped
separately, as Prometheus expects)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry()

REQUESTS = Counter(
    "erp_core_http_requests_total",
    "HTTP requests",
    ["method", "route", "status"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "erp_core_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
JOBS = Counter("erp_core_jobs_total", "Operations finished", ["kind", "outcome"], registry=REGISTRY)
JOB_SECONDS = Histogram(
    "erp_core_job_duration_seconds",
    "Operation duration (queue wait excluded)",
    ["kind", "outcome"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
    registry=REGISTRY,
)
WEBHOOKS = Counter(
    "erp_core_webhooks_total",
    "Provider webhooks received",
    ["provider", "type", "outcome"],
    registry=REGISTRY,
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    REQUEST_SECONDS.labels(method, route).observe(seconds)


def observe_job(kind: str, outcome: str, seconds: float) -> None:
    JOBS.labels(kind, outcome).inc()
    JOB_SECONDS.labels(kind, outcome).observe(seconds)
