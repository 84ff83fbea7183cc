"""decode_upload: decode what can be told apart for certain, refuse the rest, never guess."""

from __future__ import annotations

import codecs

import pytest
from django.core.exceptions import ValidationError

from core.text_files import NOT_CSV, NOT_TEXT, decode_upload

ROW = "Zoë O’Brien,zoe@example.org,Employee\r\n"


@pytest.mark.parametrize(
    "data",
    [
        ROW.encode("utf-8"),
        codecs.BOM_UTF8 + ROW.encode("utf-8"),
        ROW.encode("utf-16"),  # with its byte-order mark, in this machine's byte order
        codecs.BOM_UTF16_LE + ROW.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + ROW.encode("utf-16-be"),
        codecs.BOM_UTF32_LE + ROW.encode("utf-32-le"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16", "utf-16-le", "utf-16-be", "utf-32-le"],
)
def test_unicode_with_or_without_a_byte_order_mark_is_read(data):
    assert decode_upload(data) == ROW


@pytest.mark.parametrize(
    "text",
    ["Renée Dupont,renee@example.org\r\n", "Conceição Zoë O’Brien – “Head” £5 €3\n", "Søren Ærø,x\n"],
)
def test_windows_1252_latin_text_is_read(text):
    assert decode_upload(text.encode("cp1252")) == text


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("山田太郎,yamada@example.jp\n", "shift_jis"),
        ("佐藤,sato@example.jp\n", "shift_jis"),
        ("ヤマダ ハナコ,hanako@example.jp\n", "shift_jis"),
        ("王小明,wang@example.cn\n", "gb2312"),
        ("Иван Петров,ivan@example.ru\n", "koi8-r"),
        ("Иван Петров,ivan@example.ru\n", "cp1251"),
    ],
)
def test_other_legacy_encodings_are_refused_not_decoded_as_windows_1252(text, encoding):
    with pytest.raises(ValidationError) as caught:
        decode_upload(text.encode(encoding))
    assert caught.value.messages == [NOT_TEXT]


def test_binary_and_utf16_without_its_mark_are_refused():
    for data in (b"PK\x03\x04\x00\x00binary", ROW.encode("utf-16-le")):
        with pytest.raises(ValidationError) as caught:
            decode_upload(data)
        assert caught.value.messages == [NOT_CSV]


def test_a_damaged_file_behind_a_byte_order_mark_is_refused():
    with pytest.raises(ValidationError, match="damaged"):
        decode_upload(codecs.BOM_UTF8 + b"Zo\xeb\n")
