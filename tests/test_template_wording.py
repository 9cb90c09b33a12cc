"""How the templates read to a person: the same name for each party, words rather than "(s)"."""

from __future__ import annotations

from templates import TEMPLATE_DIR


def _zh_sources() -> dict[str, str]:
    root = TEMPLATE_DIR / "zh_CN"
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in root.rglob("*.j2")}


def test_chinese_calls_the_lender_by_one_name() -> None:
    mixed = sorted(name for name, text in _zh_sources().items() if "出借方" in text)
    assert not mixed, f"出借方 still used (the lender is 贷款机构): {mixed}"
