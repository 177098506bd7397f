"""Hello side by side: ours, Go, Python and the seed's stack, measured in one run, interleaved.

Every measurement goes in rounds, and each round runs every contender once, in an order rotated
from round to round, so that drift on the machine (other work, heat, caches) hits all of them
alike. Ratios are ours/X, computed on the medians of the rounds.

1. Size: the binary, and a zip of the code directory made the same way for all.
2. Cold start: exec to the first 200 of `POST /invoke`, output to /dev/null.
3. Memory: RSS after start and one invocation, and after 10,000 more over 16 connections.
4. Throughput, latency and CPU time per invocation over keep-alive with wrk, at 1 and 16
   connections, output to /dev/null and to a pipe the bench drains (as FC reads a function's
   output).

Go runs twice: as built (GOMAXPROCS is the machine's cores), and with GOMAXPROCS=1, as on one
vCPU (see `contenders.go_one_processor`).
"""

from __future__ import annotations

import http.client
import json
import math
import shutil
import statistics
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bench import contenders
from bench.report import (
    JsonValue,
    Ratio,
    Section,
    bytes_text,
    ms_text,
    progress,
    quick,
    ratio,
    ratio_text,
    spread,
    table,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from bench.contenders import Contender

T = TypeVar("T")

MIB = 1024 * 1024
CONNECTIONS = (1, 16)
SINKS = ("/dev/null", "pipe")
WRK_TIMEOUT_S = 5


@dataclass(frozen=True)
class Plan:
    """How much to measure: the full run, or `--quick`."""

    cold_starts: int
    memory_rounds: int
    invocations: int
    wrk_rounds: int
    wrk_seconds: int


FULL = Plan(cold_starts=30, memory_rounds=3, invocations=10_000, wrk_rounds=3, wrk_seconds=3)
QUICK = Plan(cold_starts=5, memory_rounds=1, invocations=2_000, wrk_rounds=1, wrk_seconds=1)


def rotated(items: Sequence[T], round_index: int) -> list[T]:
    """`items` starting at position `round_index` (modulo their count), wrapping around."""
    shift = round_index % len(items)
    return [*items[shift:], *items[:shift]]


# -- wrk -------------------------------------------------------------------------------------


def _lua_string(text: str) -> str:
    """A Lua string literal (JSON's escapes are Lua's for the ASCII the bench sends)."""
    return json.dumps(text, ensure_ascii=True)


def wrk_script(
    directory: Path, body: bytes, headers: Mapping[str, str], *, method: str = "POST"
) -> Path:
    """A wrk script that sends `body` with `headers` and prints its figures as one JSON line.

    The line holds wrk's latency histogram (`[µs, count]` for each distinct latency) for figures
    computed from every request, such as the duration FC would bill (`bench.cost`).
    """
    lines = [f"wrk.method = {_lua_string(method)}"]
    lines += [f"wrk.body = {_lua_string(body.decode())}"] if body else []
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()]
    lines += [
        "done = function(summary, latency, requests)",
        "  local e = summary.errors",
        "  local histogram = {}",
        "  for i = 1, #latency do",
        "    local value, count = latency(i)",
        '    histogram[i] = string.format("[%d,%d]", value, count)',
        "  end",
        (
            '  io.write(string.format("BENCH {\\"requests\\":%d,\\"duration_us\\":%d,'
            '\\"p50_us\\":%d,\\"p99_us\\":%d,\\"errors\\":%d,\\"histogram\\":[%s]}\\n",'
        ),
        "    summary.requests, summary.duration, latency:percentile(50),",
        "    latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout,",
        '    table.concat(histogram, ",")))',
        "end",
    ]
    script = directory / f"{method.lower()}.lua"
    script.write_text("\n".join(lines) + "\n")
    return script


@dataclass(frozen=True)
class Load:
    """What one wrk run measured."""

    requests: int
    seconds: float
    p50_s: float
    p99_s: float
    errors: int
    histogram: tuple[tuple[int, int], ...] = ()
    """Every answered request's latency as measured, without wrk's correction (`uncorrected`):
    (µs, how many requests took it), in increasing µs."""

    @property
    def throughput(self) -> float:
        """Answered invocations per second."""
        return self.requests / self.seconds

    @property
    def mean_s(self) -> float:
        """The mean latency of the requests answered, as measured."""
        count = sum(n for _, n in self.histogram)
        return sum(us * n for us, n in self.histogram) / max(count, 1) / 1e6

    def measured_percentile(self, percent: float) -> float:
        """The latency that `percent` % of the requests answered took at most, as measured."""
        count = sum(n for _, n in self.histogram)
        rank = max(1, math.ceil(count * percent / 100))
        seen = 0
        for us, n in self.histogram:
            seen += n
            if seen >= rank:
                return us / 1e6
        raise ValueError("no latency measured")


def uncorrected(
    histogram: Sequence[tuple[int, int]], duration_us: int, requests: int, connections: int
) -> tuple[tuple[int, int], ...]:
    """The latency histogram of wrk without its correction for coordinated omission.

    Before its `done` hook, wrk (4.1, stats_correct in src/stats.c) adds, for every latency L of
    at least twice the expected interval E (its run time over the requests per connection),
    one made-up sample at each of L - E, L - 2E, ... down to above E: the requests an open-loop
    client would have seen delayed. Its counts at each m above E are so the measured count at m
    plus those at m + E, m + 2E, ...; the measured count at m is the difference of the corrected
    counts at m and m + E. Percentiles and the billed duration need the requests that were made.
    """
    per_connection = requests // connections
    if per_connection == 0:
        return tuple((us, n) for us, n in histogram)
    expected = duration_us // per_connection
    corrected = dict(histogram)
    measured = []
    for us, n in sorted(corrected.items()):
        count = n - corrected.get(us + expected, 0) if us > expected else n
        if count > 0:
            measured.append((us, count))
    return tuple(measured)


def run_wrk(port: int, connections: int, seconds: int, script: Path, path: str = "/invoke") -> Load:
    """One wrk run with one thread (the machine's other core serves), `seconds` long."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={WRK_TIMEOUT_S}s"]
    command += ["-s", str(script), f"http://127.0.0.1:{port}{path}"]
    run = subprocess.run(command, capture_output=True, text=True, check=True)
    for line in run.stdout.splitlines():
        if line.startswith("BENCH "):
            figures = json.loads(line.removeprefix("BENCH "))
            return Load(
                requests=figures["requests"],
                seconds=figures["duration_us"] / 1e6,
                p50_s=figures["p50_us"] / 1e6,
                p99_s=figures["p99_us"] / 1e6,
                errors=figures["errors"],
                histogram=uncorrected(
                    [(us, n) for us, n in figures["histogram"]],
                    figures["duration_us"],
                    figures["requests"],
                    connections,
                ),
            )
    raise RuntimeError(f"wrk printed no figures: {run.stdout}{run.stderr}")


def invoke_many(running: contenders.Running, total: int, connections: int) -> None:
    """`total` of the contender's requests over `connections` keep-alive connections, each 200.

    The request is the contender's own: `POST /invoke` for a hello, `GET /hello/bench` for a
    hello-http.
    """
    failures: list[str] = []
    contender = running.contender

    def client(count: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)
        try:
            for _ in range(count):
                body = contender.body or None
                connection.request(contender.method, contender.path, body, running.headers)
                response = connection.getresponse()
                response.read()
                if response.status != http.HTTPStatus.OK:
                    failures.append(f"status {response.status}")
        except OSError as error:
            failures.append(str(error))
        finally:
            connection.close()

    shares = [total // connections + (i < total % connections) for i in range(connections)]
    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        name = running.contender.name
        raise RuntimeError(f"{name}: {len(failures)} invocations failed, first: {failures[0]}")


# -- the measurements ------------------------------------------------------------------------


def _ratio_cells(
    values: Mapping[str, float | None], hellos: Sequence[Contender], metric: str, *, higher: bool
) -> tuple[list[str], list[Ratio]]:
    """`ours/X` texts for each contender's row (`-` for ours, the first), and the ratios found."""
    cells, ratios = [], []
    ours = hellos[0].key
    for contender in hellos:
        found = None if contender.key == ours else ratio(values[ours], values[contender.key])
        cells.append(ratio_text(found))
        if found is not None:
            ratios.append(Ratio(metric, contender.name, found, higher_is_better=higher))
    return cells, ratios


def _prefix(label: str) -> str:
    """What the metrics and headings of a family of contenders start with (none for hello's)."""
    return f"{label}: " if label else ""


def measure_sizes(
    hellos: Sequence[Contender], label: str = ""
) -> tuple[str, dict[str, JsonValue], list[Ratio]]:
    """Binary and zip sizes; `label` names the family (hello-http's), heading and metrics."""
    prefix = _prefix(label)
    binaries = {c.key: (c.binary.stat().st_size if c.binary else None) for c in hellos}
    zips: dict[str, float | None] = {c.key: c.zip_size() for c in hellos}
    binary_cells, binary_ratios = _ratio_cells(
        binaries, hellos, f"{prefix}binary size", higher=False
    )
    # Python's zip holds a script, not the interpreter its runtime brings: no ratio.
    comparable = {c.key: (zips[c.key] if c.binary else None) for c in hellos}
    zip_cells, zip_ratios = _ratio_cells(comparable, hellos, f"{prefix}zip size", higher=False)
    rows = [
        [
            c.name,
            bytes_text(binaries[c.key]) if c.binary else "- (runtime's python3)",
            binary_cells[i],
            bytes_text(c.packaged_zip),
            bytes_text(int(zips[c.key] or 0)),
            zip_cells[i],
        ]
        for i, c in enumerate(hellos)
    ]
    headers = ["", "binary", "ours/X", "zip as packaged", "zip, zlib -9 (bench)", "ours/X"]
    markdown = "\n".join([f"### {prefix}Size (bytes)", "", table(headers, rows)])
    data: dict[str, JsonValue] = {
        c.key: {"binary": binaries[c.key], "zip_zlib9": zips[c.key], "zip": c.packaged_zip}
        for c in hellos
    }
    return markdown, data, [*binary_ratios, *zip_ratios]


def measure_cold_starts(
    hellos: Sequence[Contender], others: Sequence[Contender], starts: int, label: str = ""
) -> tuple[str, dict[str, JsonValue], list[Ratio]]:
    """Exec to first 200, `starts` times each, interleaved."""
    prefix = _prefix(label)
    everyone = [*hellos, *others]
    times: dict[str, list[float]] = {c.key: [] for c in everyone}
    for round_index in range(starts):
        for contender in rotated(everyone, round_index):
            running = contenders.Running(contender, pipe=False)
            running.stop()
            times[contender.key].append(running.cold_start_s)
    medians: dict[str, float | None] = {k: statistics.median(v) for k, v in times.items()}
    cells, ratios = _ratio_cells(medians, hellos, f"{prefix}cold start, median", higher=False)
    rows = [
        [c.name, ms_text(min(times[c.key])), ms_text(statistics.median(times[c.key])),
         ms_text(max(times[c.key])), cells[i] if i < len(cells) else "-"]
        for i, c in enumerate(everyone)
    ]  # fmt: skip
    headers = ["", "min", "median", "max", "ours/X (median)"]
    markdown = "\n".join(
        [
            (
                f"### {prefix}Cold start: exec to the first 200 of "
                f"`{hellos[0].method} {hellos[0].path}` ({starts} starts each)"
            ),
            "",
            table(headers, rows),
        ]
    )
    data: dict[str, JsonValue] = {k: spread(v) for k, v in times.items()}
    return markdown, data, ratios


def measure_memory(
    hellos: Sequence[Contender], plan: Plan, label: str = ""
) -> tuple[str, dict[str, JsonValue], list[Ratio]]:
    """RSS after start and one invocation, and after `plan.invocations` more."""
    prefix = _prefix(label)
    idle: dict[str, list[float]] = {c.key: [] for c in hellos}
    loaded: dict[str, list[float]] = {c.key: [] for c in hellos}
    for round_index in range(plan.memory_rounds):
        for contender in rotated(hellos, round_index):
            running = contenders.Running(contender, pipe=False)
            try:
                idle[contender.key].append(running.rss())
                invoke_many(running, plan.invocations, connections=16)
                loaded[contender.key].append(running.rss())
            finally:
                running.stop()
    idle_median: dict[str, float | None] = {k: statistics.median(v) for k, v in idle.items()}
    loaded_median: dict[str, float | None] = {k: statistics.median(v) for k, v in loaded.items()}
    after = f"RSS after {plan.invocations:,}"
    idle_cells, idle_ratios = _ratio_cells(idle_median, hellos, f"{prefix}RSS idle", higher=False)
    loaded_cells, loaded_ratios = _ratio_cells(
        loaded_median, hellos, f"{prefix}{after}", higher=False
    )

    def mib(value: float | None) -> str:
        return "-" if value is None else f"{value / MIB:.1f} MiB"

    rows = [
        [c.name, mib(idle_median[c.key]), idle_cells[i], mib(loaded_median[c.key]),
         loaded_cells[i]]
        for i, c in enumerate(hellos)
    ]  # fmt: skip
    headers = ["", "RSS idle", "ours/X", f"{after} invocations", "ours/X"]
    markdown = "\n".join(
        [
            (
                f"### {prefix}Memory: RSS after start and one invocation (idle), and after "
                f"{plan.invocations:,} more over 16 connections (median of {plan.memory_rounds})"
            ),
            "",
            table(headers, rows),
        ]
    )
    data: dict[str, JsonValue] = {
        c.key: {"rss_idle": spread(idle[c.key]), "rss_loaded": spread(loaded[c.key])}
        for c in hellos
    }
    data["invocations"] = plan.invocations
    return markdown, data, [*idle_ratios, *loaded_ratios]


def _rate_text(runs: Sequence[Load]) -> str:
    """The median invocations/s, and the range over the rounds when there are several."""
    rates = [load.throughput for load in runs]
    text = f"{statistics.median(rates):,.0f}"
    return text if len(rates) == 1 else f"{text} ({min(rates):,.0f}-{max(rates):,.0f})"


def measure_throughput(
    hellos: Sequence[Contender], plan: Plan, label: str = ""
) -> tuple[str, dict[str, JsonValue], list[Ratio]]:
    """Run wrk at each connection count, with output to /dev/null and to a drained pipe.

    Each contender is sent its own request (`POST /invoke`, or hello-http's `GET`).
    """
    prefix = _prefix(label)
    cells = [(sink, conns) for sink in SINKS for conns in CONNECTIONS]
    loads: dict[tuple[str, int, str], list[Load]] = {
        (sink, conns, c.key): [] for sink, conns in cells for c in hellos
    }
    cpu: dict[tuple[str, int, str], list[float]] = {key: [] for key in loads}  # s per invocation
    output: dict[str, list[float]] = {c.key: [] for c in hellos}  # pipe bytes per invocation
    with tempfile.TemporaryDirectory(prefix="fc-rust-bench-") as scratch:
        scripts = {}
        for contender in hellos:
            directory = Path(scratch) / contender.key
            directory.mkdir()
            scripts[contender.key] = wrk_script(
                directory, contender.body, contender.request_headers(), method=contender.method
            )
        for round_index in range(plan.wrk_rounds):
            for sink in SINKS:
                for contender in rotated(hellos, round_index):
                    progress(
                        f"{prefix}throughput: round {round_index + 1}, {sink}, {contender.name}"
                    )
                    running = contenders.Running(contender, pipe=sink == "pipe")
                    before = running.output_bytes
                    requests = 0
                    try:
                        for conns in CONNECTIONS:
                            cpu_before = running.cpu_seconds()
                            load = run_wrk(
                                running.port,
                                conns,
                                plan.wrk_seconds,
                                scripts[contender.key],
                                contender.path,
                            )
                            used = running.cpu_seconds() - cpu_before
                            loads[sink, conns, contender.key].append(load)
                            cpu[sink, conns, contender.key].append(used / max(load.requests, 1))
                            requests += load.requests
                    finally:
                        running.stop()
                    if sink == "pipe" and requests:
                        output[contender.key].append((running.output_bytes - before) / requests)
    rows, ratios = [], []
    data: dict[str, JsonValue] = {}
    for sink, conns in cells:
        cell = f"{conns} conn, {sink}"
        runs = {c.key: loads[sink, conns, c.key] for c in hellos}
        rates: dict[str, float | None] = {
            k: statistics.median(load.throughput for load in v) for k, v in runs.items()
        }
        p50: dict[str, float | None] = {
            k: statistics.median(load.p50_s for load in v) for k, v in runs.items()
        }
        p99: dict[str, float | None] = {
            k: statistics.median(load.p99_s for load in v) for k, v in runs.items()
        }
        cpu_used: dict[str, float | None] = {
            c.key: statistics.median(cpu[sink, conns, c.key]) for c in hellos
        }
        where = f"{prefix}{{}}, {cell}"
        rate_cells, rate_ratios = _ratio_cells(
            rates, hellos, where.format("throughput"), higher=True
        )
        cpu_cells, cpu_ratios = _ratio_cells(
            cpu_used, hellos, where.format("CPU per invocation"), higher=False
        )
        p50_cells, p50_ratios = _ratio_cells(p50, hellos, where.format("p50 latency"), higher=False)
        p99_cells, p99_ratios = _ratio_cells(p99, hellos, where.format("p99 latency"), higher=False)
        ratios += [*rate_ratios, *p50_ratios, *p99_ratios, *cpu_ratios]
        for i, c in enumerate(hellos):
            errors = sum(load.errors for load in runs[c.key])
            rows.append(
                [
                    sink,
                    str(conns),
                    c.name,
                    _rate_text(runs[c.key]) + (f" ({errors} errors)" if errors else ""),
                    rate_cells[i],
                    ms_text(p50[c.key] or 0),
                    p50_cells[i],
                    ms_text(p99[c.key] or 0),
                    p99_cells[i],
                    ms_text(cpu_used[c.key] or 0),
                    cpu_cells[i],
                ]
            )
            data[f"{c.key}, {cell}"] = {
                "throughput": spread([load.throughput for load in runs[c.key]]),
                "p50_s": spread([load.p50_s for load in runs[c.key]]),
                "p99_s": spread([load.p99_s for load in runs[c.key]]),
                "cpu_s_per_invocation": spread(cpu[sink, conns, c.key]),
                "errors": errors,
            }
    per_invocation = {k: statistics.median(v) for k, v in output.items() if v}
    data["stdout_bytes_per_invocation"] = dict(per_invocation.items())
    headers = [
        "stdout",
        "conns",
        "",
        "invocations/s (range)",
        "ours/X",
        "p50",
        "ours/X",
        "p99",
        "ours/X",
        "CPU/invocation",
        "ours/X",
    ]
    printed = ", ".join(f"{c.name} {per_invocation.get(c.key, 0):.0f} B" for c in hellos)
    markdown = "\n".join(
        [
            (
                f"### {prefix}Throughput and latency over keep-alive "
                f"(wrk -t1, {plan.wrk_seconds} s per run, median of {plan.wrk_rounds})"
            ),
            "",
            table(headers, rows),
            "",
            f"Output per invocation on the pipe: {printed}.",
            "",
            (
                "CPU/invocation: the server process's user and system time (all its threads) "
                "during the run, over the invocations it answered."
            ),
        ]
    )
    return markdown, data, ratios


def glance(ratios: Sequence[Ratio], versus: Sequence[str]) -> str:
    """Every ratio in one table: a row per metric, a column per other contender."""
    found = {(r.metric, r.versus): r.value for r in ratios}
    metrics = list(dict.fromkeys(r.metric for r in ratios))
    higher = {r.metric for r in ratios if r.higher_is_better}
    rows = [
        [f"{metric} ({'higher' if metric in higher else 'lower'} is better)"]
        + [ratio_text(found.get((metric, other))) for other in versus]
        for metric in metrics
    ]
    return "\n".join(
        ["### Ratios ours/X at a glance", "", table(["", *(f"ours/{v}" for v in versus)], rows)]
    )


def _step(what: str, measure: Callable[[], T]) -> T:
    progress(f"side by side: {what}")
    return measure()


@dataclass(frozen=True)
class Measured:
    """One family's figures side by side: its tables, its results.json part, its ratios."""

    markdown: list[str]
    data: dict[str, JsonValue]
    ratios: tuple[Ratio, ...]


def measure_family(
    hellos: Sequence[Contender], others: Sequence[Contender], plan: Plan, label: str = ""
) -> Measured:
    """Sizes, cold starts, memory and loads of `hellos` (ours first), `label` naming the family.

    `others` (ours of other functions) are cold-started beside them.
    """
    prefix = _prefix(label)
    size_md, size_data, size_ratios = _step(f"{prefix}sizes", lambda: measure_sizes(hellos, label))
    cold_md, cold_data, cold_ratios = _step(
        f"{prefix}cold starts", lambda: measure_cold_starts(hellos, others, plan.cold_starts, label)
    )
    memory_md, memory_data, memory_ratios = _step(
        f"{prefix}memory", lambda: measure_memory(hellos, plan, label)
    )
    load_md, load_data, load_ratios = measure_throughput(hellos, plan, label)
    return Measured(
        markdown=[size_md, "", cold_md, "", memory_md, "", load_md],
        data={
            "sizes": size_data,
            "cold_start_s": cold_data,
            "memory_bytes": memory_data,
            "load": load_data,
        },
        ratios=(*size_ratios, *cold_ratios, *memory_ratios, *load_ratios),
    )


HTTP_LABEL = f"hello-http GET {contenders.HTTP_PATH}"
"""The name of hello-http's family in headings and metrics."""


def section() -> Section:
    """Build the contenders, then measure them side by side: hello's, then hello-http's."""
    plan = QUICK if quick() else FULL
    progress("side by side: building ours, Go, Python and the seed")
    hellos = contenders.hellos()
    others = [contenders.ours("sync-forks", key="ours_sync_forks")]
    http_hellos: list[Contender] = []
    if contenders.has_http_function():
        progress("side by side: building hello-http in ours, Go, Python and the seed")
        http_hellos = [*contenders.http_hellos(), contenders.seed_http()]
    hello = measure_family(hellos, others, plan)
    http = measure_family(http_hellos, [], plan, HTTP_LABEL) if http_hellos else None
    ratios = (*hello.ratios, *(http.ratios if http else ()))
    built = [f"- {c.name} ({c.key}): {c.built_with}." for c in [*hellos, *others, *http_hellos]]
    http_text = [
        "",
        f"### {HTTP_LABEL}: hello-http's route in ours, Go, Python and the seed's stack",
        "",
        (
            f"Each answers `GET {contenders.HTTP_PATH}` as FC forwards an HTTP-trigger request "
            "(FC's headers and `x-fc-control-path: /http-invoke`) with "
            f"`{json.dumps(contenders.HTTP_GREETING, separators=(',', ':'))}`: ours is "
            "functions/hello-http (axum on fc-runtime), Go bench/go/http (net/http), Python "
            "bench/python/hello_http.py (http.server), the seed bench/seed/src/http.rs (warp, "
            "its own binary beside the seed's hello). Ours, Go and Python print FC's Start and "
            "End lines per request; the seed prints its one pretty_env_logger line. "
            "Measured as hello's, below; its ratios are in the table at a glance."
        ),
        "",
        *(http.markdown if http else []),
    ]
    markdown = "\n".join(
        [
            "## Side by side: the same hello in ours, Go, Python and the seed's stack",
            "",
            (
                "Each answers `POST /invoke` with FC's headers and `{}` by "
                '`{"message":"Hello, world!","request_id":...}`, started with FC\'s environment '
                "from its code directory. Ours, Go and Python print FC's Start and End lines and "
                "one log line per invocation; the seed prints its one pretty_env_logger line (it "
                "printed no FC markers). Go runs a second time with GOMAXPROCS=1, as on one "
                "vCPU: with a spare P, Go's scheduler spins before sleeping, which answers a lone "
                "connection sooner for more CPU time. Rounds interleave the contenders, in an "
                "order rotated each round. "
                "ours/X below 1: ours is smaller, faster to start or quicker to answer; for "
                "invocations/s, above 1 is ours ahead."
            ),
            "",
            *built,
            "",
            glance(ratios, [c.name for c in hellos[1:]]),
            "",
            *hello.markdown,
            *(http_text if http else []),
        ]
    )
    data: dict[str, JsonValue] = {
        "contenders": {
            c.key: {"name": c.name, "built_with": c.built_with}
            for c in [*hellos, *others, *http_hellos]
        },
        **hello.data,
        "plan": {
            "cold_starts": plan.cold_starts,
            "memory_rounds": plan.memory_rounds,
            "invocations": plan.invocations,
            "wrk_rounds": plan.wrk_rounds,
            "wrk_seconds": plan.wrk_seconds,
            "wrk": shutil.which("wrk"),
        },
    }
    if http is not None:
        data["hello_http"] = http.data
    return Section("side_by_side", markdown, data, ratios)
