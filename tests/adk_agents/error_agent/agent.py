"""An agent without an LLM that fails mid-reply: one partial text event,
then an exception, so a client can see what a run that breaks after it
began looks like on the wire (HTTP 200, then an error frame).
"""

from typing import AsyncGenerator

from google.adk.agents import BaseAgent
from google.adk.agents.invocation_context import InvocationContext
from google.adk.events import Event
from google.genai import types


class ErrorAgent(BaseAgent):
    async def _run_async_impl(
        self, ctx: InvocationContext
    ) -> AsyncGenerator[Event, None]:
        yield Event(
            author=self.name,
            invocation_id=ctx.invocation_id,
            partial=True,
            content=types.Content(
                role="model", parts=[types.Part(text="Starting, then failing ")]
            ),
        )
        raise RuntimeError("error_agent failed on purpose")


root_agent = ErrorAgent(
    name="error_agent",
    description="Sends one partial event, then raises an exception.",
)
