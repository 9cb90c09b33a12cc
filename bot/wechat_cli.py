"""``loanbridge wechat …``: the Official Account's custom menu, invites as QR codes, what waits for people.

- ``wechat menu [--locale zh_CN]`` publishes the custom menu: "my case" (status, the case's home), legal help,
  talk to a person. Its words are the ``wechat_menu_*`` labels of the locale; its keys are what the callback
  maps to commands (:data:`bot.channels.wechat.MENU_KEYS`).
- ``wechat invite LENDER [--hours N]`` issues a one-time staff invite and a temporary QR code carrying it:
  scanning it (following the account, or already following) sends ``/start CODE`` for that person.
- ``wechat waiting`` counts the messages waiting for their person to write again (outside WeChat's 48-hour
  window), told by a template message or not (no template configured for their kind).
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from bot.app import opened_store
from bot.channels.wechat_api import WeChatApi, WeChatError
from bot.rendering import Renderer
from bot.settings import Settings, SettingsError
from dialogs.locales import LOCALES
from dialogs.ports import SystemClock
from storage.store import SqlStore

SHOW_QR = "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket="
MAX_QR_SECONDS = 30 * 24 * 3600  # WeChat's limit for a temporary QR code


def menu_buttons(renderer: Renderer, locale: str) -> list[dict[str, Any]]:
    """The custom menu: at most three top-level entries (WeChat's limit), the case's two under one."""

    def click(label: str, key: str) -> dict[str, Any]:
        return {"type": "click", "name": renderer.label(locale, label), "key": key}

    return [
        {
            "name": renderer.label(locale, "wechat_menu_case"),
            "sub_button": [click("wechat_menu_status", "status"), click("wechat_menu_home", "case")],
        },
        click("wechat_menu_legal", "legal"),
        click("wechat_menu_person", "person"),
    ]


def _api(settings: Settings, store: SqlStore) -> WeChatApi:
    if not settings.wechat_app_id:
        raise SettingsError("LOANBRIDGE_WECHAT_APP_ID: not set")
    if settings.wechat_app_secret is None:
        raise SettingsError("LOANBRIDGE_WECHAT_APP_SECRET: not set")
    secret = settings.wechat_app_secret.get_secret_value()
    return WeChatApi(settings.wechat_app_id, secret, store, SystemClock(), settings.wechat_api_url)


async def publish_menu(args: argparse.Namespace, settings: Settings) -> int:
    buttons = menu_buttons(Renderer(), args.locale)
    async with opened_store(settings) as store:
        api = _api(settings, store)
        try:
            await api.create_menu(buttons)
        except WeChatError as error:
            print(f"WeChat refused the menu: {error}")
            return 1
        finally:
            await api.close()
    names = ", ".join(b["name"] for b in buttons)
    print(f"custom menu published ({args.locale}): {names}")
    return 0


async def invite(args: argparse.Namespace, settings: Settings) -> int:
    valid_for = timedelta(hours=args.hours)
    seconds = min(int(valid_for.total_seconds()), MAX_QR_SECONDS)
    async with opened_store(settings) as store:
        api = _api(settings, store)
        try:
            code = await store.create_invite(args.name, valid_for)
            qr = await api.create_qr(code, seconds)
        except WeChatError as error:
            print(f"WeChat refused the QR code: {error}")
            return 1
        finally:
            await api.close()
    ticket = str(qr.get("ticket", ""))
    print(f"invite for {args.name!r}: {code}")
    print(f"QR code (valid once, for {args.hours} hours): {SHOW_QR}{quote(ticket)}")
    print("the staff member scans it in WeChat, or sends /start CODE to the account")
    return 0


async def waiting(args: argparse.Namespace, settings: Settings) -> int:
    async with opened_store(settings) as store:
        count = await store.wechat_waiting()
    print(f"{count.total} WeChat messages wait for their person to write again (outside the 48-hour window)")
    print(f"  told by a template message: {count.notified}")
    print(f"  not told (no template for their kind; see LOANBRIDGE_WECHAT_TEMPLATES): {count.not_notified}")
    return 0


def add_commands(commands: Any) -> None:
    """The ``wechat`` subcommands, under ``loanbridge``'s subparsers."""
    wechat = commands.add_parser("wechat", help="the WeChat Official Account").add_subparsers(
        dest="action", required=True
    )
    menu = wechat.add_parser("menu", help="publish the custom menu (status, my case, legal help, a person)")
    menu.add_argument("--locale", default="zh_CN", choices=sorted(LOCALES))
    menu.set_defaults(run=publish_menu)
    qr = wechat.add_parser("invite", help="a lender-staff invite as a QR code to scan in WeChat")
    qr.add_argument("name", help="the lender's name")
    qr.add_argument("--hours", type=int, default=72, choices=range(1, 24 * 30 + 1), metavar="HOURS")
    qr.set_defaults(run=invite)
    count = wechat.add_parser("waiting", help="count the messages waiting for people outside the window")
    count.set_defaults(run=waiting)
