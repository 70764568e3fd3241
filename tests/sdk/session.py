"""Replay a realistic customer session through an unmodified Python SDK.

Usage: python session.py segment|rudder HOST WRITE_KEY PREFIX

Prints one JSON line: {"sdk": ..., "sent": N, "errors": [...]}; exits non-zero if the SDK
reported any delivery error. The Rust test `crates/herald/tests/sdks.rs` asserts the resulting
profile through Herald's admin API.
"""

import json
import sys
from datetime import datetime, timedelta, timezone


def main():
    sdk, host, write_key, prefix = sys.argv[1:5]
    errors = []

    def on_error(error, items):
        errors.append(f"{error!r} ({len(items)} events)")

    if sdk == "segment":
        from segment.analytics import Client

        client = Client(write_key, host=host, on_error=on_error, gzip=False, max_retries=1)
    elif sdk == "rudder":
        from rudderstack.analytics import Client

        client = Client(write_key, host=host, on_error=on_error, gzip=True, max_retries=1)
    else:
        raise SystemExit(f"unknown sdk {sdk!r}")

    user = f"{prefix}-user"
    laptop = f"{prefix}-anon-laptop"
    phone = f"{prefix}-anon-phone"
    account = f"{prefix}-acme"
    web = {"timezone": "Europe/Lisbon", "locale": "pt-PT", "page": {"path": "/"}}
    # The session started a few minutes ago; explicit timestamps keep the order deterministic.
    start = datetime.now(timezone.utc) - timedelta(minutes=10)
    at = lambda minute: start + timedelta(minutes=minute)  # noqa: E731

    sent = 0
    # Anonymous browsing on the laptop.
    client.page(anonymous_id=laptop, name="Home", properties={"path": "/"}, context=web, timestamp=at(0))
    client.page(anonymous_id=laptop, name="Pricing", properties={"path": "/pricing"}, context=web, timestamp=at(1))
    client.track(anonymous_id=laptop, event="Plan Viewed", properties={"plan": "pro"}, context=web, timestamp=at(2))
    sent += 3
    # Sign-up: identify ties the laptop to the user.
    client.identify(
        user_id=user,
        anonymous_id=laptop,
        traits={"email": f"{prefix}@example.com", "name": "Ana Silva", "plan": "trial"},
        context=web,
        timestamp=at(3),
    )
    client.track(user_id=user, event="Signed Up", properties={"source": "pricing"}, context=web, timestamp=at(4))
    client.group(user_id=user, group_id=account, traits={"name": "Acme Lda", "employees": 42}, context=web, timestamp=at(5))
    client.identify(user_id=user, traits={"plan": "pro"}, context=web, timestamp=at(6))
    sent += 4
    # Later, on the phone, still anonymous; then the app aliases the device to the user.
    client.screen(anonymous_id=phone, name="Dashboard", properties={"tab": "home"}, timestamp=at(7))
    client.alias(previous_id=phone, user_id=user, timestamp=at(8))
    client.track(user_id=user, event="Order Completed", properties={"revenue": 49.9, "currency": "EUR"}, timestamp=at(9))
    sent += 3

    client.flush()
    client.shutdown()
    print(json.dumps({"sdk": sdk, "sent": sent, "errors": errors}))
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
