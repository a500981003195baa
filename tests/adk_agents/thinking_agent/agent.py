"""An agent without an LLM that streams like a Gemini thinking model behind
ADK (`include_thoughts`): partial events whose parts are thoughts
(`thought: true`), then partial answer text, then one final event holding
both the thought part and the answer part, as ADK stores it.
"""

import asyncio
from typing import AsyncGenerator

from google.adk.agents import BaseAgent
from google.adk.agents.invocation_context import InvocationContext
from google.adk.events import Event
from google.genai import types

THOUGHTS = ["The user wants a greeting. ", "A short, friendly one will do."]
ANSWER = ["Hello ", "from the thinking agent."]
PAUSE_SECONDS = 0.6


class ThinkingAgent(BaseAgent):
    async def _run_async_impl(
        self, ctx: InvocationContext
    ) -> AsyncGenerator[Event, None]:
        def partial(part: types.Part) -> Event:
            return Event(
                author=self.name,
                invocation_id=ctx.invocation_id,
                partial=True,
                content=types.Content(role="model", parts=[part]),
            )

        for piece in THOUGHTS:
            yield partial(types.Part(text=piece, thought=True))
            await asyncio.sleep(PAUSE_SECONDS)
        for piece in ANSWER:
            yield partial(types.Part(text=piece))
            await asyncio.sleep(PAUSE_SECONDS / 6)
        yield Event(
            author=self.name,
            invocation_id=ctx.invocation_id,
            content=types.Content(
                role="model",
                parts=[
                    types.Part(text="".join(THOUGHTS), thought=True),
                    types.Part(text="".join(ANSWER)),
                ],
            ),
        )


root_agent = ThinkingAgent(
    name="thinking_agent",
    description="Thinks in thought parts, then answers, as a Gemini thinking model does.",
)
