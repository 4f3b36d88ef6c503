"""The wire format: what goes into `args2`, and how every kind of answer is read."""

from __future__ import annotations

import json
import re
import sys
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.diagnosis import Condition
from bot.domain.questionnaire import Onset, Questionnaire, Severity, Sex
from bot.i18n.limits import clean_label
from bot.modelderm.errors import AnswerError
from bot.modelderm.protocol import (
    BODY_SITE_MAX,
    CASE_ID_MAX_LEN,
    METADATA_TAGS,
    clean_free_text,
    decode_escapes,
    encode_metadata,
    excerpt,
    parse_answer,
)

# Real answers, as the public server gave them (with and without malignancy_output).
REAL_WITHOUT_MALIGNANCY = (
    b"<error>0</error> <race>1</race> <sex>1</sex> <age>70</age> <loc>arm</loc> "
    b"<pruritus>o</pruritus> <pain>o</pain> <onset>w</onset> <meta_used>1</meta_used> "
    b"<no_photo>1</no_photo> <disease>Cherry Hemangioma,0.4871,Insect bite,0.2665,"
    b"Hemangioma,0.0468,Xerotic eczema,0.0392,Herpes zoster,0.0260,Erosion/Laceration,0.0240,"
    b"Inflammed cyst,0.0112,Purpura,0.0098,Folliculitis,0.0088,Acne,0.0070</disease>"
)
REAL_WITH_MALIGNANCY = (
    b"<error>0</error> <race>1</race> <sex>1</sex> <age>70</age> <loc>arm</loc> "
    b"<pruritus>o</pruritus> <pain>o</pain> <onset>w</onset> <meta_used>1</meta_used> "
    b"<no_photo>1</no_photo> <disease>Insect bite,0.2728,Melanocytic nevus,0.2456,"
    b"Xerotic eczema,0.0761,Hemangioma,0.0704,Folliculitis,0.0561,Cherry Hemangioma,0.0379,"
    b"Skin tag,0.0357,Dysplastic nevus,0.0356,Inflammed cyst,0.0240,"
    b"Nonspecific (normal),0.0157</disease> <malignancy_output>4</malignancy_output>"
)
REAL_POMPHOLYX = (
    b"<error>0</error> <race>1</race> <sex>1</sex> <age>70</age> <loc>arm</loc> "
    b"<pruritus>o</pruritus> <pain>o</pain> <onset>w</onset> <meta_used>1</meta_used> "
    b"<no_photo>1</no_photo> <disease>Pompholyx,0.2047,Callus,0.1891,Insect bite,0.1033,"
    b"Hand eczema,0.0927,Keratoderma,0.0588,Xerotic eczema,0.0381,Melanocytic nevus,0.0339,"
    b"Contact dermatitis,0.0324,Portwine stain,0.0299,Cellulitis,0.0245</disease> "
    b"<malignancy_output>1</malignancy_output>"
)
PROXY_PAGE = (
    b'<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n'
    b"<title>502 Proxy Error</title>\n</head><body>\n<h1>Proxy Error</h1>\n"
    b"<p>The proxy server received an invalid\n\nresponse from an upstream server.<br />\n"
)

ARGS2_TAG = re.compile(r"<([^<>/]*)>([^<>]*)</\1>")


def tags_of(args2: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in ARGS2_TAG.finditer(args2)]


# ------------------------------------------------------------------------------- encoding


def test_full_questionnaire_is_encoded_in_the_protocols_order() -> None:
    questionnaire = Questionnaire(
        birth_year=1978,
        sex=Sex.FEMALE,
        skin_type=4,
        body_site="left  forearm ",
        itch=Severity.MILD_TO_MODERATE,
        pain=Severity.NONE,
        onset=Onset.UNDER_A_MONTH,
    )
    assert encode_metadata(questionnaire, "case-17") == (
        "<id>case-17</id><race>4</race><birth>1978</birth><sex>f</sex>"
        "<location>left forearm</location><pruritus>o</pruritus><pain>x</pain><onset>w</onset>"
    )


def test_unknown_answers_leave_every_tag_present_and_empty() -> None:
    assert encode_metadata(Questionnaire(), None) == (
        "<id></id><race></race><birth></birth><sex></sex><location></location>"
        "<pruritus></pruritus><pain></pain><onset></onset>"
    )


def test_values_that_slipped_past_the_questionnaire_are_refused() -> None:
    bad = Questionnaire()
    object.__setattr__(bad, "skin_type", 9)
    with pytest.raises(ValueError, match="skin type"):
        encode_metadata(bad, None)
    bad = Questionnaire()
    object.__setattr__(bad, "birth_year", 1492)
    with pytest.raises(ValueError, match="birth"):
        encode_metadata(bad, None)
    bad = Questionnaire()
    object.__setattr__(bad, "sex", "<x>")
    with pytest.raises(ValueError):
        encode_metadata(bad, None)


@pytest.mark.parametrize(
    "site",
    [
        "arm</location><sex>m",
        "arm＜/location＞＜sex＞m",  # fullwidth, NFKC folds to < >
        "arm﹤/location﹥",  # small forms
        "arm‹/location›«sex»",
        "arm˂/location˃ᐸsexᐳ",
        "arm⟨/location⟩〈sex〉〈x〉",
        "arm≮/location≯",  # NFKD: < + combining solidus
        "arm\\u003c/location\\u003e",
        "arm&lt;/location&gt;&#60;&#x3e;",
        "arm%3C/location%3E",
        "arm<\u0338/location>",
        "arm\u202e>noitacol/<\u200b",
    ],
)
def test_body_site_cannot_open_or_close_a_tag(site: str) -> None:
    args2 = encode_metadata(Questionnaire(body_site=site, sex=Sex.FEMALE), "id<1>")
    tags = tags_of(args2)
    assert [name for name, _ in tags] == list(METADATA_TAGS)
    assert args2.count("<") == 16 and args2.count(">") == 16
    assert dict(tags)["sex"] == "f"
    assert dict(tags)["location"].startswith("arm")
    assert dict(tags)["id"] == "id1"


def test_clean_free_text_keeps_ordinary_text_and_collapses_whitespace() -> None:
    assert clean_free_text("  Left\tforearm,\nnear the elbow (inner side) ", 60) == (
        "Left forearm, near the elbow (inner side)"
    )
    assert clean_free_text("Unterschenkel – außen; 右腕", 60) == "Unterschenkel – außen; 右腕"
    assert clean_free_text("ｌｅｇ", 60) == "leg"  # NFKC
    assert clean_free_text("a\u200bb\u202ec\x00d", 60) == "abcd"


def test_clean_free_text_cuts_at_the_limit_without_orphaning_marks() -> None:
    assert len(clean_free_text("x" * 500, BODY_SITE_MAX)) == BODY_SITE_MAX
    assert len(clean_free_text("x" * 500, CASE_ID_MAX_LEN)) == CASE_ID_MAX_LEN
    # "e" + combining acute has no precomposed form after "q": keep the pair together.
    text = "a" * 9 + "q\u0301\u0301"
    cut = clean_free_text(text, 10)
    assert cut == "a" * 9
    assert clean_free_text("abc", 0) == ""


def test_every_character_that_folds_into_an_angle_bracket_is_removed() -> None:
    folding = [
        chr(code)
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) not in {"Cn", "Cs", "Co"}
        and any(
            c in unicodedata.normalize(form, chr(code)) for c in "<>" for form in ("NFKC", "NFKD")
        )
    ]
    assert len(folding) > 5  # < > ＜ ＞ ﹤ ﹥ ≮ ≯ at least
    leftovers = [ch for ch in folding if clean_free_text(f"a{ch}b", 10) != "ab"]
    assert leftovers == []


safe_text = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")), max_size=80
)


@settings(max_examples=300, deadline=None)
@given(site=st.text(max_size=200), case_id=st.text(max_size=200))
def test_no_text_ever_opens_or_closes_a_tag(site: str, case_id: str) -> None:
    args2 = encode_metadata(Questionnaire(body_site=site), case_id)
    tags = tags_of(args2)
    assert [name for name, _ in tags] == list(METADATA_TAGS)
    assert args2.count("<") == 16 and args2.count(">") == 16
    values = dict(tags)
    # What is kept survives unchanged: cleaning is idempotent and the tags give it back.
    assert values["location"] == clean_free_text(values["location"], BODY_SITE_MAX)
    assert values["id"] == clean_free_text(values["id"], CASE_ID_MAX_LEN)
    assert len(values["location"]) <= BODY_SITE_MAX
    assert len(values["id"]) <= CASE_ID_MAX_LEN


@settings(max_examples=200, deadline=None)
@given(text=safe_text)
def test_clean_text_round_trips_through_the_encoder(text: str) -> None:
    kept = clean_free_text(text, BODY_SITE_MAX)
    args2 = encode_metadata(Questionnaire(body_site=kept), None)
    assert dict(tags_of(args2))["location"] == kept


# -------------------------------------------------------------------------------- answers


def test_real_answer_without_malignancy_output() -> None:
    diagnosis = parse_answer(REAL_WITHOUT_MALIGNANCY)
    assert diagnosis.conditions[0] == Condition("Cherry Hemangioma", 0.4871)
    assert diagnosis.conditions[5] == Condition("Erosion/Laceration", 0.0240)
    assert diagnosis.conditions[-1] == Condition("Acne", 0.0070)
    assert len(diagnosis.conditions) == 10
    assert diagnosis.malignancy_output is None
    assert diagnosis.meta_used is True
    assert diagnosis.photos_analysed == 1
    assert diagnosis.echoed_metadata == {
        "race": "1",
        "sex": "1",
        "age": "70",
        "loc": "arm",
        "pruritus": "o",
        "pain": "o",
        "onset": "w",
    }


@pytest.mark.parametrize(
    ("body", "first", "last", "malignancy"),
    [
        (REAL_WITH_MALIGNANCY, ("Insect bite", 0.2728), ("Nonspecific (normal)", 0.0157), 4),
        (REAL_POMPHOLYX, ("Pompholyx", 0.2047), ("Cellulitis", 0.0245), 1),
    ],
)
def test_real_answers_with_malignancy_output(
    body: bytes, first: tuple[str, float], last: tuple[str, float], malignancy: int
) -> None:
    diagnosis = parse_answer(body)
    assert diagnosis.conditions[0] == Condition(*first)
    assert diagnosis.conditions[-1] == Condition(*last)
    assert diagnosis.malignancy_output == malignancy


def test_order_of_the_server_is_kept_even_when_not_sorted() -> None:
    diagnosis = parse_answer(b"<error>0</error><disease>B,0.1,A,0.7</disease>")
    assert [c.name for c in diagnosis.conditions] == ["B", "A"]


def test_tolerant_of_spacing_order_and_missing_optional_tags() -> None:
    body = (
        b"\n  < malignancy_output >2</ malignancy_output>\n"
        b"<disease>\n  Eczema, dyshidrotic , 0.5 ,Tinea (corporis),1e-3,"
        b"Pityriasis rosea/versicolor,27.5%, Naevus d'Ota-type, .2 </disease>\n"
        b"<error> 0 </error>"
    )
    diagnosis = parse_answer(body)
    assert diagnosis.conditions == (
        Condition("Eczema, dyshidrotic", 0.5),
        Condition("Tinea (corporis)", 0.001),
        Condition("Pityriasis rosea/versicolor", 0.275),
        Condition("Naevus d'Ota-type", 0.2),
    )
    assert diagnosis.malignancy_output == 2
    assert diagnosis.meta_used is None
    assert diagnosis.photos_analysed is None
    assert diagnosis.echoed_metadata == {}


def test_fewer_and_more_than_ten_pairs() -> None:
    three = ",".join(f"C{i},0.{i}" for i in range(1, 4))
    fifteen = ",".join(f"Condition {i},0.0{i % 10}" for i in range(15))
    assert len(parse_answer(f"<disease>{three}</disease>".encode()).conditions) == 3
    assert len(parse_answer(f"<disease>{fifteen}</disease>".encode()).conditions) == 15


def test_a_trailing_name_without_probability_is_ignored() -> None:
    diagnosis = parse_answer(b"<error>0</error><disease>Acne,0.6,Rosacea,0.3,Milia</disease>")
    assert [c.name for c in diagnosis.conditions] == ["Acne", "Rosacea"]


def test_unicode_escapes_are_decoded_and_raw_utf8_is_kept() -> None:
    escaped = (
        b"<disease>Ecz\\u00e9ma,0.4,\\ud83d\\ude00 face,0.1</disease>"
        b"<loc>\\u0440\\u0443\\u043a\\u0430</loc>"
    )
    diagnosis = parse_answer(escaped)
    assert diagnosis.conditions[0].name == "Eczéma"
    assert diagnosis.conditions[1].name == "😀 face"
    assert diagnosis.echoed_metadata["loc"] == "рука"
    raw = "<disease>Eczéma,0.4,Lichen plan (érosif),0.2</disease><loc>рука</loc>".encode()
    diagnosis = parse_answer(raw)
    # unicode_escape on these bytes would give "EczÃ©ma"; the parser must not.
    assert diagnosis.conditions[0].name == "Eczéma"
    assert diagnosis.conditions[1].name == "Lichen plan (érosif)"
    assert diagnosis.echoed_metadata["loc"] == "рука"


@pytest.mark.parametrize(
    "body",
    [
        b"<error>0</error><disease>Acne,0.6,Rosacea,0.5</disease>",
        b"<disease>Acne,60%,Rosacea,41%</disease>",
        b'{"error": 0, "disease": [["Acne", 0.7], ["Rosacea", 0.7]]}',
        ("<disease>" + ",".join(f"C{i},0.1010" for i in range(10)) + "</disease>").encode(),
    ],
)
def test_probabilities_adding_up_to_more_than_one_are_not_a_readable_answer(body: bytes) -> None:
    # The outputs are a softmax: the top ten of the real answers add up to 0.75-0.96.
    with pytest.raises(AnswerError, match="add up to more than 100%"):
        parse_answer(body)


def test_four_decimal_rounding_may_push_the_sum_a_hair_over_one() -> None:
    # Ten values rounded to four decimals can each be up to 0.00005 too high.
    body = ("<disease>" + ",".join(f"C{i},0.10005" for i in range(10)) + "</disease>").encode()
    assert len(parse_answer(body).conditions) == 10


def test_names_are_cleaned_of_control_direction_and_invisible_characters() -> None:
    body = (
        "<disease>Mela\u200bnoma\u202e\nYou are healthy\u2066,0.4,"
        "Tinea\r\n  corporis\u0007\u001b[31m\ufeff,0.2,"
        "\u00adSoft\u00ad hyphen\u200e\u200f,0.1</disease>"
        "<loc>arm\u202e\n</loc>"
    ).encode()
    diagnosis = parse_answer(body)
    assert [c.name for c in diagnosis.conditions] == [
        "Melanoma You are healthy",
        "Tinea corporis[31m",
        "Soft hyphen",
    ]
    assert diagnosis.echoed_metadata["loc"] == "arm"


def test_a_name_of_nothing_but_invisible_characters_is_not_a_name() -> None:
    with pytest.raises(AnswerError, match="without a condition name"):
        parse_answer("<disease>\u200b\u202e\n,0.4</disease>".encode())


def test_an_escaped_angle_bracket_in_a_value_cannot_forge_a_tag() -> None:
    body = b"<loc>arm\\u003c/loc\\u003e<disease>Fake,1.0</disease></loc><disease>Real,0.9</disease>"
    diagnosis = parse_answer(body)
    assert diagnosis.conditions == (Condition("Real", 0.9),)


def test_decode_escapes_replaces_lone_surrogates() -> None:
    assert decode_escapes("a\\ud800b") == "a\ufffdb"
    assert decode_escapes("\\U0001F600") == "😀"
    assert decode_escapes("no escapes, é") == "no escapes, é"


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"error": 0, "disease": "Acne,0.6,Rosacea,0.3", "no_photo": 2, "meta_used": 1}),
        json.dumps({"error": "0", "disease": [["Acne", 0.6], ["Rosacea", "0.3"]], "no_photo": 2}),
        json.dumps(
            {
                "disease": [
                    {"name": "Acne", "prob": 0.6},
                    {"label": "Rosacea", "probability": 0.3},
                ],
                "no_photo": "2",
            }
        ),
    ],
)
def test_json_answers(body: str) -> None:
    diagnosis = parse_answer(body.encode(), "application/json; charset=utf-8")
    assert diagnosis.conditions == (Condition("Acne", 0.6), Condition("Rosacea", 0.3))
    assert diagnosis.photos_analysed == 2


def test_json_answer_keeps_malignancy_and_echo() -> None:
    body = json.dumps(
        {"error": 0, "race": 2, "loc": "hand", "disease": [["Acne", 0.6]], "malignancy_output": 3}
    )
    diagnosis = parse_answer(body.encode())
    assert diagnosis.malignancy_output == 3
    assert diagnosis.echoed_metadata == {"race": "2", "loc": "hand"}


@pytest.mark.parametrize(
    ("body", "reason", "in_excerpt"),
    [
        (PROXY_PAGE, "HTML page", "502 Proxy Error"),
        (b"", "empty", ""),
        (b"  \r\n ", "empty", ""),
        (REAL_WITH_MALIGNANCY[:400], "truncated", "<error>0</error>"),
        (b"<error>1</error>", "error '1'", "<error>1</error>"),
        (b"<error>2</error><disease>Acne,0.5</disease>", "error '2'", ""),
        (b"\x00\xff\xfe garbage", "no <disease>", "garbage"),
        (b'{"error": 0, "disease": ', "unreadable JSON", ""),
        (b'{"error": 3}', "error '3'", ""),
        (b"[1, 2]", "not an object", ""),
        (b"<disease>Acne,1.7</disease>", "between 0 and 1", ""),
        (b"<disease>Acne,NaN</disease>", "not a number", ""),
        (b"<disease>0.5,Acne,0.2</disease>", "without a condition name", ""),
        (b"<disease>Only names, no numbers</disease>", "no condition", ""),
        (b"<error>0</error><disease></disease>", "no condition", ""),
        (b"<error>0</error><disease> </disease>", "no condition", ""),
        (b'{"error": 0, "disease": []}', "no condition", ""),
        (b'{"error": 0, "disease": ""}', "no condition", ""),
    ],
)
def test_unusable_answers_raise_answer_error_with_an_excerpt(
    body: bytes, reason: str, in_excerpt: str
) -> None:
    with pytest.raises(AnswerError) as caught:
        parse_answer(body)
    assert reason in caught.value.reason
    assert in_excerpt in caught.value.excerpt
    assert "\n" not in caught.value.excerpt
    assert len(caught.value.excerpt) <= 120


def test_excerpt_is_short_and_single_line() -> None:
    assert excerpt(PROXY_PAGE) == "502 Proxy Error"
    long = excerpt(b"line one\n\n\tline two " + b"x" * 500)
    assert long.startswith("line one line two x")
    assert len(long) == 120


# ------------------------------------------------------------------------ parser properties

names = st.text(
    alphabet=st.characters(
        codec="utf-8",
        categories=("L", "N", "Zs"),
        include_characters="/()-'.&+",
    ),
    min_size=1,
    max_size=40,
).filter(
    lambda s: (
        s.strip() != ""
        and not re.fullmatch(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*%?\s*", s)
        and not re.fullmatch(r"\s*[+-]?(nan|inf(inity)?)\s*", s, re.IGNORECASE)
        and s == unicodedata.normalize("NFC", s)
    )
)


@st.composite
def pairs(draw: st.DrawFn) -> list[tuple[str, int]]:
    """Names with probabilities in ten-thousandths that add up to at most 1, as a softmax's."""
    drawn, left = [], 10_000
    for name in draw(st.lists(names, min_size=1, max_size=15)):
        probability = draw(st.integers(min_value=0, max_value=left))
        left -= probability
        drawn.append((name, probability))
    return drawn


@settings(max_examples=200, deadline=None)
@given(
    pairs=pairs(),
    malignancy=st.none() | st.integers(min_value=0, max_value=9),
    spacing=st.sampled_from([" ", "", "\n", "  \t"]),
    as_json=st.booleans(),
)
def test_well_formed_answers_round_trip(
    pairs: list[tuple[str, int]], malignancy: int | None, spacing: str, as_json: bool
) -> None:
    expected = tuple(Condition(clean_label(name), prob / 10_000) for name, prob in pairs)
    if as_json:
        data: dict[str, object] = {
            "error": 0,
            "no_photo": 3,
            "disease": [list(p) for p in [(c.name, c.probability) for c in expected]],
        }
        if malignancy is not None:
            data["malignancy_output"] = malignancy
        body = json.dumps(data).encode()
    else:
        disease = ",".join(f"{name},{prob / 10_000:.4f}" for name, prob in pairs)
        parts = ["<error>0</error>", "<no_photo>3</no_photo>", f"<disease>{disease}</disease>"]
        if malignancy is not None:
            parts.append(f"<malignancy_output>{malignancy}</malignancy_output>")
        body = spacing.join(parts).encode()
    diagnosis = parse_answer(body)
    assert diagnosis.conditions == expected
    assert diagnosis.malignancy_output == malignancy
    assert diagnosis.photos_analysed == 3


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.binary(max_size=400)
    | st.builds(
        lambda a, b, c: (a + "<disease>" + b + "</disease>" + c).encode(),
        st.text(max_size=40),
        st.text(max_size=80),
        st.text(max_size=40),
    ),
    content_type=st.none() | st.sampled_from(["text/html", "application/json", "x/y"]),
)
def test_arbitrary_bytes_never_raise_anything_but_answer_error(
    body: bytes, content_type: str | None
) -> None:
    try:
        diagnosis = parse_answer(body, content_type)
    except AnswerError as exc:
        assert "\n" not in exc.excerpt
        return
    for condition in diagnosis.conditions:
        assert 0.0 <= condition.probability <= 1.0
        assert condition.name.strip()
