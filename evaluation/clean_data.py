"""Clean samples: code, logs and prose with no personal data or secrets in them.

Every detection on these is a false alarm, and each one garbles the text a user asked about.

- Code: functions and classes cut from the sources of installed packages that the lock file pins
  (so every machine cuts the same snippets) and whose licences (MIT, BSD, Apache-2.0) allow
  reuse. Snippets that credit people or hold an e-mail address or an IP address literal are left
  out: a name in a copyright line or an address in a docstring is personal data, and finding it
  is no false alarm. Only Python is covered.
- Logs: generated lines in several formats with timestamps, levels, module names, UUIDs, hex
  ids, durations, HTTP paths and stack frames, and never a user, a host address or a key.
- Prose: technical questions built from phrasings written for this evaluation, naming tools
  and concepts but no person or place.

Each kind is split like the personal-data templates: code by package, logs by format, prose by
phrasing, so held-out clean samples come from sources never looked at while tuning.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import random
import re
import textwrap
import uuid
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from evaluation.samples import Kind, Sample, Split

CODE_PACKAGES = {
    # import name: (licence, split)
    "mitmproxy": ("MIT", Split.DEV),
    "click": ("BSD-3-Clause", Split.DEV),
    "jinja2": ("BSD-3-Clause", Split.DEV),
    "werkzeug": ("BSD-3-Clause", Split.DEV),
    "requests": ("Apache-2.0", Split.DEV),
    "rich": ("MIT", Split.DEV),
    "h11": ("MIT", Split.DEV),
    "flask": ("BSD-3-Clause", Split.HELDOUT),
    "tornado": ("Apache-2.0", Split.HELDOUT),
    "httpx": ("BSD-3-Clause", Split.HELDOUT),
    "pydantic": ("MIT", Split.HELDOUT),
    "anyio": ("MIT", Split.HELDOUT),
    "urllib3": ("MIT", Split.HELDOUT),
    "attr": ("MIT", Split.HELDOUT),
    "yaml": ("MIT", Split.HELDOUT),
}
SNIPPET_CHARS = (300, 3000)
"""Shorter pieces say little; longer ones are cut into their methods."""
LEFT_OUT = re.compile(
    r"(?i)\b(?:author|copyright|contributed|written\s+by|thanks\s+to|maintainer|credits?)\b|\(c\)"
    r"|[\w.+-]+@[\w-]+\.[\w.-]+"
    r"|(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])|::1\b"
)
"""Credits, e-mail addresses and IP address literals: personal data, not clean code."""


def clean_samples(split: Split, code_per_package: int, logs_per_format: int, prose: int) -> list[Sample]:
    """The clean samples of `split`, the same ones on every call on the same installed packages."""
    return [
        *code_samples(split, code_per_package),
        *log_samples(split, logs_per_format),
        *prose_samples(split, prose),
    ]


def code_samples(split: Split, per_package: int) -> list[Sample]:
    samples = []
    for package, (_, package_split) in CODE_PACKAGES.items():
        if package_split != split:
            continue
        snippets = _snippets(package)
        chosen = random.Random(zlib.crc32(package.encode())).sample(snippets, min(per_package, len(snippets)))
        samples += [
            Sample(f"code/{package}/{where}", text, (), Kind.CLEAN_CODE, split, package)
            for where, text in chosen
        ]
    return samples


@functools.cache
def _snippets(package: str) -> list[tuple[str, str]]:
    """(file:line, source) of every usable function or class of `package`, in file order."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LookupError(f"package {package} is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    found = []
    for path in sorted(root.rglob("*.py")):
        if "test" in path.relative_to(root).as_posix():
            continue
        source = path.read_text(encoding="utf-8", errors="replace")
        for line, text in _definitions(source):
            if not LEFT_OUT.search(text):
                found.append((f"{path.relative_to(root.parent).as_posix()}:{line}", text))
    return found


def _definitions(source: str) -> Iterator[tuple[int, str]]:
    """Top-level functions and classes of a module that fit `SNIPPET_CHARS`; a class too long to
    fit gives its methods instead."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    lines = source.splitlines()
    low, high = SNIPPET_CHARS
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop(0)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        text = textwrap.dedent("\n".join(lines[first - 1 : node.end_lineno]))
        if low <= len(text) <= high:
            yield first, text
        elif len(text) > high and isinstance(node, ast.ClassDef):
            pending[:0] = node.body


# Logs ------------------------------------------------------------------------------------------

MODULES = ("app.db.pool", "billing.invoices", "scheduler", "httpx", "uvicorn.error", "celery.worker",
           "search.indexer", "storage.s3", "auth.tokens", "cache.redis", "api.v2.orders",
           "reports.export")  # fmt: skip
PATHS = ("/api/v2/orders/{uuid}/items", "/healthz", "/metrics", "/static/js/app.{hex8}.js",
         "/api/v2/reports/{n}", "/api/v1/search?q=shoes&page={n}", "/graphql",
         "/api/v2/invoices/{uuid}")  # fmt: skip
MESSAGES = (
    "cache miss for key orders:{hex8}",
    "retrying job {uuid} (attempt {small}/5)",
    "connection pool exhausted (size={small}, waiting={n})",
    "loaded {n} rows from table order_items in {ms} ms",
    "gc pause {ms} ms",
    "deploy {sha7} rolled out to {small} pods",
    "worker-{small} heartbeat ok",
    "disk usage {pct}% on /var/lib/postgresql/data",
    "scheduled task nightly_export finished in {sec}s",
    "migration 0042_add_order_index applied",
    "certificate for api.internal expires in {n} days",
    "feature flag new_checkout enabled for {pct}% of traffic",
    "request {method} {path} completed in {ms} ms status={status}",
    "slow query ({ms} ms): SELECT id, total FROM orders WHERE status = $1 LIMIT {n}",
    "queue depth {n} above threshold {small}00",
    "build {sha7} cached layer {hex12} reused",
)  # fmt: skip
LEVELS = ("DEBUG", "INFO", "INFO", "INFO", "WARNING", "ERROR")
FRAMES_PY = (
    ("/usr/lib/python3.12/site-packages/sqlalchemy/engine/base.py", "_execute_context"),
    ("/srv/app/api/orders.py", "create_order"),
    ("/srv/app/db/session.py", "commit"),
    ("/usr/lib/python3.12/asyncio/tasks.py", "wait_for"),
    ("/srv/app/workers/export.py", "run"),
)  # fmt: skip
ERRORS_PY = (
    'psycopg.errors.UniqueViolation: duplicate key value violates unique constraint "orders_pkey"',
    "TimeoutError: operation timed out after 30.0 seconds",
    "KeyError: 'currency'",
    "ValueError: invalid literal for int() with base 10: 'abc'",
)  # fmt: skip
FRAMES_JAVA = ("com.example.billing.InvoiceService.render", "com.example.billing.InvoiceController.get",
               "org.springframework.web.servlet.FrameworkServlet.service", "java.base/java.lang.Thread.run",
               "com.zaxxer.hikari.pool.HikariPool.getConnection")  # fmt: skip


class _Log:
    """Random values for log lines, from one sample's seed."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        year, month, day = rng.randrange(2022, 2026), rng.randrange(1, 13), rng.randrange(1, 29)
        self._day = f"{year}-{month:02}-{day:02}"
        self._seconds = rng.randrange(86_000)

    def stamp(self, sep: str = " ", fraction: str = ",") -> str:
        self._seconds += self.rng.randrange(0, 4)
        s = self._seconds % 86_400
        clock = f"{s // 3600:02}:{s // 60 % 60:02}:{s % 60:02}"
        return f"{self._day}{sep}{clock}{fraction}{self.rng.randrange(1000):03}"

    def message(self) -> str:
        rng = self.rng
        return rng.choice(MESSAGES).format(
            uuid=self.uuid(),
            hex8=f"{rng.getrandbits(32):08x}",
            hex12=f"{rng.getrandbits(48):012x}",
            sha7=f"{rng.getrandbits(28):07x}",
            n=rng.randrange(2, 5000),
            small=rng.randrange(1, 10),
            ms=rng.randrange(1, 3000),
            sec=round(rng.uniform(0.5, 900), 1),
            pct=rng.randrange(1, 100),
            method=rng.choice(("GET", "POST", "PUT", "DELETE")),
            status=rng.choice((200, 200, 201, 204, 400, 404, 409, 500, 503)),
            path=self.path(),
        )

    def path(self) -> str:
        rng = self.rng
        return rng.choice(PATHS).format(
            uuid=self.uuid(), hex8=f"{rng.getrandbits(32):08x}", n=rng.randrange(2, 5000)
        )

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


def _python_logging(log: _Log, lines: int) -> str:
    return "\n".join(
        f"{log.stamp()} {log.rng.choice(LEVELS):<7} [{log.rng.choice(MODULES)}] {log.message()}"
        for _ in range(lines)
    )


def _json_lines(log: _Log, lines: int) -> str:
    return "\n".join(
        f'{{"ts": "{log.stamp("T", ".")}Z", "level": "{log.rng.choice(LEVELS).lower()}",'
        f' "logger": "{log.rng.choice(MODULES)}", "msg": "{log.message()}",'
        f' "trace_id": "{log.rng.getrandbits(128):032x}"}}'
        for _ in range(lines)
    )


def _uvicorn_access(log: _Log, lines: int) -> str:
    rng = log.rng
    return "\n".join(
        f'INFO:     "{rng.choice(("GET", "POST", "PUT"))} {log.path()} HTTP/1.1"'
        f" {rng.choice((200, 201, 204, 304, 404, 500))}"
        for _ in range(lines)
    )


def _python_traceback(log: _Log, lines: int) -> str:
    rng = log.rng
    out = [f"{log.stamp()} ERROR   [{rng.choice(MODULES)}] unhandled error in request handler"]
    out.append("Traceback (most recent call last):")
    for path, function in rng.sample(FRAMES_PY, min(len(FRAMES_PY), max(2, lines // 3))):
        out.append(f'  File "{path}", line {rng.randrange(10, 2000)}, in {function}')
        out.append(f"    result = {function}(session, batch_size={rng.randrange(10, 500)})")
    out.append(rng.choice(ERRORS_PY))
    out += [f"{log.stamp()} INFO    [{rng.choice(MODULES)}] {log.message()}" for _ in range(lines // 3)]
    return "\n".join(out)


def _logfmt(log: _Log, lines: int) -> str:
    rng = log.rng
    return "\n".join(
        f"time={log.stamp('T', '.')}Z level={rng.choice(LEVELS).lower()} component={rng.choice(MODULES)}"
        f' msg="{log.message()}" request_id={rng.getrandbits(64):016x} duration_ms={rng.randrange(1, 900)}'
        for _ in range(lines)
    )


def _java_stacktrace(log: _Log, lines: int) -> str:
    rng = log.rng
    out = [
        f"{log.stamp()} ERROR [http-nio-8080-exec-{rng.randrange(1, 20)}] c.e.b.InvoiceService :"
        f" Failed to render invoice {rng.getrandbits(40):010x}",
        "java.lang.IllegalStateException: Connection is not available, request timed out after 30000ms.",
    ]
    for frame in rng.sample(FRAMES_JAVA, len(FRAMES_JAVA)):
        file = frame.rsplit(".", 2)[-2]
        out.append(f"\tat {frame}({file}.java:{rng.randrange(20, 900)})")
    out.append(f"\t... {rng.randrange(10, 90)} common frames omitted")
    out += [f"{log.stamp()} INFO  [main] {log.message()}" for _ in range(max(0, lines - len(out)))]
    return "\n".join(out)


def _k8s_events(log: _Log, lines: int) -> str:
    rng = log.rng
    events = (
        ("Normal", "Scheduled", "Successfully assigned default/{pod} to node-{small}"),
        ("Normal", "Pulled", "Container image \"registry.internal/api:{sha7}\" already present on machine"),
        ("Warning", "BackOff", "Back-off restarting failed container api in pod {pod}"),
        ("Normal", "ScalingReplicaSet", "Scaled up replica set api-{hex8} to {small}"),
        ("Warning", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503"),
    )  # fmt: skip
    out = ["LAST SEEN   TYPE      REASON              OBJECT                  MESSAGE"]
    for _ in range(lines):
        kind, reason, message = rng.choice(events)
        pod = f"api-{rng.getrandbits(36):09x}-{rng.getrandbits(20):05x}"
        text = message.format(pod=pod, small=rng.randrange(1, 9), sha7=f"{rng.getrandbits(28):07x}",
                              hex8=f"{rng.getrandbits(32):08x}")  # fmt: skip
        out.append(f"{rng.randrange(1, 59)}m{'':<9}{kind:<10}{reason:<20}pod/{pod}   {text}")
    return "\n".join(out)


def _nginx_error(log: _Log, lines: int) -> str:
    rng = log.rng
    return "\n".join(
        f"{log.stamp().replace('-', '/')[:19]} [{rng.choice(('error', 'warn'))}] {rng.randrange(10, 99)}#0:"
        f" *{rng.randrange(1000, 99999)} upstream timed out (110: Connection timed out) while reading"
        f' response header from upstream, request: "GET {log.path()} HTTP/1.1", upstream:'
        ' "http://unix:/run/app.sock:/", host: "reports.internal"'
        for _ in range(lines)
    )


LOG_FORMATS: dict[str, tuple[Callable[[_Log, int], str], Split]] = {
    "python-logging": (_python_logging, Split.DEV),
    "json-lines": (_json_lines, Split.DEV),
    "uvicorn-access": (_uvicorn_access, Split.DEV),
    "python-traceback": (_python_traceback, Split.DEV),
    "logfmt": (_logfmt, Split.HELDOUT),
    "java-stacktrace": (_java_stacktrace, Split.HELDOUT),
    "k8s-events": (_k8s_events, Split.HELDOUT),
    "nginx-error": (_nginx_error, Split.HELDOUT),
}


def log_samples(split: Split, per_format: int) -> list[Sample]:
    samples = []
    for name, (make, format_split) in LOG_FORMATS.items():
        if format_split != split:
            continue
        for i in range(per_format):
            rng = random.Random(zlib.crc32(f"log/{name}/{i}".encode()))
            text = make(_Log(rng), rng.randrange(8, 26))
            samples.append(Sample(f"log/{name}#{i}", text, (), Kind.CLEAN_LOG, split, name))
    return samples


# Prose -----------------------------------------------------------------------------------------

TOOLS = ("PostgreSQL", "Redis", "Kubernetes", "Docker", "nginx", "Terraform", "Kafka", "Airflow", "Django",
         "FastAPI", "React", "pandas", "NumPy", "Elasticsearch", "Spark", "GitHub Actions", "Jenkins",
         "SQLite", "RabbitMQ", "Celery", "webpack", "TypeScript", "Rust", "Go")  # fmt: skip
TASKS = ("paginate a large query result", "retry a failed job with backoff", "rotate log files",
         "cache expensive API responses", "stream a file upload to disk", "run database migrations safely",
         "profile memory usage", "cancel a running task", "batch inserts",
         "validate a config file at start-up", "limit concurrent requests",
         "schedule a nightly export")  # fmt: skip
PROBLEMS = ("blocking the event loop", "losing messages", "downtime", "duplicating work",
            "running out of memory", "locking the whole table", "breaking existing clients")  # fmt: skip
CONCEPTS = ("optimistic locking", "idempotency keys", "backpressure", "eventual consistency",
            "connection pooling", "structured logging", "feature flags", "blue-green deployments",
            "the CAP theorem", "content negotiation")  # fmt: skip
SYMPTOMS = ("times out", "uses twice as much memory", "returns stale data", "fails with a permission error",
            "logs a deprecation warning", "gets slower every hour")  # fmt: skip
THINGS = ("nightly build", "test suite", "background worker", "API gateway", "search index", "data pipeline")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
ERRORS = ("connection reset by peer", "too many open files", "deadlock detected", "certificate verify failed",
          "413 Request Entity Too Large", "address already in use")  # fmt: skip

PROSE_FRAMES = {
    Split.DEV: (
        "How do I {task} in {tool} without {problem}?",
        "What is the difference between {tool} and {tool2} when you need to {task}?",
        "Our {thing} {symptom} since we upgraded {tool} to version {version}. What should we check first?",
        "Explain {concept} to a new developer in three short paragraphs.",
        "Is it a good idea to {task} inside a database transaction, or does that risk {problem}?",
        "Write a short checklist for reviewing a pull request that touches {concept}.",
        "We keep {problem} when we {task}. Would {concept} help here, and how would you introduce it?",
    ),
    Split.HELDOUT: (
        "We plan to {task} with {tool}. Are there pitfalls around {concept} we should know about?",
        "Why would a {thing} {symptom} only on {weekday}s?",
        "Compare two ways to {task}: one with {tool}, one without it. Keep it under 200 words.",
        "Give me a regular expression that matches version strings like {version} but not dates.",
        "Draft a status update: the {thing} {symptom}, the cause is still unknown, and the next review"
        " is on {weekday}.",
        "What does '{error}' mean in {tool}, and how do I fix it?",
    ),
}


def prose_samples(split: Split, count: int) -> list[Sample]:
    frames = PROSE_FRAMES[split]
    samples = []
    for i in range(count):
        rng = random.Random(zlib.crc32(f"prose/{split}/{i}".encode()))
        chosen = rng.sample(range(len(frames)), rng.randrange(1, 4))
        text = " ".join(frames[f].format(**_prose_values(rng)) for f in chosen)
        source = "+".join(str(f) for f in sorted(chosen))
        samples.append(Sample(f"prose/{split}#{i}", text, (), Kind.CLEAN_PROSE, split, f"frames {source}"))
    return samples


def _prose_values(rng: random.Random) -> dict[str, str]:
    tool, tool2 = rng.sample(TOOLS, 2)
    return {
        "tool": tool,
        "tool2": tool2,
        "task": rng.choice(TASKS),
        "problem": rng.choice(PROBLEMS),
        "concept": rng.choice(CONCEPTS),
        "symptom": rng.choice(SYMPTOMS),
        "thing": rng.choice(THINGS),
        "weekday": rng.choice(WEEKDAYS),
        "error": rng.choice(ERRORS),
        "version": f"{rng.randrange(1, 20)}.{rng.randrange(0, 30)}.{rng.randrange(0, 10)}",
    }
