"""Identity checks: Chinese resident ID numbers (GB 11643), phone numbers (E.164), names, loan references."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import phonenumbers

from dialogs.errors import InvalidIdNumber, InvalidInput, InvalidPhone

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"  # ISO 7064 MOD 11-2, indexed by the weighted sum mod 11
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
# First two digits: the province-level division (GB/T 2260), 71/81/82 for Taiwan, Hong Kong, Macao.
_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}
)
_EARLIEST_BIRTH = date(1900, 1, 1)


@dataclass(frozen=True, slots=True)
class ResidentId:
    number: str
    birth_date: date


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def validate_resident_id(text: str, *, today: date | None = None) -> ResidentId:
    """Normalise and check an 18-character resident ID number: shape, check digit, region, birth date.

    The check digit comes first: it catches most typing mistakes, and its message is the most useful.
    """
    if not isinstance(text, str):
        raise InvalidIdNumber("an ID number must be text")
    number = re.sub(r"[\s-]", "", text).upper()
    if not _ID_SHAPE.fullmatch(number):
        raise InvalidIdNumber("an ID number has 18 characters: 17 digits and a last digit or X")
    if id_check_char(number[:17]) != number[17]:
        raise InvalidIdNumber("the last character of this ID number does not match the others (check digit)")
    if int(number[:2]) not in _PROVINCES:
        raise InvalidIdNumber("the first two digits of this ID number are not a known region")
    birth = _birth_date(number[6:14])
    if not _EARLIEST_BIRTH <= birth <= (today or date.today()):
        raise InvalidIdNumber("the birth date in this ID number is not possible")
    return ResidentId(number=number, birth_date=birth)


def _birth_date(digits: str) -> date:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise InvalidIdNumber("the birth date in this ID number is not a real date") from None


def normalise_phone(text: str, *, default_region: str = "CN") -> str:
    """Return the phone number in E.164 (``+8613812345678``); numbers without a country code are Chinese."""
    if not isinstance(text, str) or not text.strip() or len(text) > 40:
        raise InvalidPhone("a phone number is needed, such as 138 1234 5678")
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(f"{text!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone(f"{text!r} is not a valid phone number")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


class InvalidName(InvalidInput):
    """Text that cannot be a person's name: digits, emoji or other symbols (often a loan reference)."""


# Inside names: the middle dots of transliterated names (阿卜杜·热合曼), hyphens and apostrophes.
_NAME_MARKS = frozenset("·•・‧.'’-‐ ")
_REF_NOISE = re.compile(r"[\s\-‐‑‒–—―_]+")


def check_person_name(text: str, *, max_len: int = 50) -> str:
    """The name with its spaces tidied, if it is made of letters (any script) and the marks names carry.

    Checked in NFKC (a full-width ``１`` is a digit too) but returned as typed: the loan book's spelling
    is compared with what the person typed, not with a folded form of it.
    """
    name = " ".join(text.split())
    folded = unicodedata.normalize("NFKC", name)
    if not name or len(name) > max_len:
        raise InvalidName(f"a name has 1 to {max_len} characters")
    if any(not _in_name(char) for char in folded):
        raise InvalidName("a name has letters only: no digits, emoji or symbols")
    if not any(unicodedata.category(char).startswith("L") for char in folded):
        raise InvalidName("a name has at least one letter")
    return name


def _in_name(char: str) -> bool:
    return char in _NAME_MARKS or unicodedata.category(char)[0] in "LM"


# A space beside a Han character: people often type one between family and given name (张 伟), which
# the loan book does not write; between two Latin words a space is part of the name and stays.
_SPACE_BESIDE_HAN = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff]) | (?=[\u3400-\u9fff\uf900-\ufaff])")


def same_person_name(typed: str, booked: str) -> bool:
    """Whether a typed name is the loan book's: spaces tidied, and none beside a Han character."""
    return _name_key(typed) == _name_key(booked)


def _name_key(name: str) -> str:
    return _SPACE_BESIDE_HAN.sub("", " ".join(name.split()))


def normalise_loan_ref(text: str) -> str:
    """A loan reference as compared: full-width folded, upper case, without spaces, dashes or underscores.

    People copy references from apps and contracts with stray spaces, dashes and lower case
    (``demo-0001``, `` DEMO 0001 ``); none of those tell two loans apart.
    """
    # Folded again after the noise goes: a removed space may have carried a combining accent.
    spaced = unicodedata.normalize("NFKC", text).upper()
    return unicodedata.normalize("NFKC", _REF_NOISE.sub("", spaced)).upper()
