"""An agent without an LLM whose reply proves it saw the session history.

It quotes the first and the latest user message and counts the user turns
in `ctx.session.events`, so a test can tell whether a session (for example
one rebuilt from the client's copy after a server restart) carries the
whole conversation. It also writes a session key and a `user:` key, so the
client's state scopes can be checked.
"""

from typing import AsyncGenerator

from google.adk.agents import BaseAgent
from google.adk.agents.invocation_context import InvocationContext
from google.adk.events import Event, EventActions
from google.genai import types


def _text(event: Event) -> str:
    if not event.content or not event.content.parts:
        return ""
    return "".join(part.text or "" for part in event.content.parts)


class HistoryAgent(BaseAgent):
    async def _run_async_impl(
        self, ctx: InvocationContext
    ) -> AsyncGenerator[Event, None]:
        # The runner appends the new user message to the session before the
        # agent runs, so it is the last user event here.
        user_texts = [_text(e) for e in ctx.session.events if e.author == "user"]
        turns = len(user_texts)
        first = user_texts[0] if user_texts else ""
        latest = user_texts[-1] if user_texts else ""
        reply = (
            f"I am {self.name}. This is turn {turns}. "
            f'You said first: "{first}". You said now: "{latest}".'
        )
        yield Event(
            author=self.name,
            invocation_id=ctx.invocation_id,
            content=types.Content(role="model", parts=[types.Part(text=reply)]),
            actions=EventActions(state_delta={"turns": turns, "user:greeted": True}),
        )


root_agent = HistoryAgent(
    name="history_agent",
    description="Replies with the turn number and the first and latest user messages.",
)
