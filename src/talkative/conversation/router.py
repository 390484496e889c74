from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, StringConstraints

from talkative.auth.dependencies import Reader
from talkative.conversation.interpreter import interpret
from talkative.conversation.schemas import Interpretation
from talkative.errors import ERROR_RESPONSES, ErrorBody

router = APIRouter(prefix="/conversation", tags=["conversation"], responses=ERROR_RESPONSES)


class TextInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["text", "audio"]
    text: Annotated[str, StringConstraints(max_length=20_000)] = ""


class InterpretRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: TextInput


@router.post(
    "/interpret",
    operation_id="interpret",
    responses={202: {"model": ErrorBody, "description": "Audio input is not supported yet"}},
)
async def interpret_text(body: InterpretRequest, _: Reader) -> Interpretation:
    """Detected tasks and suggested nodes/edges for a text, without touching any workflow."""
    if body.input.type == "audio":
        return JSONResponse(  # type: ignore[return-value]
            {"error": "audio input is not supported yet; send text", "code": "AUDIO_NOT_SUPPORTED"},
            status_code=202,
        )
    return interpret(body.input.text)
