"""Reading a push body: the whole batch validated in one pass when every event is good.

Payloads are validated one event at a time in spirit (a bad one is quarantined, never
fatal to its batch), and the wire models are strict, which in pydantic's Python mode
refuses the UUID and datetime *strings* JSON carries. Letting FastAPI parse the body
therefore meant ``json.loads``, then ``json.dumps`` + ``model_validate_json`` of every
payload again: the largest share of a push's CPU time.

So the body bytes are first validated against a *typed* request, in which each
envelope's payload model is picked by its ``type`` (a discriminated union built from
:data:`sync.protocol.PAYLOAD_MODELS`), in JSON mode, where strictness means exactly what
it means on the wire. A normal batch passes in one call. Anything else (a bad payload,
an unknown type or schema version, a malformed request) is read again the way it always
was: :class:`~sync.protocol.PushRequest` from ``json.loads`` (a bad envelope is the whole
request's fault: 400/422), then :func:`~sync.protocol.parse_payload` per event, so every
refused event gets its own reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, Union
from uuid import UUID

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, create_model

from sync import protocol as p


@dataclass(frozen=True, slots=True)
class Refused:
    """A payload HQ cannot apply: why, and the envelope exactly as it came."""

    reason: str
    envelope: p.EventEnvelope


@dataclass(frozen=True, slots=True)
class Received:
    """One event of a push: its envelope fields and its payload, validated or refused."""

    event_id: UUID
    terminal_id: str
    terminal_seq: int
    occurred_at: datetime
    schema_version: int
    type: str
    payload: p.WireModel | Refused

    def raw(self) -> dict[str, Any]:
        """The envelope as JSON-ready data, for quarantine."""
        if isinstance(self.payload, Refused):
            return self.payload.envelope.model_dump(mode="json")
        return {
            "event_id": str(self.event_id),
            "terminal_id": self.terminal_id,
            "terminal_seq": self.terminal_seq,
            "occurred_at": self.occurred_at.isoformat(),
            "schema_version": self.schema_version,
            "type": self.type,
            "payload": self.payload.model_dump(mode="json"),
        }


@dataclass(frozen=True, slots=True)
class Push:
    terminal_id: str
    events: list[Received]


def read_push(body: bytes) -> Push:
    """Validate a push body; raise ``RequestValidationError`` if the request itself is bad."""
    try:
        typed = _TYPED_PUSH.validate_json(body)
    except ValidationError:
        return _read_each(body)
    if any(env.schema_version != p.SCHEMA_VERSION for env in typed.events):
        return _read_each(body)  # the payload models are this schema version's
    events = [
        Received(
            event_id=env.event_id,
            terminal_id=env.terminal_id,
            terminal_seq=env.terminal_seq,
            occurred_at=env.occurred_at,
            schema_version=env.schema_version,
            type=env.type,
            payload=env.payload,
        )
        for env in typed.events
    ]
    return Push(terminal_id=typed.terminal_id, events=events)


def _read_each(body: bytes) -> Push:
    try:
        data = json.loads(body)
    except ValueError:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}]
        ) from None
    try:
        request = p.PushRequest.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None
    events = []
    for env in request.events:
        payload: p.WireModel | Refused
        try:
            payload = p.parse_payload(env)
        except ValueError as exc:
            payload = Refused(_reason(exc), env)
        events.append(
            Received(
                event_id=env.event_id,
                terminal_id=env.terminal_id,
                terminal_seq=env.terminal_seq,
                occurred_at=env.occurred_at,
                schema_version=env.schema_version,
                type=env.type,
                payload=payload,
            )
        )
    return Push(terminal_id=request.terminal_id, events=events)


def _reason(exc: ValueError) -> str:
    text = str(exc)
    return text if len(text) <= 2000 else text[:1997] + "..."


# ------------------------------------------------------------------ the typed request


def _typed_envelope(type_: str, model: type[p.WireModel]) -> type[BaseModel]:
    """:class:`~sync.protocol.EventEnvelope` with ``type`` fixed and ``payload`` typed."""
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in p.EventEnvelope.model_fields.items()
        if name not in ("type", "payload")
    }
    return create_model(
        f"{model.__name__}Envelope",
        __config__=p.EventEnvelope.model_config,
        type=(Literal[type_], ...),
        payload=(model, ...),
        **fields,
    )


def _typed_push() -> TypeAdapter[Any]:
    """:class:`~sync.protocol.PushRequest` with every envelope typed by its ``type``."""
    envelope: Any = Annotated[
        Union[tuple(_typed_envelope(t, m) for t, m in p.PAYLOAD_MODELS.items())],  # noqa: UP007
        Field(discriminator="type"),
    ]
    request = create_model(
        "TypedPushRequest",
        __config__=p.PushRequest.model_config,
        terminal_id=(str, ...),
        events=(Annotated[list[envelope], Field(max_length=p.MAX_PUSH_EVENTS)], ...),
    )
    return TypeAdapter(request)


_TYPED_PUSH = _typed_push()


def push_request_schema() -> dict[str, Any]:
    """The request body's JSON schema with its definitions inlined, for ``openapi_extra``."""
    schema = p.PushRequest.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return {
        "required": True,
        "content": {"application/json": {"schema": inline(schema)}},
    }
