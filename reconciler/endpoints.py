"""Where credentials may go: the one trust rule for every URL that carries one.

The environment is trusted, the catalog's endpoints are not (a pull request
can edit them). A credential is sent only to

- a URL given in the environment (``READYCLOUD_BASE_URL``, ``COBUILDER_BASE_URL``,
  ``COBUILDER_TOKEN_URL``, ``USERCOM_BASE_URL``, ``VOUCHERIFY_BASE_URL``), or
- a URL written in the catalog whose host is one of the vendor's documented
  hosts (``contracts``) or listed in ``RECONCILER_TRUSTED_HOSTS``, over https.

Links a vendor answers with are followed only within the origin they came
from (no other host, no downgrade to http). Credential values are checked
here too, and no message ever quotes one.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Mapping, Sequence
from urllib.parse import urlsplit

from reconciler.errors import ConfigError

if TYPE_CHECKING:
    import httpx

TRUSTED_HOSTS_ENV = "RECONCILER_TRUSTED_HOSTS"
_ENTRY = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$")
#: What a credential may hold once surrounding whitespace is stripped: printable ASCII.
_UNSENDABLE = re.compile(r"[^\x20-\x7e]")


def trusted_hosts(environ: Mapping[str, str]) -> tuple[str, ...]:
    """``RECONCILER_TRUSTED_HOSTS``: host names separated by commas or spaces,
    each ``host``, ``host:port`` or ``*.domain`` (any subdomain)."""
    entries = tuple(e for e in re.split(r"[,\s]+", environ.get(TRUSTED_HOSTS_ENV, "").strip().lower()) if e)
    for entry in entries:
        if not _ENTRY.match(entry):
            raise ConfigError(f"{TRUSTED_HOSTS_ENV} lists host names (host, host:port or *.domain, separated by "
                              f"commas), got {entry!r}")
    return entries


def _matches(host: str, port: int | None, pattern: str) -> bool:
    name, _, wanted_port = pattern.rpartition(":") if re.search(r":\d+$", pattern) else (pattern, "", "")
    if wanted_port and port != int(wanted_port):
        return False
    name = name.strip("[]")
    if name.startswith("*."):
        return host.endswith(name[1:])
    return host == name


#: A catalog URL longer than this is refused at load (httpx refuses over 65,536 characters only when sending).
MAX_CATALOG_URL_LENGTH = 2000


def url_length_problem(url: str) -> str | None:
    """Why ``url``, written in the catalog, is too long to send, or None."""
    if len(url) > MAX_CATALOG_URL_LENGTH:
        return f"is {len(url)} characters long; at most {MAX_CATALOG_URL_LENGTH}"
    return None


def catalog_url_problem(url: str, *, label: str, hosts: Sequence[str], env_name: str,
                        environ: Mapping[str, str], quote: bool = True) -> str | None:
    """Why ``url``, written in the catalog, may not carry ``label``'s
    credentials, or None if it may. ``quote``: the message may show the host
    (not when any of the URL came from ``${VAR}``: it may hold a secret)."""
    too_long = url_length_problem(url)
    if too_long:
        return too_long
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        parts, host, port = None, "", None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        return "must be an https:// URL with a host" + (f", got {url!r}" if quote else "")
    if parts.scheme == "http":
        return (f"plain http:// never carries the {label} credentials unless the URL comes from the "
                f"environment; use https:// or set {env_name}")
    if any(_matches(host, port, pattern) for pattern in (*hosts, *trusted_hosts(environ))):
        return None
    shown = f"host {host!r}" if quote else "host (not shown: the URL may hold a ${VAR} value)"
    return (f"{shown} is not one of {label}'s hosts ({', '.join(hosts)}), and the catalog may send "
            f"credentials only there; to use another host set {env_name}, or list the host in "
            f"{TRUSTED_HOSTS_ENV}")


def env_url(environ: Mapping[str, str], name: str) -> str | None:
    """The URL in the environment variable ``name`` (None if unset): any
    host, http or https, since the environment is trusted."""
    value = environ.get(name, "").strip()
    if not value:
        return None
    try:
        parts = urlsplit(value)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(f"{name} must be an http:// or https:// URL with a host")
    return value.rstrip("/")


def resolve(environ: Mapping[str, str], env_name: str, key: str, configured: str | None, *, label: str,
            hosts: Sequence[str]) -> str | None:
    """The URL to send ``label``'s credentials to: the environment's, else the
    catalog's (``configured``, for ``key``) if the trust rule allows it;
    :class:`ConfigError` naming ``key`` if not. None if neither is given."""
    given = env_url(environ, env_name)
    if given is not None:
        return given
    if not configured:
        return None
    problem = catalog_url_problem(configured, label=label, hosts=hosts, env_name=env_name, environ=environ,
                                  quote=False)
    if problem:
        raise ConfigError(f"{key}: {problem}")
    return configured.rstrip("/")


def credential(environ: Mapping[str, str], name: str) -> str | None:
    """The credential in ``name`` without surrounding whitespace (a trailing
    newline from ``echo`` or a file), None if unset or blank;
    :class:`ConfigError` naming the variable, never its value, if what is
    left cannot be sent (a control character, a line break inside, non-ASCII)."""
    return clean_credential(environ.get(name, ""), name)


def clean_credential(value: str, name: str) -> str | None:
    """``value`` checked as :func:`credential` does; ``name`` says where it came from."""
    value = value.strip()
    if not value:
        return None
    if _UNSENDABLE.search(value):
        raise ConfigError(f"{name} holds a character that cannot be sent (a line break, a control character "
                          "or a non-ASCII character inside it); set it to the bare value")
    return value


def require_credential(environ: Mapping[str, str], name: str, what: str) -> str:
    """:func:`credential`, which must be set."""
    value = credential(environ, name)
    if value is None:
        raise ConfigError(f"{name} is not set ({what})")
    return value


def link_base(base_url: str) -> httpx.URL:
    """``base_url`` parsed as :func:`same_origin_link` resolves links against
    it (as a directory): for a caller following many links from one base."""
    import httpx  # (here, not at the top: the catalog checks its URLs with this module, offline)

    return httpx.URL(base_url if base_url.endswith("/") else base_url + "/")


def same_origin_link(base_url: str | httpx.URL, link: str) -> str | None:
    """``link`` (absolute, root-relative or relative) resolved against
    ``base_url`` (a string, or what :func:`link_base` made of one); None if it
    leaves ``base_url``'s origin (another host or port, or http where the base
    is https): credentials never follow it there."""
    import httpx

    base = link_base(base_url) if isinstance(base_url, str) else base_url
    try:
        url = base.join(link)
    except (httpx.InvalidURL, TypeError):
        return None
    if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
        return None
    return str(url)


def without_userinfo(url: str) -> str:
    """``url`` without a ``user:password@`` part: how a URL is recorded (a
    saved plan's ``origin``) or shown, since the environment may put a
    credential there."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()
