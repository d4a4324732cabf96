"""Claude through the `anthropic` SDK, on the Anthropic API or on AWS Bedrock: one attempt per `chat`
(a forced tool for structured answers; tools the model may call for agents).

The SDK's own retries are off (`max_retries=0`): `resilience.Guard` is the only retry layer. Its
exceptions become `AttemptFailed` (retry) or gateway errors (do not). Imported only when a provider is
configured: the SDK takes seconds to import, which stdio start-up should not pay for nothing.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx2
from anthropic.types import (
    Message,
    MessageParam,
    TextBlockParam,
    ToolChoiceAutoParam,
    ToolChoiceToolParam,
    ToolParam,
    ToolResultBlockParam,
    ToolUseBlockParam,
)
from botocore.exceptions import BotoCoreError  # type: ignore[import-untyped]  # botocore ships no types
from pydantic import ValidationError

from server.gateway.errors import NotConfigured
from server.gateway.messages import Chat, ChatReply, ChatTurn, ModelTurn, Tool, ToolResults, ToolUse, UserText
from server.gateway.resilience import AttemptFailed, failure_for_status
from server.settings.gateway import GatewaySettings

# Pinned, so that no environment variable can put prompt contents into the SDK's trace spans.
_TRACING: anthropic.OpenTelemetryOptions = {"traces": {"content_mode": "metadata_only"}}


def build_client(settings: GatewaySettings) -> anthropic.AsyncAnthropic | anthropic.AsyncAnthropicBedrock:
    if settings.provider == "bedrock":
        # Credentials come from boto3's standard chain (environment, profile, instance role).
        return anthropic.AsyncAnthropicBedrock(
            aws_region=settings.bedrock_region,
            aws_profile=settings.bedrock_profile,
            base_url=settings.base_url,
            max_retries=0,
            open_telemetry=_TRACING,
        )
    key = settings.anthropic_api_key
    return anthropic.AsyncAnthropic(
        api_key=key.get_secret_value() if key else None,
        base_url=settings.base_url,
        max_retries=0,
        open_telemetry=_TRACING,
    )


class LLMClient:
    """One provider, one model: `chat` makes exactly one HTTP request."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.provider = settings.provider
        self.model = settings.model
        self._max_tokens = settings.max_tokens
        self._connect_timeout = settings.connect_timeout_seconds
        self._client = build_client(settings)

    async def aclose(self) -> None:
        await self._client.close()

    async def chat(self, chat: Chat, seconds: float) -> ChatReply:
        """One request: the model may answer, call tools, or both; with `chat.force`, it calls that tool."""
        offered: dict[str, Any] = {}
        if chat.tools:  # the API refuses a tool_choice without tools
            choice = (
                ToolChoiceToolParam(type="tool", name=chat.force)
                if chat.force
                else ToolChoiceAutoParam(type="auto")
            )
            offered = {"tools": [_tool(tool) for tool in chat.tools], "tool_choice": choice}
        try:
            # With the request as keywords the SDK's overloads cannot tell streaming apart: never here.
            message: Message = await self._client.messages.create(
                model=self.model,
                max_tokens=self._max_tokens,
                timeout=httpx2.Timeout(seconds, connect=min(self._connect_timeout, seconds)),
                system=chat.system,
                messages=[_message(turn) for turn in chat.turns],
                **offered,
            )
        except anthropic.APIStatusError as exc:
            raise failure_for_status(exc.status_code, exc.response.headers, self.provider) from exc
        except anthropic.APITimeoutError as exc:
            raise AttemptFailed("timeout") from exc
        except anthropic.APIConnectionError as exc:
            raise AttemptFailed("connection") from exc
        except (json.JSONDecodeError, ValidationError, anthropic.APIResponseValidationError) as exc:
            raise AttemptFailed("malformed") from exc
        except (TypeError, RuntimeError, BotoCoreError) as exc:
            # How the SDK says it found no credentials: TypeError for the API; for Bedrock, RuntimeError
            # (an empty credential chain) or botocore's errors (an unknown profile, say).
            raise NotConfigured(f"{self.provider}: no usable credentials ({exc})") from exc
        return _reply(message)


def _tool(tool: Tool) -> ToolParam:
    return ToolParam(name=tool.name, description=tool.description, input_schema=tool.input_schema)


def _message(turn: ChatTurn) -> MessageParam:
    if isinstance(turn, UserText):
        return {"role": "user", "content": turn.text}
    if isinstance(turn, ToolResults):
        results = [
            ToolResultBlockParam(
                type="tool_result",
                tool_use_id=result.tool_use_id,
                content=result.content,
                is_error=result.is_error,
            )
            for result in turn.results
        ]
        return {"role": "user", "content": results}
    content: list[TextBlockParam | ToolUseBlockParam] = []
    # The API refuses empty text blocks, and an assistant message with no content at all.
    if turn.text or not turn.tool_uses:
        content.append(TextBlockParam(type="text", text=turn.text or "(no answer)"))
    content.extend(
        ToolUseBlockParam(type="tool_use", id=use.id, name=use.name, input=use.input)
        for use in turn.tool_uses
    )
    return {"role": "assistant", "content": content}


def _reply(message: Message) -> ChatReply:
    texts = [block.text for block in message.content if block.type == "text"]
    uses = tuple(
        ToolUse(block.id, block.name, block.input)
        for block in message.content
        if block.type == "tool_use" and isinstance(block.input, dict)
    )
    usage = message.usage
    turn = ModelTurn("\n".join(texts), uses)
    return ChatReply(turn, usage.input_tokens, usage.output_tokens, message.stop_reason)
