"""The chat widget's texts in one language (the message catalogue's widget.* and chip.* keys, assistant/i18n.py)."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel

from assistant import i18n
from assistant.api.schemas import ErrorOut

router = APIRouter(prefix="/v1", tags=["chat"])
# A language tag as a browser sends it: "en", "es", "pt-BR" (served by a pt_BR catalogue, else pt).
LANG = Query(pattern=r"^[a-z]{2,3}([-_][A-Z]{2})?$", max_length=6,
             description="language of the texts; unknown: 404, English is always there")


class MessagesOut(BaseModel):
    language: str
    messages: dict[str, str]  # key -> text; {name} fields are filled in by the widget


@router.get("/messages", response_model=MessagesOut, responses={404: {"model": ErrorOut}},
            summary="The chat widget's texts in one language (English where the language lacks one)")
async def messages(response: Response, lang: Annotated[str, LANG] = i18n.DEFAULT_LANGUAGE) -> MessagesOut:
    try:
        served = i18n.resolve(lang.replace("-", "_"))
    except i18n.UnknownLanguage:
        raise HTTPException(404, f"no texts in language '{lang}'; available: {', '.join(i18n.languages())}") from None
    response.headers["Cache-Control"] = "public, max-age=3600"
    # Public texts: a page on any origin that embeds the widget reads them, as it uses the chat socket, without
    # BANK_SECURITY__CORS_ORIGINS (which the widget's other REST calls need).
    response.headers["Access-Control-Allow-Origin"] = "*"
    return MessagesOut(language=served, messages=i18n.widget_messages(served))
