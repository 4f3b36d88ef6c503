"""The consent text a person accepts before any photo leaves the bot, and its version.

The bot must be able to prove which text someone agreed to, so every consent record stores the
SHA-256 of the exact text shown and its language. The text depends on the deployment: it names the
retention period (RETENTION_DAYS) and, with triage on, says that the clinic sees the cases. So it
is built from the settings at start-up (`Terms.from_settings`), and its version is derived from
the text itself, the first digits of that hash: a deployment with its own period, or with triage,
needs no code change, and whoever edits a text here makes a new version by doing so. A person is
asked again when the text they agreed to, in the language they agreed in, is no longer the one in
force. Only the terms are hashed, never a welcome or a notice shown around them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.config import Settings

DEFAULT_LANGUAGE = "en"
# Hex digits of the text's SHA-256 that make its version: enough to tell texts apart, short
# enough for a button's 64 bytes of data (bot/conversation/screens.py consent_keyboard).
VERSION_DIGITS = 12

# {retention} is where the sentence on how long finished cases are kept goes (_RETENTION).
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
{retention}

You can change your mind at any time:
/withdraw - stop: nothing more will be sent.
/delete - erase your cases, answers and photo references from this bot. It keeps only the record \
of what you agreed to and that you withdrew, as the law requires, and for 24 hours an anonymous \
count of the checks you sent, for fair use. It cannot delete what the Model Dermatology service \
already received.
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
아니에요), 결과, 그리고 이 동의(어떤 글에 언제 동의했는지). {retention}

언제든지 마음을 바꿀 수 있어요:
/withdraw - 중단: 더 이상 아무것도 보내지 않아요.
/delete - 이 봇에서 검사, 답변, 사진 참조를 지워요. 법에 따라 무엇에 동의했고 언제 \
철회했는지에 대한 기록만 남겨 두고, 공정한 사용을 위해 보낸 검사의 수를 익명으로 24시간 동안 \
남겨 둬요. Model Dermatology 서비스가 이미 받은 것은 지울 수 없어요.
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
cuándo). {retention}

Puede cambiar de opinión en cualquier momento:
/withdraw - detener: no se enviará nada más.
/delete - borrar de este bot sus revisiones, respuestas y referencias a fotos. Solo se conserva el \
registro de lo que aceptó y de que lo retiró, como exige la ley, y durante 24 horas un recuento \
anónimo de las revisiones que envió, para un uso justo. No puede borrar lo que el servicio Model \
Dermatology ya recibió.
/privacy - qué guarda este bot y por cuánto tiempo.
"""

_CLINIC_CLAUSE_EN = """\
5. The clinic that runs this bot reviews every check: its clinicians see your photos, your \
answers and the AI's result in the clinic's private Telegram group (not your name or Telegram \
account). A clinician may send you messages here and will tell you what to do next. This bot \
keeps their decisions and the messages between you and the clinic; /delete erases them too.
"""

_CLINIC_CLAUSE_KO = """\
5. 이 봇을 운영하는 병원이 모든 검사를 살펴봐요: 병원의 의료진이 병원의 비공개 텔레그램 그룹에서 \
사진, 답변, AI 결과를 봐요(이름이나 텔레그램 계정은 보지 않아요). 의료진이 여기로 메시지를 보낼 수 \
있고, 다음에 무엇을 하면 좋을지 알려 드려요. 이 봇은 의료진의 결정과 병원과 주고받은 메시지를 \
보관해요. /delete 로 이것도 지울 수 있어요.
"""

_CLINIC_CLAUSE_ES = """\
5. La clínica que opera este bot examina cada revisión: su personal de salud ve sus fotos, sus \
respuestas y el resultado de la IA en el grupo privado de Telegram de la clínica (no su nombre ni \
su cuenta de Telegram). Un profesional puede enviarle mensajes aquí y le dirá qué hacer después. \
Este bot guarda sus decisiones y los mensajes entre usted y la clínica; /delete también los borra.
"""


# "Finished cases are deleted after N days", plural-correct in each language.
_RETENTION: dict[str, Callable[[int], str]] = {
    "en": lambda days: (
        "Finished cases are deleted automatically after "
        + ("1 day." if days == 1 else f"{days} days.")
    ),
    "ko": lambda days: f"끝난 검사는 {days}일이 지나면 자동으로 지워져요.",
    "es": lambda days: (
        "Las revisiones terminadas se borran automáticamente después de "
        + ("1 día." if days == 1 else f"{days} días.")
    ),
}
_TEXTS: dict[str, str] = {"en": _TEXT_EN, "ko": _TEXT_KO, "es": _TEXT_ES}

# Where the clause goes in each language: after the numbered points, before what the bot keeps.
_KEEPS_MARKER = {
    "en": "What this bot keeps:",
    "ko": "이 봇이 보관하는 것:",
    "es": "Lo que guarda este bot:",
}
_CLINIC_CLAUSES = {"en": _CLINIC_CLAUSE_EN, "ko": _CLINIC_CLAUSE_KO, "es": _CLINIC_CLAUSE_ES}
LANGUAGES: tuple[str, ...] = tuple(_TEXTS)


class UnknownTerms(LookupError):
    """A terms text that is not the one in force, so no consent to it can be recorded."""


def resolve_language(language: str | None) -> str:
    """The language the text will be shown in: the person's own if we have it, else English."""
    code = (language or "").split("-", 1)[0].lower()
    return code if code in _TEXTS else DEFAULT_LANGUAGE


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def version_of(sha256: str) -> str:
    """The version of the text with this SHA-256 (hex)."""
    return sha256[:VERSION_DIGITS]


def _compose(language: str, *, retention_days: int, clinic: bool) -> str:
    body = _TEXTS[language].format(retention=_RETENTION[language](retention_days))
    if clinic:
        marker = _KEEPS_MARKER[language]
        body = body.replace("\n\n" + marker, "\n" + _CLINIC_CLAUSES[language] + "\n" + marker, 1)
    return body


@dataclass(frozen=True, slots=True)
class Terms:
    """The terms this deployment shows, in every language: built once from the settings."""

    texts: Mapping[str, str]

    @classmethod
    def build(cls, *, retention_days: int, clinic: bool) -> Terms:
        texts = {
            language: _compose(language, retention_days=retention_days, clinic=clinic)
            for language in LANGUAGES
        }
        return cls(MappingProxyType(texts))

    @classmethod
    def from_settings(cls, settings: Settings) -> Terms:
        return cls.build(retention_days=settings.retention_days, clinic=settings.triage_enabled)

    def text(self, language: str | None = DEFAULT_LANGUAGE) -> str:
        """The text in `language` when there is one (else English), exactly as it is shown."""
        return self.texts[resolve_language(language)]

    def sha256(self, language: str | None = DEFAULT_LANGUAGE) -> str:
        return sha256_of(self.text(language))

    def version(self, language: str | None = DEFAULT_LANGUAGE) -> str:
        return version_of(self.sha256(language))

    def fingerprints(self) -> dict[str, str]:
        """language -> SHA-256 of the text in it: what a consent is checked against."""
        return {language: sha256_of(text) for language, text in self.texts.items()}
