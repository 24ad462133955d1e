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
an unknown type or schema version, a malformed request) is read again event by event:
the JSON parsed with limits, the request's own shape checked (400/422 only when it is
not a push at all, or an event has no UUID ``event_id`` to answer it by), then each
envelope and :func:`~sync.protocol.parse_payload` per event, so every refused event gets
its own reason and the events after it still flow.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Union
from uuid import UUID

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, create_model
from pydantic_core import from_json

from sync import protocol as p


@dataclass(frozen=True, slots=True)
class Refused:
    """An event HQ cannot apply: why, and the envelope exactly as it came.

    ``held`` is False when the envelope itself is malformed (a seq or timestamp that is
    not one): such an event is kept only in quarantine, never in ``events``, since its
    place in the terminal's sequence is unknown.
    """

    reason: str
    raw: dict[str, Any]
    held: bool = True
    storable: bool = True
    """False when the payload cannot be stored as JSON (``events`` keeps ``{}``; the
    quarantine keeps it escaped)."""


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

    def refused(self, reason: str) -> Received:
        """This event, refused for ``reason`` found after its payload validated."""
        return replace(self, payload=Refused(_reason(reason), self.raw()))

    def raw(self) -> dict[str, Any]:
        """The envelope as JSON-ready data, for quarantine."""
        if isinstance(self.payload, Refused):
            return self.payload.raw
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
    if b"\\u0000" in body:  # a NUL somewhere: only the per-event read refuses it
        return _read_each(body)
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
    """Read a body that did not pass in one go: each envelope on its own.

    JSON is parsed with limits (jiter: bounded nesting, no NaN or Infinity, no lone
    surrogates). Only a body that is not a push at all, or an event without a usable
    ``event_id`` (nothing to answer it by), fails the whole request; any other bad
    envelope or payload is refused alone and quarantined.
    """
    try:
        data = from_json(body, allow_inf_nan=False)
    except ValueError:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}]
        ) from None
    try:
        request = _LOOSE_PUSH.validate_python(data)
    except ValidationError as exc:
        raise _request_error(exc) from None
    events = []
    for index, raw in enumerate(request.events):
        try:
            env = p.EventEnvelope.model_validate(raw)
        except ValidationError as exc:
            events.append(_malformed(index, raw, exc))
            continue
        payload: p.WireModel | Refused
        try:
            payload = p.parse_payload(env)
        except ValueError as exc:
            payload = Refused(_reason(str(exc)), env.model_dump(mode="json"))
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


def _malformed(index: int, raw: dict[str, Any], exc: ValidationError) -> Received:
    """An envelope that did not validate: refused alone if it has an id to answer by."""
    try:
        event_id = UUID(str(raw.get("event_id")))
    except ValueError:
        loc = ("body", "events", index, "event_id")
        raise RequestValidationError(
            [{"type": "uuid_parsing", "loc": loc, "msg": "every event needs a UUID event_id"}]
        ) from None
    parts = [
        f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}"
        for e in exc.errors(include_url=False)[:5]
    ]
    reason = _reason("malformed envelope: " + "; ".join(parts))
    # Only the payload (or the till's timestamp) is bad: the event still has its place
    # in the sequence, so it is held (and counts for the contiguous mark) but not applied.
    now = datetime.now(UTC).isoformat()
    for repaired in ({**raw, "payload": {}}, {**raw, "payload": {}, "occurred_at": now}):
        try:
            env = p.EventEnvelope.model_validate(repaired)
        except ValidationError:
            continue
        return Received(
            event_id=env.event_id,
            terminal_id=env.terminal_id,
            terminal_seq=env.terminal_seq,
            occurred_at=env.occurred_at,
            schema_version=env.schema_version,
            type=env.type,
            payload=Refused(reason, raw, storable=False),
        )
    seq = raw.get("terminal_seq")
    terminal_id = raw.get("terminal_id")
    return Received(
        event_id=event_id,
        terminal_id=terminal_id if isinstance(terminal_id, str) else "",
        terminal_seq=seq if type(seq) is int and 1 <= seq <= p.MAX_SEQ else 0,
        occurred_at=datetime.now(UTC),
        schema_version=0,
        type=str(raw.get("type"))[:40],
        payload=Refused(reason, raw, held=False, storable=False),
    )


def _request_error(exc: ValidationError) -> RequestValidationError:
    return RequestValidationError(
        [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
    )


class _LoosePush(BaseModel):
    """A push with its envelopes still unread: what must hold for any per-event answer."""

    model_config = p.PushRequest.model_config

    terminal_id: p.Label40
    events: Annotated[list[dict[str, Any]], Field(max_length=p.MAX_PUSH_EVENTS)]


_LOOSE_PUSH = TypeAdapter(_LoosePush)


def _reason(text: str) -> str:
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
    """The request body's JSON schema with its definitions inlined, for ``openapi_extra``.

    The schema says what HQ enforces per request: a terminal id and at most
    :data:`~sync.protocol.MAX_PUSH_EVENTS` objects with a UUID ``event_id``. The
    envelope's own shape is refused per event (answered ``rejected``, never a failed
    request), so it is published beside the schema, not in it: a schema that required
    it would promise a 4xx the contract deliberately does not give.
    """
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

    body = inline(schema)
    envelope = body["properties"]["events"]["items"]
    body["properties"]["events"]["items"] = {
        "type": "object",
        "required": ["event_id"],
        "properties": {"event_id": envelope["properties"]["event_id"]},
        "additionalProperties": True,
        "description": (
            "One event envelope (its full shape is `x-kedai-envelope`). Each event is "
            "validated on its own: one that does not match is answered `rejected` with "
            "the reason and quarantined, and the events after it are still applied; "
            "only an event without a UUID `event_id` (nothing to answer it by) fails "
            "the whole request."
        ),
        "x-kedai-envelope": envelope,
    }
    return {"required": True, "content": {"application/json": {"schema": body}}}
