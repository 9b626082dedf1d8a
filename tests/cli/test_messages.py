"""What the commands say when they stop: a service's refusal in the glossary's words, a bad option's field and reason
in Vietnamese, and the error line itself."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError

from cli.common import fail, invalid_text, refusal_text
from services.errors import Refusal


class _Leave(BaseModel):
    reason: str = Field(max_length=5)
    days: int = Field(ge=1, le=30)
    deputy: str


def _error(**fields: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        _Leave.model_validate(fields)
    return caught.value


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"reason": "far too long", "days": 2, "deputy": "x"}, "reason: dài quá 5 ký tự"),
        ({"reason": "ok", "days": 0, "deputy": "x"}, "days: phải từ 1 trở lên"),
        ({"reason": "ok", "days": 31, "deputy": "x"}, "days: phải không quá 30"),
        ({"reason": "ok", "days": 3}, "deputy: bắt buộc phải có"),
        ({"reason": "ok", "days": "many", "deputy": "x"}, "days: giá trị không hợp lệ (Input should be"),
    ],
)
def test_a_bad_option_is_named_with_its_reason_in_vietnamese(fields: dict[str, object], said: str) -> None:
    assert invalid_text(_error(**fields)).startswith(said)


def test_a_refusal_reads_in_the_glossarys_words_with_its_field() -> None:
    known = Refusal(404, "round_not_found", "round qd06-2019:2031 not found", field="round_id")
    assert refusal_text(known) == "round_id: Không tìm thấy kỳ đánh giá này."
    named = Refusal(404, "round_not_found", "no round qd06-2019:2031 has been opened", round_id="qd06-2019:2031")
    assert refusal_text(named) == "Không tìm thấy kỳ đánh giá này: qd06-2019:2031"
    font = Refusal(503, "pdf_font_missing", "…", missing=["DejaVuSerif.ttf"], directory="/srv/fonts")
    assert refusal_text(font).endswith(
        "thiếu DejaVuSerif.ttf trong /srv/fonts: đặt XPTT_PDF_FONT_DIR là thư mục có "
        "DejaVuSerif.ttf cùng các kiểu Bold, Italic, BoldItalic (Debian: apt-get install fonts-dejavu-core "
        "fonts-dejavu-extra)"
    )
    unknown = Refusal(422, "some_new_refusal", "the service's own reason")
    assert refusal_text(unknown) == "the service's own reason"


def test_the_error_line_is_vietnamese_and_exits_with_the_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        fail("--round: không có", 2)
    assert exited.value.code == 2
    assert capsys.readouterr().err.startswith("Lỗi: --round: không có")
