"""Prometheus metrics at ``/metrics`` (text format 0.0.4), with no extra dependency.

Every label value comes from a closed set, whatever a client sends: a method not in
:data:`METHODS`, a path no route matches, are counted as ``other``; statuses are
counted by class (``2xx``). So requests with made-up methods or paths cannot grow
``/metrics`` or the server's memory.

- ``cmdb_http_requests_total{method,route,status}`` and
  ``cmdb_http_request_duration_seconds{route}``: every HTTP request, by the template
  of the route that served it (``/a/{asset_tag}``), and status class;
- ``cmdb_graphql_operations_total{operation,outcome}`` and
  ``cmdb_graphql_operation_duration_seconds{operation}``: GraphQL operations, named
  by type and first root field (``mutation updateCI``), so the label set is bounded
  by the schema, not by what clients send;
- ``cmdb_store_call_duration_seconds{call}``: each store read and write transaction, as
  the store reports them (``Store.observe_calls``), by the store method's name;
- ``cmdb_access_refusals_total{code}``: 401, 403, 413 and 429 refusals.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence

from starlette.routing import BaseRoute, Match

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT",
                     "TRACE"})
OTHER = "other"
_LOCK = threading.Lock()
Labels = tuple[str, ...]


def method_label(method: str) -> str:
    """A standard HTTP method as itself; anything else ``other``."""
    return method if method in METHODS else OTHER


def status_label(status: int) -> str:
    """``2xx``, ``3xx``, ``4xx`` or ``5xx``."""
    return f"{status // 100}xx" if 100 <= status <= 599 else OTHER


def route_template(routes: Sequence[BaseRoute], path: str, method: str = "GET") -> str:
    """The template of the route serving ``path`` (``/a/{asset_tag}``, ``/static``) as the
    router chooses it (the first full match, else the first match by path only), or
    ``other`` when none does."""
    scope = {"type": "http", "path": path, "method": method, "root_path": ""}
    partial: BaseRoute | None = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            partial = route
            break
        if match is Match.PARTIAL and partial is None:
            partial = route
    return str(getattr(partial, "path", "") or OTHER) if partial is not None else OTHER


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(names: Labels, values: Labels, extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


class Histogram:
    """Observations in cumulative buckets, per label set."""

    def __init__(self, name: str, help_text: str, label_names: Labels) -> None:
        self.name, self.help, self.label_names = name, help_text, label_names
        self.series: dict[Labels, list[float]] = {}

    def observe(self, labels: Labels, seconds: float) -> None:
        with _LOCK:  # requests run on the server's loop and on worker threads
            row = self.series.setdefault(labels, [0.0] * (len(BUCKETS) + 2))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    row[i] += 1
            row[-2] += 1
            row[-1] += seconds

    def render(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        with _LOCK:
            series = sorted((k, list(v)) for k, v in self.series.items())
        for labels, row in series:
            for i, bound in enumerate(BUCKETS):
                le = _labels(self.label_names, labels, f'le="{bound}"')
                out.append(f"{self.name}_bucket{le} {row[i]:g}")
            inf = _labels(self.label_names, labels, 'le="+Inf"')
            out.append(f"{self.name}_bucket{inf} {row[-2]:g}")
            out.append(f"{self.name}_count{_labels(self.label_names, labels)} {row[-2]:g}")
            out.append(f"{self.name}_sum{_labels(self.label_names, labels)} {row[-1]:.6f}")
        return out


class CounterMetric:
    """A monotonically increasing count per label set."""

    def __init__(self, name: str, help_text: str, label_names: Labels) -> None:
        self.name, self.help, self.label_names = name, help_text, label_names
        self.series: Counter[Labels] = Counter()

    def inc(self, labels: Labels) -> None:
        with _LOCK:
            self.series[labels] += 1

    def render(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        with _LOCK:
            series = sorted(self.series.items())
        out += [f"{self.name}{_labels(self.label_names, k)} {v}" for k, v in series]
        return out


class Metrics:
    """The CMDB server's metrics, rendered for Prometheus."""

    def __init__(self, routes: Sequence[BaseRoute] = ()) -> None:
        self.routes: Sequence[BaseRoute] = routes
        self.requests = CounterMetric("cmdb_http_requests_total", "HTTP requests answered.",
                                      ("method", "route", "status"))
        self.request_seconds = Histogram("cmdb_http_request_duration_seconds",
                                         "Time to answer an HTTP request.", ("route",))
        self.operations = CounterMetric("cmdb_graphql_operations_total",
                                        "GraphQL operations run.", ("operation", "outcome"))
        self.operation_seconds = Histogram("cmdb_graphql_operation_duration_seconds",
                                           "Time to run a GraphQL operation.", ("operation",))
        self.store_seconds = Histogram("cmdb_store_call_duration_seconds",
                                       "Time of store reads and write transactions.", ("call",))
        self.refusals = CounterMetric("cmdb_access_refusals_total",
                                      "Requests refused before running (auth, role, limits).",
                                      ("code",))
        self.started = time.time()

    def route_of(self, path: str, method: str = "GET") -> str:
        return route_template(self.routes, path, method)

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request; ``route`` is :meth:`route_of` the path."""
        self.requests.inc((method_label(method), route, status_label(status)))
        self.request_seconds.observe((route,), seconds)

    def operation(self, name: str, outcome: str, seconds: float) -> None:
        self.operations.inc((name, outcome))
        self.operation_seconds.observe((name,), seconds)

    def store_call(self, name: str, seconds: float) -> None:
        """Time one store call (a :class:`~cmdb.store.base.Store` call observer)."""
        self.store_seconds.observe((name,), seconds)

    def refusal(self, code: str) -> None:
        self.refusals.inc((code,))

    def render(self) -> str:
        lines = ["# HELP cmdb_process_start_time_seconds When the server started.",
                 "# TYPE cmdb_process_start_time_seconds gauge",
                 f"cmdb_process_start_time_seconds {self.started:.3f}"]
        for metric in (self.requests, self.request_seconds, self.operations,
                       self.operation_seconds, self.store_seconds, self.refusals):
            lines += metric.render()
        return "\n".join(lines) + "\n"
