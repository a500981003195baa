"""An agent without an LLM that analyses an attached CSV file, like a
data-analysis agent with code execution would: it finds the newest CSV in
the session (the new message first, then back through the history, so a
follow-up question without a file still finds it), computes count, mean,
min and max of every numeric column, and answers with

1. an `executableCode` part (the pandas it "ran") and its
   `codeExecutionResult` (the statistics as text),
2. a text event: `Statistics of <name> (<rows> rows, <cols> columns):` and
   a markdown table, one row per numeric column,
3. an `inlineData` PNG (`chart.png`): a bar chart of the means, drawn here,
   also saved as the session artifact `chart.png`, so that event carries
   `actions.artifactDelta` `{"chart.png": <version>}`.

Without a CSV anywhere in the session it answers `Attach a CSV file and ask
again.`
"""

import csv
import io
import struct
import zlib
from dataclasses import dataclass
from typing import AsyncGenerator, Optional

from google.adk.agents import BaseAgent, Context
from google.adk.agents.invocation_context import InvocationContext
from google.adk.events import Event, EventActions
from google.genai import types

NO_CSV = "Attach a CSV file and ask again."
CHART = "chart.png"
CSV_TYPES = {"text/csv", "application/csv", "text/tab-separated-values"}

# The chart: white canvas, a grey axis, one bar per numeric column.
WIDTH, HEIGHT, MARGIN = 320, 200, 20
WHITE, AXIS = (255, 255, 255), (96, 96, 96)
PALETTE = [(66, 133, 244), (219, 68, 55), (244, 180, 0), (15, 157, 88), (171, 71, 188)]


@dataclass
class Table:
    name: str
    header: list[str]
    rows: list[list[str]]


@dataclass
class Stats:
    column: str
    count: int
    mean: float
    low: float
    high: float


def _is_csv(blob: types.Blob) -> bool:
    name = (blob.display_name or "").lower()
    mime = (blob.mime_type or "").split(";")[0].strip().lower()
    return mime in CSV_TYPES or name.endswith((".csv", ".tsv"))


def _newest_csv(ctx: InvocationContext) -> Optional[types.Blob]:
    """The last CSV a user sent. The runner has already appended the new
    message to the session, so the history read backwards starts with it;
    `user_content` is checked too in case a runner does not."""
    contents = [e.content for e in reversed(ctx.session.events) if e.author == "user"]
    contents.append(ctx.user_content)
    for content in contents:
        if not content or not content.parts:
            continue
        for part in reversed(content.parts):
            if part.inline_data and part.inline_data.data and _is_csv(part.inline_data):
                return part.inline_data
    return None


def _parse(blob: types.Blob) -> Table:
    try:
        # utf-8-sig drops a byte order mark (Excel writes one).
        text = blob.data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = blob.data.decode("latin-1")
    name = blob.display_name or "the CSV file"
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        # One column, or too little text to tell: go by the name.
        delimiter = "\t" if name.lower().endswith(".tsv") else ","
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(c.strip() for c in r)]
    if not rows:
        return Table(name, [], [])
    header = [h.strip() or f"column {i + 1}" for i, h in enumerate(rows[0])]
    return Table(name, header, rows[1:])


def _number(cell: str) -> Optional[float]:
    cell = cell.strip().replace("\u00a0", "").replace(" ", "")
    if not cell:
        return None
    for candidate in (cell, cell.replace(",", ".")):
        try:
            return float(candidate)
        except ValueError:
            pass
    raise ValueError(cell)


def _stats(table: Table) -> list[Stats]:
    """Stats of each column whose every non-empty cell is a number."""
    out = []
    for i, column in enumerate(table.header):
        values = []
        try:
            for row in table.rows:
                value = _number(row[i]) if i < len(row) else None
                if value is not None:
                    values.append(value)
        except ValueError:
            continue
        if values:
            out.append(Stats(column, len(values), sum(values) / len(values), min(values), max(values)))
    return out


def _fmt(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _png(pixels: list[bytearray]) -> bytes:
    """8-bit RGB PNG from rows of RGB bytes: signature, IHDR, one
    zlib-compressed IDAT (each row after filter byte 0), IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    height, width = len(pixels), len(pixels[0]) // 3
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _chart(means: list[float]) -> bytes:
    """A bar chart of `means`: bars up from the axis, or down for negative
    means (the axis then sits where zero is)."""
    pixels = [bytearray(WHITE * WIDTH) for _ in range(HEIGHT)]

    def fill(x0: int, y0: int, x1: int, y1: int, rgb: tuple[int, int, int]) -> None:
        for y in range(max(0, min(y0, y1)), min(HEIGHT, max(y0, y1))):
            pixels[y][x0 * 3 : x1 * 3] = bytes(rgb) * (x1 - x0)

    top, bottom = max(0.0, *means), min(0.0, *means)
    span = (top - bottom) or 1.0
    plot = HEIGHT - 2 * MARGIN
    zero = MARGIN + round(plot * top / span)
    slot = (WIDTH - 2 * MARGIN) // len(means)
    for i, mean in enumerate(means):
        x0 = MARGIN + i * slot + slot // 6
        x1 = MARGIN + (i + 1) * slot - slot // 6
        y = zero - round(plot * mean / span)
        fill(x0, y, max(x1, x0 + 1), zero, PALETTE[i % len(PALETTE)])
    fill(MARGIN, zero, WIDTH - MARGIN, zero + 1, AXIS)
    fill(MARGIN, MARGIN, MARGIN + 1, HEIGHT - MARGIN, AXIS)
    return _png(pixels)


def _code(name: str) -> str:
    return (
        "import pandas as pd\n"
        f"df = pd.read_csv({name!r})\n"
        'print(df.describe().loc[["count", "mean", "min", "max"]])\n'
    )


def _output(stats: list[Stats]) -> str:
    """The statistics as pandas prints `describe()`: a row per statistic,
    a column per numeric column, right-aligned."""
    rows = [["", *(s.column for s in stats)]]
    for label, get in (
        ("count", lambda s: float(s.count)),
        ("mean", lambda s: s.mean),
        ("min", lambda s: s.low),
        ("max", lambda s: s.high),
    ):
        rows.append([label, *(_fmt(get(s)) for s in stats)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(r, widths)))
        for r in rows
    ]
    return "\n".join(lines) + "\n"


def _markdown(table: Table, stats: list[Stats]) -> str:
    cols = len(table.header)
    lines = [f"Statistics of {table.name} ({len(table.rows)} rows, {cols} columns):", ""]
    if not stats:
        lines.append("It has no numeric columns.")
        return "\n".join(lines)
    lines += ["| column | count | mean | min | max |", "|---|---:|---:|---:|---:|"]
    for s in stats:
        lines.append(f"| {s.column} | {s.count} | {_fmt(s.mean)} | {_fmt(s.low)} | {_fmt(s.high)} |")
    return "\n".join(lines)


class AnalysisAgent(BaseAgent):
    async def _run_async_impl(self, ctx: InvocationContext) -> AsyncGenerator[Event, None]:
        def event(*parts: types.Part, actions: Optional[EventActions] = None) -> Event:
            return Event(
                author=self.name,
                invocation_id=ctx.invocation_id,
                content=types.Content(role="model", parts=list(parts)),
                actions=actions or EventActions(),
            )

        blob = _newest_csv(ctx)
        if blob is None:
            yield event(types.Part(text=NO_CSV))
            return
        table = _parse(blob)
        stats = _stats(table)
        yield event(
            types.Part(
                executable_code=types.ExecutableCode(
                    code=_code(table.name), language=types.Language.PYTHON
                )
            )
        )
        yield event(
            types.Part(
                code_execution_result=types.CodeExecutionResult(
                    outcome=types.Outcome.OUTCOME_OK,
                    output=_output(stats) if stats else "Empty DataFrame\n",
                )
            )
        )
        yield event(types.Part(text=_markdown(table, stats)))
        if not stats:
            return
        chart = types.Part(
            inline_data=types.Blob(
                mime_type="image/png", data=_chart([s.mean for s in stats]), display_name=CHART
            )
        )
        # Context.save_artifact stores it for this session and records the
        # version in these actions: the event then says which artifact it made.
        actions = EventActions()
        await Context(ctx, event_actions=actions).save_artifact(CHART, chart)
        yield event(chart, actions=actions)


root_agent = AnalysisAgent(
    name="analysis_agent",
    description="Statistics and a bar chart of the newest CSV file in the session.",
)
