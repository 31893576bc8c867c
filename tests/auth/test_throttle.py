"""Login throttling: per resolved account and address, counted atomically, owner not locked out."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from blog.auth import accounts
from blog.auth.throttle import PER_ACCOUNT, PER_ACCOUNT_AND_ADDRESS, PER_ADDRESS
from blog.database import writing
from blog.extensions import db
from blog.models import User
from tests.conftest import PASSWORD, Login, holding_the_write_lock, token_from
from tests.helpers_http import HttpBrowser

ATTACKER = {"REMOTE_ADDR": "198.51.100.7"}
OWNER = {"REMOTE_ADDR": "203.0.113.20"}


def attempt(client: FlaskClient, login: str, password: str, where: dict[str, str]) -> int:
    token = token_from(client.get("/login", environ_base=where).text)
    response = client.post(
        "/login",
        data={"login": login, "password": password, "csrf_token": token},
        environ_base=where,
    )
    return response.status_code


@pytest.fixture
def target(app: Flask, login: Login) -> int:
    user_id = login("author", username="target", browser=app.test_client())
    with app.app_context(), writing():
        db.session.get(User, user_id).email = "target@example.kr"  # type: ignore[union-attr]
    return user_id


def test_an_e_mail_alias_shares_the_account_s_count(app: Flask, target: int) -> None:
    client = app.test_client()
    statuses = [attempt(client, "target", f"guess {n}", ATTACKER) for n in range(10)]
    assert statuses == [422] * PER_ACCOUNT_AND_ADDRESS
    assert attempt(client, "TARGET@example.kr", "guess", ATTACKER) == 429
    assert attempt(client, " Target ", "guess", ATTACKER) == 429


def test_the_owner_signs_in_from_elsewhere_while_an_attacker_is_locked_out(
    app: Flask, target: int
) -> None:
    attacker = app.test_client()
    for n in range(PER_ACCOUNT_AND_ADDRESS):
        attempt(attacker, "target", f"guess {n}", ATTACKER)
    assert attempt(attacker, "target", PASSWORD, ATTACKER) == 429
    assert attempt(app.test_client(), "target", PASSWORD, OWNER) == 303


def test_a_successful_sign_in_does_not_count(app: Flask, target: int) -> None:
    client = app.test_client()
    for _ in range(PER_ACCOUNT_AND_ADDRESS + 5):
        assert attempt(app.test_client(), "target", PASSWORD, OWNER) == 303
    assert attempt(client, "target", "wrong", OWNER) == 422


def test_many_addresses_together_lock_the_account_at_a_much_higher_limit(
    app: Flask, target: int
) -> None:
    client = app.test_client()
    for n in range(PER_ACCOUNT):
        where = {"REMOTE_ADDR": f"192.0.2.{n // PER_ACCOUNT_AND_ADDRESS}"}
        assert attempt(client, "target", f"guess {n}", where) == 422
    assert attempt(client, "target", PASSWORD, {"REMOTE_ADDR": "192.0.2.250"}) == 429


def test_one_address_guessing_many_names_is_stopped(app: Flask) -> None:
    client = app.test_client()
    statuses = [attempt(client, f"name{n}", "guess", ATTACKER) for n in range(PER_ADDRESS + 1)]
    assert statuses[:PER_ADDRESS] == [422] * PER_ADDRESS and statuses[-1] == 429


def test_the_window_passes(app: Flask, target: int) -> None:
    client = app.test_client()
    for n in range(PER_ACCOUNT_AND_ADDRESS):
        attempt(client, "target", f"guess {n}", ATTACKER)
    assert attempt(client, "target", PASSWORD, ATTACKER) == 429
    later = accounts.clock.now() + timedelta(minutes=16)
    app.config["CLOCK"] = lambda: later
    assert attempt(client, "target", PASSWORD, ATTACKER) == 303


def test_parallel_guesses_get_exactly_the_allowed_number_of_checks(
    app: Flask, live_server: str, target: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[str] = []
    real_check = accounts.check_password_hash

    def counting_check(password_hash: str, password: str) -> bool:
        checks.append(password)
        return real_check(password_hash, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting_check)
    browsers = [HttpBrowser(live_server) for _ in range(40)]
    for browser in browsers:
        browser.token = token_from(browser.request("/login").text)
    statuses: list[int] = []
    barrier = threading.Barrier(len(browsers))

    def guess(browser: HttpBrowser, number: int) -> Any:
        barrier.wait()
        statuses.append(
            browser.request("/login", {"login": "target", "password": f"g{number}"}).status
        )

    threads = [threading.Thread(target=guess, args=(b, n)) for n, b in enumerate(browsers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(statuses) == [422] * PER_ACCOUNT_AND_ADDRESS + [429] * 30
    assert len(checks) == PER_ACCOUNT_AND_ADDRESS


def test_ipv6_addresses_count_by_their_64_network() -> None:
    from blog.auth.throttle import address_key

    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:198.51.100.7") == "198.51.100.7" == address_key("198.51.100.7")
    assert address_key("not an address") == "not an address"


def test_a_stolen_session_cannot_guess_the_current_password(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    from tests.conftest import post_form

    login("author")
    for number in range(PER_ACCOUNT_AND_ADDRESS):
        answer = post_form(client, "/account", {"password-current_password": f"guess {number}",
                                                "password-password": "a brand new secret",
                                                "password-confirm": "a brand new secret",
                                                "password-submit": "1"})  # fmt: skip
        assert "This is not your current password." in answer.text
    blocked = post_form(client, "/account", {"password-current_password": PASSWORD,
                                             "password-password": "a brand new secret",
                                             "password-confirm": "a brand new secret",
                                             "password-submit": "1"})  # fmt: skip
    assert blocked.status_code == 422 and "Too many failed attempts" in blocked.text


def test_signed_in_readers_never_wait_for_the_write_lock(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    from blog.models import LoginSession

    login("author")
    later = accounts.clock.now() + timedelta(minutes=10)  # the session is due a touch
    app.config["CLOCK"] = lambda: later
    with holding_the_write_lock(app) as release:
        timer = threading.Timer(3, release)
        timer.start()  # a reader that waited would get the lock after 3 s and write
        try:
            assert client.get("/admin/").status_code == 200
        finally:
            timer.join()
    with app.app_context():
        seen = db.session.execute(db.select(LoginSession.last_seen_at)).scalar_one()
    assert seen < later  # the touch gave up at once instead of waiting
