"""Sign-in providers come from environment variables only: documented, checked at start,
and a half-configured provider stops the start naming the variable to fix."""

from __future__ import annotations

import pytest

from contests.errors import ConfigurationError
from oauth.providers import GOOGLE_ISSUER, fixed_variables, load_providers
from tests.support.env_example import EXAMPLE, documented


def test_every_provider_variable_is_documented_with_its_default() -> None:
    values = documented()
    for name, default in fixed_variables().items():
        assert name in values, f"add {name} to .env.example"
        assert values[name] == default, f"{name}: .env.example says {values[name]!r}"
    text = EXAMPLE.read_text(encoding="utf-8")
    for suffix in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET", "LABEL"):
        assert f"OIDC_KEYCLOAK_{suffix}=" in text


def test_the_documented_defaults_configure_the_real_endpoints() -> None:
    providers = load_providers(
        {
            **documented(),
            "GOOGLE_CLIENT_ID": "g",
            "GOOGLE_CLIENT_SECRET": "gs",
            "GITHUB_CLIENT_ID": "h",
            "GITHUB_CLIENT_SECRET": "hs",
        }
    )
    assert list(providers) == ["google", "github"]
    assert providers["google"].issuer == GOOGLE_ISSUER
    assert providers["google"].discovery_url == (
        "https://accounts.google.com/.well-known/openid-configuration"
    )
    github = providers["github"].endpoints
    assert github is not None and github.api == "https://api.github.com/"


def test_four_variables_add_any_openid_connect_provider() -> None:
    providers = load_providers(
        {
            "OIDC_PROVIDERS": "Keycloak, company_sso",
            "OIDC_KEYCLOAK_ISSUER": "https://sso.example.com/realms/staff",
            "OIDC_KEYCLOAK_CLIENT_ID": "gymkana",
            "OIDC_KEYCLOAK_CLIENT_SECRET": "s3cret",
            "OIDC_KEYCLOAK_LABEL": "Staff account",
            "OIDC_COMPANY_SSO_ISSUER": "https://login.example.org/",
            "OIDC_COMPANY_SSO_CLIENT_ID": "c",
            "OIDC_COMPANY_SSO_CLIENT_SECRET": "cs",
        }
    )
    keycloak, company = providers["keycloak"], providers["company_sso"]
    assert keycloak.label == "Staff account" and keycloak.protocol == "oidc"
    assert keycloak.discovery_url == (
        "https://sso.example.com/realms/staff/.well-known/openid-configuration"
    )
    assert company.label == "Company Sso"
    assert company.discovery_url == "https://login.example.org/.well-known/openid-configuration"
    assert "s3cret" not in repr(keycloak)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"GITHUB_CLIENT_ID": "id"}, "GITHUB_CLIENT_SECRET"),
        ({"X_CLIENT_SECRET": "secret"}, "X_CLIENT_ID"),
        ({"OIDC_PROVIDERS": "corp"}, "OIDC_CORP_ISSUER"),
        (
            {"OIDC_PROVIDERS": "corp", "OIDC_CORP_ISSUER": "https://corp.example"},
            "OIDC_CORP_CLIENT_ID",
        ),
        (
            {
                "OIDC_PROVIDERS": "corp",
                "OIDC_CORP_ISSUER": "http://corp.example",
                "OIDC_CORP_CLIENT_ID": "c",
                "OIDC_CORP_CLIENT_SECRET": "s",
            },
            "OIDC_CORP_ISSUER: must be an https:// URL",
        ),
        (
            {"GITHUB_CLIENT_ID": "i", "GITHUB_CLIENT_SECRET": "s", "GITHUB_API_URL": "ftp://x"},
            "GITHUB_API_URL",
        ),
        ({"OIDC_PROVIDERS": "google"}, "taken by a built-in provider"),
        ({"OIDC_PROVIDERS": "a-b"}, "not a usable name"),
        ({"OIDC_PROVIDERS": "corp,corp"}, "listed twice"),
    ],
)
def test_a_half_configured_provider_names_the_variable_to_fix(
    environ: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        load_providers(environ)


def test_plain_http_is_accepted_only_on_loopback() -> None:
    for issuer in ("http://127.0.0.1:8080", "http://localhost:9000/realms/x"):
        providers = load_providers(
            {
                "OIDC_PROVIDERS": "dev",
                "OIDC_DEV_ISSUER": issuer,
                "OIDC_DEV_CLIENT_ID": "c",
                "OIDC_DEV_CLIENT_SECRET": "s",
            }
        )
        assert providers["dev"].issuer == issuer
