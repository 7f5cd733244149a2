"""The benchmark's report: measurements in, the table for people and the JSON for machines out.

Pure functions of their inputs (no clock, no files), so a test feeds them a fixed set of measurements
(Benchmarks/tests/test_report.py) and compares the text and the JSON with what they must be.
"""

from dataclasses import dataclass, field

BEGIN, END = "<!-- benchmark:begin -->", "<!-- benchmark:end -->"


@dataclass
class Measurement:
    """One wrk run against one server: requests, seconds, latencies in microseconds, errors."""

    requests: int
    seconds: float
    p50_us: int
    p99_us: int
    status_errors: int = 0
    socket_errors: int = 0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Row:
    """An endpoint's numbers for one target, two runs merged: requests/s averaged, the worse latencies kept."""

    rps: float
    p50: float  # ms
    p99: float  # ms
    errors: int

    @staticmethod
    def of(m: Measurement) -> "Row":
        return Row(m.rps, m.p50_us / 1000, m.p99_us / 1000, m.status_errors + m.socket_errors)

    def merged(self, other: "Row") -> "Row":
        return Row((self.rps + other.rps) / 2, max(self.p50, other.p50), max(self.p99, other.p99), self.errors + other.errors)


@dataclass
class Run:
    """Everything one run measured, in the order it was measured."""

    peer_label: str  # "-" without a peer
    machine: str
    setup: str
    date: str  # "2026-12-07 22:55 UTC"
    conduit_rss_kb: int = 0
    peer_rss_kb: int = 0
    baseline_revision: str = ""
    rows: dict = field(default_factory=dict)  # label -> target -> Row

    def add(self, label: str, target: str, measurement: Measurement) -> None:
        row = Row.of(measurement)
        previous = self.rows.setdefault(label, {}).get(target)
        self.rows[label][target] = previous.merged(row) if previous else row

    @property
    def has_peer(self) -> bool:
        return self.peer_label != "-"


def fmt_rps(value: float) -> str:
    return f"{value:,.0f}"


def fmt_ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}×" if b else "-"


def render(run: Run) -> str:
    """The table docs/performance.md shows: endpoints against the peer, the page/JSON share, the trivial route."""
    lines = []
    label = run.peer_label
    if run.has_peer:
        lines.append(f"| endpoint | Conduit req/s | {label} req/s | ratio | Conduit p50 / p99 ms | {label} p50 / p99 ms | p99 ratio | errors |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    else:
        lines.append("| endpoint | Conduit req/s | Conduit p50 / p99 ms | errors |")
        lines.append("| --- | ---: | ---: | ---: |")
    for endpoint, targets in run.rows.items():
        if "conduit" not in targets:
            continue
        c = targets["conduit"]
        if run.has_peer and "peer" in targets:
            p = targets["peer"]
            p99_ratio = f"1/{p.p99 / c.p99:.1f}" if c.p99 else "-"
            lines.append(f"| `{endpoint}` | {fmt_rps(c.rps)} | {fmt_rps(p.rps)} | **{ratio(c.rps, p.rps)}** | "
                         f"{fmt_ms(c.p50)} / {fmt_ms(c.p99)} | {fmt_ms(p.p50)} / {fmt_ms(p.p99)} | {p99_ratio} | "
                         f"{c.errors} / {p.errors} |")
        elif run.has_peer:
            lines.append(f"| `{endpoint}` | {fmt_rps(c.rps)} | - | - | {fmt_ms(c.p50)} / {fmt_ms(c.p99)} | - | - | {c.errors} |")
        else:
            lines.append(f"| `{endpoint}` | {fmt_rps(c.rps)} | {fmt_ms(c.p50)} / {fmt_ms(c.p99)} | {c.errors} |")
    pages = []
    cost = audit_cost(run)
    if cost is not None:
        on, off = run.rows[WRITE_LABEL]["conduit"], run.rows[WRITE_LABEL]["noaudit"]
        pages.append(f"Audit trail on / off, `{WRITE_LABEL}`: {fmt_rps(on.rps)} / {fmt_rps(off.rps)} req/s, p99 {fmt_ms(on.p99)} / "
                     f"{fmt_ms(off.p99)} ms: the trail costs **{100 * cost:.0f}%** of write throughput "
                     f"({'within' if cost <= 0.15 else 'OVER'} the budget of 15%).")
    share = home_page_share(run)
    if share is not None:
        pages.append(f"Home page (HTML, 10 articles, tags) / `GET /api/articles?limit=20` (JSON): **{100 * share:.0f}%** of the list's "
                     f"requests/s ({'meets' if share >= 0.5 else 'MISSES'} the floor of 50%).")
    stack = run.rows.get("GET /plaintext", {})
    trivial = []
    if "bare" in stack and "stack" in stack:
        b, s = stack["bare"], stack["stack"]
        trivial.append("| route | req/s | p50 / p99 ms | errors |")
        trivial.append("| --- | ---: | ---: | ---: |")
        trivial.append(f"| bare Hummingbird `GET /plaintext` | {fmt_rps(b.rps)} | {fmt_ms(b.p50)} / {fmt_ms(b.p99)} | {b.errors} |")
        if "headers" in stack:
            h = stack["headers"]
            trivial.append(f"| bare Hummingbird, answering with the 7 headers Keel adds (fixed values) | {fmt_rps(h.rps)} | "
                           f"{fmt_ms(h.p50)} / {fmt_ms(h.p99)} | {h.errors} |")
        if "baseline" in stack:
            a = stack["baseline"]
            trivial.append(f"| the same route behind Keel's full stack as of `{run.baseline_revision}` (before) | {fmt_rps(a.rps)} | "
                           f"{fmt_ms(a.p50)} / {fmt_ms(a.p99)} | {a.errors} |")
        trivial.append(f"| the same route behind Keel's full stack | {fmt_rps(s.rps)} | {fmt_ms(s.p50)} / {fmt_ms(s.p99)} | {s.errors} |")

        def keeps(m: Row) -> str:
            text = f"**{100 * m.rps / b.rps:.0f}%** of bare"
            if "headers" in stack:
                text += f", {100 * m.rps / stack['headers'].rps:.0f}% of bare with the same headers"
            return text

        if "baseline" in stack:
            trivial.append(f"| **Keel's stack keeps**, before (`{run.baseline_revision}`) → now | {keeps(stack['baseline'])} → {keeps(s)} | | |")
        else:
            trivial.append(f"| **Keel's stack keeps** | {keeps(s)} | | |")
    memory = f"Peak RSS while serving: Conduit {run.conduit_rss_kb / 1024:.0f} MB"
    if run.has_peer and run.peer_rss_kb > 0:
        memory += (f", {label} {run.peer_rss_kb / 1024:.0f} MB (every process of its group summed): "
                   f"**1/{run.peer_rss_kb / max(run.conduit_rss_kb, 1):.1f}**")
    memory += "."
    block = [f"Run {run.date} on {run.machine}.", f"Setup: {run.setup}. Errors are non-2xx plus socket errors, Conduit / {label}.", ""]
    block += lines + [""] + (pages + [""] if pages else []) + trivial + ["", memory, "", f"Errors in the whole run: {total_errors(run)}."]
    return "\n".join(block)


def total_errors(run: Run) -> int:
    """Every error the report counts: the endpoints Conduit was measured on, both sides, and the trivial route."""
    errors = 0
    for targets in run.rows.values():
        if "conduit" in targets:
            errors += targets["conduit"].errors + (targets["peer"].errors if run.has_peer and "peer" in targets else 0)
    stack = run.rows.get("GET /plaintext", {})
    if "bare" in stack and "stack" in stack:
        errors += sum(stack[name].errors for name in ("bare", "stack", "headers", "baseline") if name in stack)
    if "noaudit" in run.rows.get(WRITE_LABEL, {}):
        errors += run.rows[WRITE_LABEL]["noaudit"].errors
    return errors


WRITE_LABEL = "POST /api/articles (auth)"


def audit_cost(run: Run):
    """The share of write throughput the audit trail costs (Conduit with it on against the same with it off)."""
    targets = run.rows.get(WRITE_LABEL, {})
    on, off = targets.get("conduit"), targets.get("noaudit")
    return 1 - on.rps / off.rps if on and off and off.rps else None


def home_page_share(run: Run):
    home = run.rows.get("GET / (home page)", {}).get("conduit")
    listed = run.rows.get("GET /api/articles", {}).get("conduit")
    return home.rps / listed.rps if home and listed and listed.rps else None


def to_json(run: Run) -> dict:
    """The machine-readable result (`Benchmarks/run --json`); its keys are read by other tools and never renamed."""

    def measurement(m: Row) -> dict:
        return {"requests_per_second": round(m.rps, 1), "p50_ms": m.p50, "p99_ms": m.p99, "errors": m.errors}

    endpoints = []
    for endpoint, targets in run.rows.items():
        if "conduit" not in targets:
            continue
        entry = {"endpoint": endpoint, "conduit": measurement(targets["conduit"])}
        if "peer" in targets:
            c, p = targets["conduit"], targets["peer"]
            entry["peer"] = measurement(p)
            entry["ratio"] = round(c.rps / p.rps, 2) if p.rps else None
            entry["p99_ratio"] = round(c.p99 / p.p99, 3) if p.p99 else None
        endpoints.append(entry)
    stack = run.rows.get("GET /plaintext", {})
    share = home_page_share(run)
    extra = {}
    if audit_cost(run) is not None:
        extra["audit_cost_of_writes"] = {"share": round(audit_cost(run), 3), "audit_off": measurement(run.rows[WRITE_LABEL]["noaudit"])}
    return extra | {
        "date": run.date, "machine": run.machine, "setup": run.setup, "peer": None if not run.has_peer else run.peer_label,
        "endpoints": endpoints,
        "trivial_route": {name: measurement(m) for name, m in stack.items()},
        "home_page_share_of_json_list": round(share, 3) if share is not None else None,
        "stack_share_of_bare": round(stack["stack"].rps / stack["bare"].rps, 3) if "bare" in stack and "stack" in stack else None,
        "baseline": ({"revision": run.baseline_revision, "stack_share_of_bare": round(stack["baseline"].rps / stack["bare"].rps, 3)}
                     if "baseline" in stack and "bare" in stack else None),
        "peak_rss_mb": {"conduit": round(run.conduit_rss_kb / 1024, 1), "peer": round(run.peer_rss_kb / 1024, 1) if run.has_peer else None},
        "errors": total_errors(run),
    }


def replace_block(document: str, text: str) -> str:
    """docs/performance.md with the text between the benchmark markers replaced (appended with them when absent)."""
    if BEGIN in document and END in document:
        head, rest = document.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        return f"{head}{BEGIN}\n{text}\n{END}{tail}"
    return document + f"\n## Latest run\n\n{BEGIN}\n{text}\n{END}\n"


def parse_wrk(output: str):
    """The numbers `report.lua` prints at the end of a wrk run: a Measurement, or None when wrk printed none."""
    for line in output.splitlines():
        if line.startswith("BENCH_RESULT "):
            _, requests, seconds, p50, p99, status_errors, socket_errors = line.split()
            return Measurement(int(requests), float(seconds), int(p50), int(p99), int(status_errors), int(socket_errors))
    return None
