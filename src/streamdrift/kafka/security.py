"""Kafka connection security: TLS and SASL (PLAIN, SCRAM-SHA-256/512) options for clients.

Every Kafka client streamdrift creates (worker, client library, CLI) takes its options
from :func:`client_options`. Secrets never reach logs: the password is not part of the
settings' ``repr`` and :func:`describe` prints the security set-up without it.
"""

from __future__ import annotations

import ssl
from typing import Any

from streamdrift.config.settings import ConfigError, Settings

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def validate(settings: Settings) -> None:
    """Fail fast on an impossible combination, naming the setting to fix."""
    protocol = settings.security_protocol.upper()
    if protocol not in PROTOCOLS:
        raise ConfigError(f"security_protocol: one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    if protocol.startswith("SASL"):
        if settings.sasl_mechanism.upper() not in MECHANISMS:
            raise ConfigError(
                f"sasl_mechanism: one of {', '.join(MECHANISMS)} is needed with {protocol}"
            )
        if not settings.sasl_username or not settings.sasl_password:
            raise ConfigError(
                f"sasl_username and sasl_password: both are needed with {protocol} "
                "(STREAMDRIFT_SASL_USERNAME, STREAMDRIFT_SASL_PASSWORD)"
            )
    if bool(settings.ssl_certfile) != bool(settings.ssl_keyfile):
        raise ConfigError("ssl_certfile and ssl_keyfile: give both for a client certificate")


def ssl_context(settings: Settings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=settings.ssl_cafile or None)
    if settings.ssl_certfile:
        context.load_cert_chain(settings.ssl_certfile, settings.ssl_keyfile or None)
    return context


def client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client (producer, consumer, admin, client)."""
    validate(settings)
    protocol = settings.security_protocol.upper()
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        try:
            options["ssl_context"] = ssl_context(settings)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"ssl_cafile/ssl_certfile/ssl_keyfile: {exc}") from None
    if protocol.startswith("SASL"):
        options["sasl_mechanism"] = settings.sasl_mechanism.upper()
        options["sasl_plain_username"] = settings.sasl_username
        options["sasl_plain_password"] = settings.sasl_password
    return options


def describe(settings: Settings) -> str:
    """The security set-up in words, without secrets (for logs)."""
    protocol = settings.security_protocol.upper()
    if protocol.startswith("SASL"):
        return f"{protocol} {settings.sasl_mechanism.upper()} as {settings.sasl_username!r}"
    return protocol


def faust_credentials(settings: Settings) -> Any:
    """The same set-up as Faust ``broker_credentials`` (its own producer and consumer);
    ``None`` for PLAINTEXT."""
    import faust

    options = client_options(settings)
    protocol = options["security_protocol"]
    if protocol == "PLAINTEXT":
        return None
    if protocol == "SSL":
        return faust.SSLCredentials(options["ssl_context"])
    # SASL_SSL when an ssl_context is given, else SASL_PLAINTEXT
    return faust.SASLCredentials(
        username=settings.sasl_username,
        password=settings.sasl_password,
        mechanism=options["sasl_mechanism"],
        ssl_context=options.get("ssl_context"),
    )
