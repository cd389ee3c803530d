"""Exceptions of the creditscore package: the codes, messages and `details` of the HTTP API's
error bodies (docs/API.md), so a Python job and the endpoint report bad input the same way."""

from __future__ import annotations

from typing import NamedTuple


class Issue(NamedTuple):
    """One problem with one field, as an entry of the HTTP API's `details`."""

    path: str
    """`data[i].FIELD`: row i (0-based, in input order) and the field."""
    code: str
    """e.g. `missing_required`, `wrong_type`, `out_of_range`, `unknown_category`, `unknown_field`."""
    reason: str
    expected: str


class CreditscoreError(Exception):
    """Base of the package's errors: `code` is the HTTP API's error code, `message` its text."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class BundleError(CreditscoreError, ValueError):
    """The file is not a usable bundle (code `model_unavailable`, as the endpoint reports it)."""

    path: str | None = None


class ModelImportError(CreditscoreError, ValueError):
    """A model file (or training spec) that cannot become a bundle (code `model_import_failed`),
    as `creditscore import` refuses it: the message says where and why."""


class ValidationError(CreditscoreError, ValueError):
    """Some rows are invalid; nothing was scored (code `validation_error`, HTTP 422).

    `details` lists every issue of the first 100 invalid rows; `invalid_rows` counts them all.
    """

    def __init__(
        self,
        code: str,
        message: str,
        details: list[tuple[str, str, str, str]],
        invalid_rows: int,
    ) -> None:
        super().__init__(code, message)
        self.details = [Issue(*d) for d in details]
        self.invalid_rows = invalid_rows

    def __str__(self) -> str:
        lines = [self.message]
        lines += [f"  {d.path}: {d.reason} (expected {d.expected})" for d in self.details[:20]]
        if len(self.details) > 20:
            lines.append(f"  ... {len(self.details) - 20} more issues")
        return "\n".join(lines)
