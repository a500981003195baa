"""A root agent with two sub-agents, none using an LLM: the root runs each
sub-agent in turn, so one reply is made of events by different authors.
"""

from typing import AsyncGenerator

from google.adk.agents import BaseAgent
from google.adk.agents.invocation_context import InvocationContext
from google.adk.events import Event
from google.genai import types


class Speaker(BaseAgent):
    """Says one line, naming itself."""

    async def _run_async_impl(
        self, ctx: InvocationContext
    ) -> AsyncGenerator[Event, None]:
        yield Event(
            author=self.name,
            invocation_id=ctx.invocation_id,
            content=types.Content(
                role="model",
                parts=[types.Part(text=f"{self.name} here: {self.description}")],
            ),
        )


class Coordinator(BaseAgent):
    async def _run_async_impl(
        self, ctx: InvocationContext
    ) -> AsyncGenerator[Event, None]:
        for sub_agent in self.sub_agents:
            async for event in sub_agent.run_async(ctx):
                yield event


root_agent = Coordinator(
    name="multi_agent",
    description="Runs a researcher and then a writer.",
    sub_agents=[
        Speaker(name="researcher", description="I found three sources."),
        Speaker(name="writer", description="I wrote the summary."),
    ],
)
