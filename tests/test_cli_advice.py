"""`advice-check` and `advice-rules` as an operator runs them (in-process: no API involved)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import EXIT_OK, EXIT_USAGE, main
from bot.cli.advice import rule_table
from bot.domain.advice import DEFAULT_RULES

ROOT = Path(__file__).resolve().parents[1]

CONFIDENT = (
    "<error>0</error> <no_photo>1</no_photo> "
    "<disease>Melanocytic nevus,0.4045,Insect bite,0.1800,Xerotic eczema,0.0761</disease>"
)
CLOSE_CALL = (
    "<error>0</error> <disease>Insect bite,0.2772,Skin tag,0.2716,Melanocytic nevus,0.1242"
    "</disease> <malignancy_output>2</malignancy_output>"
)
NONSPECIFIC = "<error>0</error> <disease>Nonspecific (normal),0.6,Insect bite,0.2</disease>"


def answers_file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "answers.txt"
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    return path


def test_advice_check_prints_each_answer_and_the_share_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = answers_file(tmp_path, CONFIDENT, CLOSE_CALL, NONSPECIFIC, "<html>oops</html>")
    assert main(["advice-check", str(path)]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["1", "Melanocytic", "nevus", "40%", "self_care", "no"]
    assert lines[2].split() == ["2", "Insect", "bite", "28%", "if_no_improvement", "yes"]
    assert lines[3].split() == ["3", "Nonspecific", "(normal)", "60%", "if_no_improvement", "yes"]
    assert lines[4].startswith("  4  unreadable answer")
    assert lines[-1] == "flagged unsure: 2 of 3 answers (67%), threshold 30%"


def test_advice_check_tries_another_threshold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = answers_file(tmp_path, CONFIDENT, CLOSE_CALL)
    assert main(["advice-check", "--unsure-below", "0.45", str(path)]) == EXIT_OK
    assert capsys.readouterr().out.splitlines()[-1] == (
        "flagged unsure: 2 of 2 answers (100%), threshold 45%"
    )
    monkeypatch.setenv("ADVICE_UNSURE_BELOW", "0.2")
    assert main(["advice-check", str(path)]) == EXIT_OK
    assert capsys.readouterr().out.splitlines()[-1] == (
        "flagged unsure: 0 of 2 answers (0%), threshold 20%"
    )


def test_advice_check_of_a_missing_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["advice-check", str(tmp_path / "nope.txt")]) == EXIT_USAGE
    assert "cannot read" in capsys.readouterr().err


def test_advice_rules_prints_the_table_in_force(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADVICE_CANCER_MIN_SCORE", "0.15")
    assert main(["advice-rules"]) == EXIT_OK
    out = capsys.readouterr().out
    assert (
        "| within_2_weeks | a dermatologist within 2 weeks | one of the top 5 AI matches, " in out
    )
    assert "score of at least 15%, is in the cancer list: melanoma, carcinoma," in out


def test_a_wrong_rules_file_is_one_sentence_naming_the_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "rules.json"
    path.write_text('{"unsure_bellow": 0.2}', encoding="utf-8")
    monkeypatch.setenv("ADVICE_RULES_FILE", str(path))
    assert main(["advice-rules"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("modelderm-bot: The setting ADVICE_RULES_FILE is invalid: ")
    assert "unknown advice rule 'unsure_bellow'" in err and "Traceback" not in err


@pytest.mark.parametrize("page", ["advice.md", "result.md"])
def test_docs_hold_the_rule_table_as_the_code_evaluates_it(page: str) -> None:
    docs = (ROOT / "docs" / page).read_text(encoding="utf-8")
    assert rule_table(DEFAULT_RULES) in docs
