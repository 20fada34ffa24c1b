"""Schemathesis hooks for the Wushe contract test (loaded through SCHEMATHESIS_HOOKS).

They keep the fuzzer from locking or disabling the accounts the test itself uses, without
excluding any operation. Three operations could do that, and each is fuzzed with throwaway
targets instead:

- POST /api/v1/auth/token: five wrong passwords lock an account, so every generated string
  `username` is replaced by a throwaway account's name (the password stays as generated, so
  the throwaway account does get locked, which is fine).
- PUT /api/v1/users/{id}/active: a generated `id` that names one of the demo accounts is
  replaced by the throwaway account's id.
- DELETE /api/v1/tokens/{id}: a generated `id` that names a token the test signed in with is
  replaced by a spare token's id.

Only values of the right type are touched (an integer, or a string of digits as the coverage
phase sends path parameters), so a case stays positive or negative as generated
(schemathesis revalidates a case that a hook has edited).

The ids come from $CONTRACT_PROTECT, a JSON object written by run.py:
{"throwaway_username": str, "throwaway_user_id": int, "protected_user_ids": [int],
 "protected_token_ids": [int], "spare_token_id": int}
"""

from __future__ import annotations

import json
import os

import schemathesis

_PROTECT = json.loads(os.environ.get("CONTRACT_PROTECT", "{}"))


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _operation(ctx) -> tuple[str, str]:
    op = ctx.operation
    if op is None:
        return "", ""
    return str(op.method).upper(), op.path


def _swap_id(case, protected: list[int], replacement: int) -> None:
    """Replace path parameter `id` by `replacement` when it names a protected id."""
    pp = case.path_parameters or {}
    value = pp.get("id")
    if _is_int(value):
        if value in protected:
            case.path_parameters = {**pp, "id": replacement}
    elif isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            return
        if number in protected:
            case.path_parameters = {**pp, "id": str(replacement)}


@schemathesis.hook
def before_call(ctx, case, kwargs):
    if not _PROTECT:
        return
    method, path = _operation(ctx)
    if method == "POST" and path.endswith("/auth/token"):
        body = case.body
        if isinstance(body, dict) and isinstance(body.get("username"), str):
            case.body = {**body, "username": _PROTECT["throwaway_username"]}
    elif method == "PUT" and path.endswith("/users/{id}/active"):
        _swap_id(case, _PROTECT["protected_user_ids"], _PROTECT["throwaway_user_id"])
    elif method == "DELETE" and path.endswith("/tokens/{id}"):
        _swap_id(case, _PROTECT["protected_token_ids"], _PROTECT["spare_token_id"])
