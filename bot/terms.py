"""The consent text a person accepts before any photo leaves the bot, versioned in code.

The bot must be able to prove which text someone agreed to, so every consent record stores the
terms version and the SHA-256 of the exact text shown. `REGISTERED_SHA256` pins every text ever
shown: a test fails when the current text no longer matches its registered hash, so whoever edits
the text must bump `TERMS_VERSION` and register the new hash (old entries stay, they are proof).

To add a language: add its text to `_TEXTS` and its hash under the current version.
To change the text: edit it, bump `TERMS_VERSION`, register the new hash of every language.

Triage (bot/triage): when the clinic's clinicians see the cases, the text says so. That is a
different text, so a different version (`TERMS_VERSION` + "-triage") with its own hashes: people
who agreed without the clause are asked again. A deployment shows one edition, chosen once at
start-up from the settings with `use_triage()`.
"""

from __future__ import annotations

import hashlib

TERMS_VERSION = "1"
DEFAULT_LANGUAGE = "en"

_TEXT_EN = """\
Before you send any photo, please read this.

1. Only send photos you are allowed to share. If the skin is someone else's, you need their \
permission (or their parent's or guardian's) first.
2. Your photos and answers are sent to the Model Dermatology service. Its operator keeps every \
photo and answer it receives, and uses the photos to train its algorithm.
3. The algorithm is NOT certified by the FDA or CE. Its answer is not a diagnosis. See a doctor \
or nurse about any skin problem, and go at once if it changes quickly, bleeds, or you feel unwell.
4. The operator of the service is not responsible for wrong answers, or for the service being \
down.

What this bot keeps: your Telegram user id and language, your answers, references to your photos \
on Telegram (not copies), the results, and this agreement (which text you accepted, and when). \
Finished cases are deleted automatically after a while.

You can change your mind at any time:
/withdraw - stop: nothing more will be sent.
/delete - erase your cases, answers and photo references from this bot. It keeps only the record \
of what you agreed to and that you withdrew, as the law requires. It cannot delete what the \
Model Dermatology service already received.
/privacy - what this bot stores and for how long.
"""

_TEXT_KO = """\
사진을 보내기 전에 꼭 읽어 주세요.

1. 공유해도 되는 사진만 보내 주세요. 다른 사람의 피부라면 먼저 그 사람(또는 부모나 보호자)의 \
허락을 받아야 해요.
2. 사진과 답변은 Model Dermatology 서비스로 전송돼요. 서비스 운영자는 받은 사진과 답변을 모두 \
보관하고, 사진을 알고리즘 학습에 사용해요.
3. 이 알고리즘은 FDA나 CE의 인증을 받지 않았어요. 그 답은 진단이 아니에요. 피부 문제는 의사나 \
간호사에게 보여 주세요. 빨리 변하거나, 피가 나거나, 몸이 안 좋으면 바로 진료를 받으세요.
4. 서비스 운영자는 틀린 답이나 서비스 중단에 대해 책임지지 않아요.

이 봇이 보관하는 것: 텔레그램 사용자 ID와 언어, 답변, 텔레그램에 있는 사진의 참조(사본이 \
아니에요), 결과, 그리고 이 동의(어떤 글에 언제 동의했는지). 끝난 검사는 일정 기간이 지나면 \
자동으로 지워져요.

언제든지 마음을 바꿀 수 있어요:
/withdraw - 중단: 더 이상 아무것도 보내지 않아요.
/delete - 이 봇에서 검사, 답변, 사진 참조를 지워요. 법에 따라 무엇에 동의했고 언제 \
철회했는지에 대한 기록만 남겨 둬요. Model Dermatology 서비스가 이미 받은 것은 지울 수 없어요.
/privacy - 이 봇이 무엇을 얼마 동안 보관하는지 알려 드려요.
"""

_TEXT_ES = """\
Antes de enviar cualquier foto, lea esto, por favor.

1. Envíe solo fotos que tenga permiso de compartir. Si la piel es de otra persona, primero \
necesita su permiso (o el de su madre, padre o tutor).
2. Sus fotos y respuestas se envían al servicio Model Dermatology. Quien opera el servicio guarda \
todas las fotos y respuestas que recibe, y usa las fotos para entrenar su algoritmo.
3. El algoritmo NO está certificado por la FDA ni por la CE. Su respuesta no es un diagnóstico. \
Consulte a un médico o a una enfermera por cualquier problema de la piel, y vaya de inmediato si \
cambia rápido, sangra o se siente mal.
4. Quien opera el servicio no se hace responsable de respuestas equivocadas ni de que el servicio \
no funcione.

Lo que guarda este bot: su identificador de usuario de Telegram y su idioma, sus respuestas, \
referencias a sus fotos en Telegram (no copias), los resultados y este acuerdo (qué texto aceptó y \
cuándo). Las revisiones terminadas se borran automáticamente después de un tiempo.

Puede cambiar de opinión en cualquier momento:
/withdraw - detener: no se enviará nada más.
/delete - borrar de este bot sus revisiones, respuestas y referencias a fotos. Solo se conserva el \
registro de lo que aceptó y de que lo retiró, como exige la ley. No puede borrar lo que el \
servicio Model Dermatology ya recibió.
/privacy - qué guarda este bot y por cuánto tiempo.
"""

# language -> text of the current version.
_TEXTS: dict[str, str] = {"en": _TEXT_EN, "ko": _TEXT_KO, "es": _TEXT_ES}

_TRIAGE_CLAUSE_EN = """\
5. The clinic that runs this bot reviews every check: its clinicians see your photos, your \
answers and the AI's result in the clinic's private Telegram group (not your name or Telegram \
account). A clinician may send you messages here and will tell you what to do next. This bot \
keeps their decisions and the messages between you and the clinic; /delete erases them too.
"""

_TRIAGE_CLAUSE_KO = """\
5. 이 봇을 운영하는 병원이 모든 검사를 살펴봐요: 병원의 의료진이 병원의 비공개 텔레그램 그룹에서 \
사진, 답변, AI 결과를 봐요(이름이나 텔레그램 계정은 보지 않아요). 의료진이 여기로 메시지를 보낼 수 \
있고, 다음에 무엇을 하면 좋을지 알려 드려요. 이 봇은 의료진의 결정과 병원과 주고받은 메시지를 \
보관해요. /delete 로 이것도 지울 수 있어요.
"""

_TRIAGE_CLAUSE_ES = """\
5. La clínica que opera este bot examina cada revisión: su personal de salud ve sus fotos, sus \
respuestas y el resultado de la IA en el grupo privado de Telegram de la clínica (no su nombre ni \
su cuenta de Telegram). Un profesional puede enviarle mensajes aquí y le dirá qué hacer después. \
Este bot guarda sus decisiones y los mensajes entre usted y la clínica; /delete también los borra.
"""

# Where the clause goes in each language: after the numbered points, before what the bot keeps.
_KEEPS_MARKER = {
    "en": "What this bot keeps:",
    "ko": "이 봇이 보관하는 것:",
    "es": "Lo que guarda este bot:",
}
_TRIAGE_CLAUSES = {"en": _TRIAGE_CLAUSE_EN, "ko": _TRIAGE_CLAUSE_KO, "es": _TRIAGE_CLAUSE_ES}

# The same texts with the triage clause, after the numbered points.
_TRIAGE_TEXTS: dict[str, str] = {
    language: body.replace(
        "\n\n" + _KEEPS_MARKER[language],
        "\n" + _TRIAGE_CLAUSES[language] + "\n" + _KEEPS_MARKER[language],
        1,
    )
    for language, body in _TEXTS.items()
}
TRIAGE_SUFFIX = "-triage"

# (version, language) -> SHA-256 of the text shown. Append only: old entries prove old consents.
REGISTERED_SHA256: dict[tuple[str, str], str] = {
    ("1", "en"): "ce575dc4528520b1b734edff5a8fbd34a9ca8bf07ad8c7a8d32c9a4dda00b8a4",
    ("1", "ko"): "5ce679424a24564efa3b1715009333a4d0d19f0146e53a1933135d7875462e46",
    ("1", "es"): "90be52264cab32a600d140f6d6fa2562ee09cbd428d55b9cb3505f98f87f6e3f",
    ("1-triage", "en"): "d2ebb617e4a3ce74c6493efaf773d97e50d10f1dbef677ec1c81637a93fb9c24",
    ("1-triage", "ko"): "2eb621d3da3511bbb746fd1c3100a68a26a05808bfdfc4c9220477547816aae0",
    ("1-triage", "es"): "84cf0b0b6adc392260da421fc2b6eed67aedf65d5cdde24c59a8389a21e4ae77",
}


class _Edition:
    """Which text this deployment shows: set once at start-up (bot/app.py), never at import."""

    triage = False


def use_triage(enabled: bool) -> None:
    """Show the edition with the triage clause (True) or without it."""
    _Edition.triage = enabled


def triage_in_use() -> bool:
    return _Edition.triage


def current_version() -> str:
    """The version people must have accepted now: TERMS_VERSION, or its triage edition."""
    return TERMS_VERSION + TRIAGE_SUFFIX if _Edition.triage else TERMS_VERSION


class UnknownTerms(LookupError):
    """A terms version or language that was never shown, so no consent to it can be recorded."""


def languages() -> tuple[str, ...]:
    return tuple(_TEXTS)


def resolve_language(language: str | None) -> str:
    """The language the text will be shown in: the person's own if we have it, else English."""
    code = (language or "").split("-", 1)[0].lower()
    return code if code in _TEXTS else DEFAULT_LANGUAGE


def terms_text(language: str | None = DEFAULT_LANGUAGE, *, triage: bool | None = None) -> str:
    """The current consent text, in `language` when available (falls back to English).

    `triage` picks the edition; by default the one this deployment shows.
    """
    with_clause = _Edition.triage if triage is None else triage
    return (_TRIAGE_TEXTS if with_clause else _TEXTS)[resolve_language(language)]


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def terms_sha256(language: str | None = DEFAULT_LANGUAGE) -> str:
    """SHA-256 of the current text exactly as shown in `language`."""
    return sha256_of(terms_text(language))


def version_sha256(version: str, language: str) -> str:
    """SHA-256 of the text of `version` as shown in `language`: computed for the current texts,
    the pinned hash for older ones."""
    if version == TERMS_VERSION:
        return sha256_of(terms_text(language, triage=False))
    if version == TERMS_VERSION + TRIAGE_SUFFIX:
        return sha256_of(terms_text(language, triage=True))
    return registered_sha256(version, language)


def registered_sha256(version: str, language: str) -> str:
    """The pinned hash of a text that was shown; UnknownTerms if it never existed."""
    try:
        return REGISTERED_SHA256[(version, language)]
    except KeyError:
        raise UnknownTerms(f"no terms text version {version!r} in language {language!r}") from None
