"""An agent without an LLM that shows a tool call the way an LLM agent does:
an event with a `functionCall` part, one with the matching
`functionResponse` part (same id), then a text event that uses the result.
"""

import uuid
from typing import AsyncGenerator

from google.adk.agents import BaseAgent
from google.adk.agents.invocation_context import InvocationContext
from google.adk.events import Event
from google.genai import types

WEATHER = {"temperature_c": 18, "sky": "clear"}


class ToolAgent(BaseAgent):
    async def _run_async_impl(
        self, ctx: InvocationContext
    ) -> AsyncGenerator[Event, None]:
        # ADK's own function-call ids look like this ("adk-" + uuid4).
        call_id = f"adk-{uuid.uuid4()}"
        yield Event(
            author=self.name,
            invocation_id=ctx.invocation_id,
            content=types.Content(
                role="model",
                parts=[
                    types.Part(
                        function_call=types.FunctionCall(
                            id=call_id, name="get_weather", args={"city": "Paris"}
                        )
                    )
                ],
            ),
        )
        # In ADK the tool's answer is a `user`-role content authored by the
        # agent that called it.
        yield Event(
            author=self.name,
            invocation_id=ctx.invocation_id,
            content=types.Content(
                role="user",
                parts=[
                    types.Part(
                        function_response=types.FunctionResponse(
                            id=call_id, name="get_weather", response=WEATHER
                        )
                    )
                ],
            ),
        )
        summary = (
            f"The weather in Paris: {WEATHER['sky']} sky, "
            f"{WEATHER['temperature_c']} °C."
        )
        yield Event(
            author=self.name,
            invocation_id=ctx.invocation_id,
            content=types.Content(role="model", parts=[types.Part(text=summary)]),
        )


root_agent = ToolAgent(
    name="tool_agent",
    description="Calls a (pretend) get_weather tool and summarises its answer.",
)
