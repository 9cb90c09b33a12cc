"""Documents on the terminal (trial 2: the terminal never said where a received document was): each is shown
and saved as a file in the person's own folder, and the message says its full path, in their language."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.channels.terminal import TerminalChannel
from bot.channels.terminal_files import documents_folder
from bot.rendering import Rendered
from dialogs.domain import Account, Channel, Role
from storage.signed_agreement import check_document
from storage.signing import Signer
from tests.channels.test_terminal import chat, env  # noqa: F401 - env is a fixture
from tests.dialogs.harness import running_bot
from tests.dialogs.test_signed_agreement import agree, delivered

ALICE = Account(1, Channel.TERMINAL, "alice", Role.BORROWER, "en", "Asia/Shanghai", reachable=True)


def test_mydata_is_saved_where_the_terminal_says(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    files = tmp_path / "files"
    shown = chat({**env, "LOANBRIDGE_TERMINAL_FILES": str(files)}, tmp_path, ["/mydata"])
    saved = files / "alice" / "loanbridge-my-data.json"
    assert f"Saved on this computer as {saved} (only your user account can open it)." in shown.stdout
    assert json.loads(saved.read_text("utf-8"))["format"] == "loanbridge-personal-data/2"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600  # it holds their ID number and phone
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700

    home = tmp_path / "home"  # not configured: ~/LoanBridge/<user>
    unset = {name: value for name, value in env.items() if name != "LOANBRIDGE_TERMINAL_FILES"}
    again = chat({**unset, "HOME": str(home), "LANG": "zh_CN.UTF-8"}, tmp_path, ["/mydata"], user="bob")
    default = home / "LoanBridge" / "bob" / "loanbridge-my-data.json"
    assert f"已保存到本机：{default}（只有您的系统账户可以打开）。" in again.stdout
    assert default.is_file()


async def test_the_signed_agreement_saved_by_the_terminal_still_checks(
    database_url: str, clock: Any, tmp_path: Path
) -> None:
    signer = Signer(Ed25519PrivateKey.generate())
    async with running_bot(database_url, clock, signer=signer) as bot:
        alice, _ = await agree(bot)
        await bot.store.sequence_log()
        await delivered(bot)
        (signed,) = [m for m in alice.received() if m.file_name == "agreement-1-v1-signed.txt"]
        account = await bot.store.ensure_account(Channel.TERMINAL, "alice")
    screen = io.StringIO()
    folder = documents_folder(str(tmp_path / "docs"), "alice")
    await TerminalChannel("alice", screen, files=folder).send(account, signed)
    saved = folder / "agreement-1-v1-signed.txt"
    assert f"Saved on this computer as {saved}" in screen.getvalue()
    assert check_document(saved.read_text("utf-8"), signer.public_key).ok
    assert "Confirmations of this text (version 1)" in saved.read_text("utf-8")


async def test_a_folder_that_cannot_be_written_is_said_and_the_document_is_still_shown(
    tmp_path: Path,
) -> None:
    blocked = tmp_path / "taken"
    blocked.write_text("a file where the folder should be")
    screen = io.StringIO()
    document = Rendered("REPAYMENT AGREEMENT &amp; terms", file_name="agreement-1-v1.txt")
    await TerminalChannel("alice", screen, files=blocked / "alice").send(ALICE, document)
    shown = screen.getvalue()
    assert "REPAYMENT AGREEMENT & terms" in shown
    assert f"I could not save it as a file in {blocked / 'alice'} (" in shown
    assert "It is shown in full above: you can copy it from there." in shown


async def test_a_file_name_cannot_leave_the_folder(tmp_path: Path) -> None:
    screen = io.StringIO()
    folder = tmp_path / "alice"
    await TerminalChannel("alice", screen, files=folder).send(ALICE, Rendered("x", file_name="../../.bashrc"))
    assert [p.name for p in folder.iterdir()] == ["bashrc"]
    assert not (tmp_path / ".bashrc").exists() and not (tmp_path.parent / ".bashrc").exists()


async def test_a_document_begins_and_ends_in_the_readers_language(tmp_path: Path) -> None:
    screen = io.StringIO()
    mei = Account(2, Channel.TERMINAL, "mei", Role.BORROWER, "zh_CN", "Asia/Shanghai", reachable=True)
    document = Rendered("还款协议", file_name="agreement-1-v1.txt")
    await TerminalChannel("mei", screen, files=tmp_path / "mei").send(mei, document)
    shown = screen.getvalue()
    assert "--- agreement-1-v1.txt ---\n还款协议\n--- agreement-1-v1.txt 到此结束 ---" in shown
    assert "end of" not in shown


async def test_a_saved_json_file_is_not_printed_over_the_words_that_explain_it(tmp_path: Path) -> None:
    screen = io.StringIO()
    export = json.dumps({"format": "loanbridge-personal-data/2", "padding": "x" * 3000})
    folder = tmp_path / "alice"
    channel = TerminalChannel("alice", screen, files=folder)
    await channel.send(ALICE, Rendered(export, file_name="loanbridge-my-data.json"))
    shown = screen.getvalue()
    assert "x" * 100 not in shown  # the file is saved, not printed
    assert "The file loanbridge-my-data.json (3 KB, machine-readable) is not printed here" in shown
    assert f"Saved on this computer as {folder / 'loanbridge-my-data.json'}" in shown
    assert json.loads((folder / "loanbridge-my-data.json").read_text("utf-8"))["padding"] == "x" * 3000

    unsaved = io.StringIO()  # no folder to save it in: then the screen is the only copy, shown in full
    await TerminalChannel("alice", unsaved).send(ALICE, Rendered(export, file_name="loanbridge-my-data.json"))
    assert "x" * 3000 in unsaved.getvalue()
