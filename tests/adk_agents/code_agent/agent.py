"""An agent without an LLM that shows code execution and an image: an
`executableCode` part, its `codeExecutionResult`, an `inlineData` PNG, then
a text event.
"""

import struct
import zlib
from typing import AsyncGenerator

from google.adk.agents import BaseAgent
from google.adk.agents.invocation_context import InvocationContext
from google.adk.events import Event
from google.genai import types


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid PNG of one solid colour (8-bit RGB), without any imaging
    library: signature, IHDR, one zlib-compressed IDAT, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    # Each scanline starts with filter type 0 (None).
    row = b"\x00" + bytes(rgb) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


RED_SQUARE = _png(4, 4, (255, 0, 0))
CODE = "print(sum(range(1, 11)))\n"


class CodeAgent(BaseAgent):
    async def _run_async_impl(
        self, ctx: InvocationContext
    ) -> AsyncGenerator[Event, None]:
        def event(part: types.Part) -> Event:
            return Event(
                author=self.name,
                invocation_id=ctx.invocation_id,
                content=types.Content(role="model", parts=[part]),
            )

        yield event(
            types.Part(
                executable_code=types.ExecutableCode(
                    code=CODE, language=types.Language.PYTHON
                )
            )
        )
        yield event(
            types.Part(
                code_execution_result=types.CodeExecutionResult(
                    outcome=types.Outcome.OUTCOME_OK, output="55\n"
                )
            )
        )
        yield event(
            types.Part(
                inline_data=types.Blob(mime_type="image/png", data=RED_SQUARE)
            )
        )
        yield event(
            types.Part(text="The sum of 1 to 10 is 55. Here is a red square, too.")
        )


root_agent = CodeAgent(
    name="code_agent",
    description="Shows executable code, its result, an inline PNG and a text reply.",
)
