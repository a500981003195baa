"""An agent without an LLM that streams like an LLM agent in SSE mode:
partial text events (`partial: true`), one per word, then one final
non-partial event repeating the whole text (the one the session keeps).
"""

import asyncio
from typing import AsyncGenerator

from google.adk.agents import BaseAgent
from google.adk.agents.invocation_context import InvocationContext
from google.adk.events import Event
from google.genai import types

REPLY = "Streaming works: this reply arrives one word at a time."
PAUSE_SECONDS = 0.05


class StreamingAgent(BaseAgent):
    async def _run_async_impl(
        self, ctx: InvocationContext
    ) -> AsyncGenerator[Event, None]:
        words = REPLY.split(" ")
        for i, word in enumerate(words):
            # Each partial carries only the new piece, as Gemini's stream
            # chunks do; the client concatenates them.
            piece = word if i == len(words) - 1 else word + " "
            yield Event(
                author=self.name,
                invocation_id=ctx.invocation_id,
                partial=True,
                content=types.Content(role="model", parts=[types.Part(text=piece)]),
            )
            await asyncio.sleep(PAUSE_SECONDS)
        yield Event(
            author=self.name,
            invocation_id=ctx.invocation_id,
            content=types.Content(role="model", parts=[types.Part(text=REPLY)]),
        )


root_agent = StreamingAgent(
    name="streaming_agent",
    description="Streams a fixed reply word by word, then sends it whole.",
)
