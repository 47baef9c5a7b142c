"""Rate limits: per client address, person, API key and organization, costly actions, and
what a limit does while Redis cannot answer. Rates use the ``limits`` notation."""

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from limits import parse_many

from application.ports.rate_limiter import Rate
from application.rate_limits import CostlyAction, Costs
from entrypoints.settings.fields import Binding, Section, setting
from entrypoints.settings.parsers import boolean, choice

__all__ = ("FailureMode", "RateLimitSettings", "Rates", "parse_costs", "rates")


class FailureMode(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Rates:
    """Rates as written (``20/second; 600/minute``); ``off`` is ``None`` in a setting."""

    text: str
    rates: tuple[Rate, ...]

    def __str__(self) -> str:
        return self.text


_OFF = frozenset({"off", "none", "unlimited"})


def rates(raw: str) -> Rates | None:
    """``N/unit`` or ``N per M units`` (second, minute, hour, day), several joined with ``;``
    or ``,``; ``off`` for no limit."""
    if raw.lower() in _OFF:
        return None
    try:
        items = parse_many(raw)
        parsed = tuple(
            Rate(amount=item.amount, per=timedelta(seconds=item.get_expiry())) for item in items
        )
    except (ValueError, OverflowError):
        raise ValueError(
            f"expected rates such as `20/second; 600/minute` (or `off`), got {raw[:60]!r}"
        ) from None
    if not parsed:
        raise ValueError(f"expected at least one rate, got {raw[:60]!r}")
    if any(rate.amount > 1_000_000 or rate.seconds > 31 * 86_400 for rate in parsed):
        raise ValueError("expected at most 1000000 per rate, over at most a month")
    return Rates(" ".join(raw.split()), parsed)


def parse_costs(raw: str) -> Costs:
    """``action=cost`` pairs separated by commas; actions not named keep their default."""
    costs: dict[str, int] = {}
    for pair in raw.split(","):
        name, sep, value = pair.partition("=")
        try:
            action = CostlyAction(name.strip().lower())
            cost = int(value.strip()) if sep else 0
        except ValueError:
            names = ", ".join(a.value for a in CostlyAction)
            raise ValueError(f"expected action=cost pairs of {names}, got {pair[:60]!r}") from None
        if not 1 <= cost <= 1000:
            raise ValueError(f"expected a cost of 1 to 1000 for {action.value}, got {value!r}")
        costs[action.value] = cost
    return Costs(**costs)


def _rates_setting(env: str, doc: str, default: str) -> Rates | None:
    return setting(env, doc, rates, default=rates(default), shown=default)


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitSettings(Section):
    """How much each caller may ask of the server; see "Rate limits" in the README."""

    enabled: bool = setting(
        "MAESTRIST_RATE_LIMIT_ENABLED",
        "Hold callers to the rate limits below; `false` turns every one of them off.",
        boolean,
        default=True,
    )
    per_ip: Rates | None = _rates_setting(
        "MAESTRIST_RATE_LIMIT_PER_IP",
        "Requests one client address (an IPv6 one by its /64) may make to routes that need no "
        "sign-in, and failed sign-ins to the others (`off`: no limit).",
        "20/second; 300/minute",
    )
    sign_in_per_ip: Rates | None = _rates_setting(
        "MAESTRIST_RATE_LIMIT_SIGN_IN_PER_IP",
        "Requests one client address may make to the sign-in routes (`/api/auth/login`, "
        "`/api/auth/callback`).",
        "5/second; 60/minute",
    )
    webhooks_per_ip: Rates | None = _rates_setting(
        "MAESTRIST_RATE_LIMIT_WEBHOOKS_PER_IP",
        "Deliveries one client address may make to `/api/webhooks/...` (a provider sends "
        "every customer's from a few addresses, so keep it high).",
        "50/second; 3000/minute",
    )
    per_user: Rates | None = _rates_setting(
        "MAESTRIST_RATE_LIMIT_PER_USER",
        "Requests one person may make, whatever the credential.",
        "20/second; 600/minute",
    )
    per_api_key: Rates | None = _rates_setting(
        "MAESTRIST_RATE_LIMIT_PER_API_KEY",
        "Requests one API key may make (within its person's own limit).",
        "10/second; 300/minute",
    )
    per_org: Rates | None = _rates_setting(
        "MAESTRIST_RATE_LIMIT_PER_ORG",
        "Requests an organization's members may make in it, together (counted on the routes "
        "that act in an organization).",
        "100/second; 3000/minute",
    )
    costly_per_user: Rates | None = _rates_setting(
        "MAESTRIST_RATE_LIMIT_COSTLY_PER_USER",
        "Units of cost one person may spend on costly actions (each costs "
        "`MAESTRIST_RATE_LIMIT_COSTS`).",
        "60/minute; 600/hour",
    )
    costs: Costs = setting(
        "MAESTRIST_RATE_LIMIT_COSTS",
        "What each costly action costs, `action=units` separated by commas: "
        "`start_conversation`, `send_message` (over HTTP or the conversation's socket), "
        "`checkout`. Each at most the smallest amount of `MAESTRIST_RATE_LIMIT_COSTLY_PER_USER`.",
        parse_costs,
        default=Costs(),
    )
    socket_connects_per_ip: Rates | None = _rates_setting(
        "MAESTRIST_RATE_LIMIT_SOCKET_CONNECTS_PER_IP",
        "Websockets one client address may open.",
        "60/minute",
    )
    on_failure: FailureMode = setting(
        "MAESTRIST_RATE_LIMIT_ON_FAILURE",
        "What a request limited per address, person, key or organization does while the "
        "limiter cannot answer (Redis unreachable): `open` (served, uncounted) or `closed` "
        "(503). Logged and counted either way.",
        choice(FailureMode),
        default=FailureMode.OPEN,
    )
    costly_on_failure: FailureMode = setting(
        "MAESTRIST_RATE_LIMIT_COSTLY_ON_FAILURE",
        "The same for costly actions: `closed` refuses them (503) while their cost cannot be "
        "counted.",
        choice(FailureMode),
        default=FailureMode.CLOSED,
    )
    timeout_s: float = setting(
        "MAESTRIST_RATE_LIMIT_TIMEOUT",
        "Clustered: seconds Redis may take to count a hit before the limiter counts as "
        "unavailable (0.01-10).",
        lambda raw: _bounded_seconds(raw, 0.01, 10.0),
        default=0.5,
    )

    def problems(self, binding: Binding) -> dict[str, str]:
        del binding
        if self.costly_per_user is None:
            return {}
        smallest = min(rate.amount for rate in self.costly_per_user.rates)
        over = [f"{a.value}={c}" for a, c in self.costs.items() if c > smallest]
        if over:
            return {
                "MAESTRIST_RATE_LIMIT_COSTS": (
                    f"{', '.join(over)} could never pass: MAESTRIST_RATE_LIMIT_COSTLY_PER_USER "
                    f"allows {smallest} at most"
                )
            }
        return {}


def _bounded_seconds(raw: str, low: float, high: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"expected {low} to {high} seconds, got {raw}")
    return value
