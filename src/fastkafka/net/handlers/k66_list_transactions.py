"""ListTransactions (key 66), v0-2 (KafkaApis.handleListTransactionsRequest): the transactions of
the `__transaction_state` partitions this broker leads, filtered by state names, producer ids,
(v1) a minimum running duration in ms (only Ongoing transactions that started longer ago) and
(v2, KIP-1152) a transactional id regular expression. State filters that name no state come back
in `unknown_state_filters`.

The pattern, as Kafka's TransactionStateManager: null or empty means no filter; otherwise it is
compiled (RE2J in Kafka) only once the coordinator is active and loaded (COORDINATOR_NOT_AVAILABLE
/ COORDINATOR_LOAD_IN_PROGRESS win), must match the whole transactional id (Java's
`Matcher.matches()`), and a pattern that does not compile fails the whole request with
INVALID_REGULAR_EXPRESSION and empty lists (Kafka throws InvalidRegularExpression and answers
ListTransactionsRequest's error response). RE2J syntax is checked and mapped to Python's `re` by
`re2_pattern`: what RE2 rejects (backreferences, lookaround, atomic groups, conditionals,
possessive quantifiers) is rejected here too; `(?<name>`, `\\z`, `\\Q...\\E` and the POSIX classes
`[[:alpha:]]` are translated. Not mapped: Unicode classes (`\\pL`, `\\p{Greek}`), which Python's
`re` rejects, so such a pattern is INVALID_REGULAR_EXPRESSION here although RE2J accepts it.
"""
from __future__ import annotations

import re

from fastkafka.net.broker_services import BrokerServices
from fastkafka.net.registry import handler
from fastkafka.net.request_context import RequestContext
from fastkafka.protocol.errors import Errors
from fastkafka.protocol.messages import ListTransactionsRequest, ListTransactionsResponse

_State = ListTransactionsResponse.TransactionState

# RE2's POSIX bracket classes (ASCII only, as in RE2), as the ranges Python understands.
_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~",
    "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z", "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}


def re2_pattern(pattern: str) -> re.Pattern[str]:
    """Compile an RE2(J) pattern with Python's `re`; ValueError if RE2 would reject it."""
    out: list[str] = []
    i, n, in_class, class_start = 0, len(pattern), False, False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise ValueError("trailing \\")
            e = pattern[i + 1]
            if e == "Q":  # \Q...\E: literal text up to \E (or the end)
                end = pattern.find("\\E", i + 2)
                literal = pattern[i + 2:] if end < 0 else pattern[i + 2:end]
                out.append(re.escape(literal))
                i = n if end < 0 else end + 2
                continue
            if e.isdigit() and e != "0" and not in_class:
                raise ValueError("backreferences are not supported by RE2")
            out.append("\\Z" if e == "z" and not in_class else c + e)
            i += 2
            continue
        if in_class:
            if c == "[" and pattern.startswith("[:", i):
                end = pattern.find(":]", i + 2)
                name = pattern[i + 2:end] if end > 0 else ""
                if name in _POSIX_CLASSES:
                    out.append(_POSIX_CLASSES[name])
                    i = end + 2
                    continue
            if c == "]" and not class_start:
                in_class = False
            class_start = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class, class_start = True, True
            out.append(c)
            i += 1
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            continue
        if c == "(" and pattern.startswith("(?", i):
            rest = pattern[i + 2:]
            if rest.startswith(("=", "!", "<=", "<!", ">", "(", "P=")):
                raise ValueError("lookaround, atomic groups, conditionals and backreferences are not supported by RE2")
            if rest.startswith("<"):  # Java's (?<name>...) is Python's (?P<name>...)
                out.append("(?P<")
                i += 3
                continue
        if c in "*+?}" and i + 1 < n and pattern[i + 1] == "+":
            raise ValueError("possessive quantifiers are not supported by RE2")
        out.append(c)
        i += 1
    try:
        return re.compile("".join(out))
    except (re.error, OverflowError) as e:
        raise ValueError(str(e)) from None


@handler(66, 0, 2)
async def handle_list_transactions(broker: BrokerServices, ctx: RequestContext,
                                   req: ListTransactionsRequest) -> ListTransactionsResponse:
    duration = req.duration_filter if ctx.api_version >= 1 else -1
    id_pattern = req.transactional_id_pattern if ctx.api_version >= 2 else None
    error, unknown, mds = broker.transaction_coordinator.handle_list_transactions(
        set(req.producer_id_filters), set(req.state_filters), duration)
    if error == 0 and id_pattern:
        try:
            compiled = re2_pattern(id_pattern)
        except ValueError:
            return ListTransactionsResponse(throttle_time_ms=0, error_code=Errors.INVALID_REGULAR_EXPRESSION,
                                            unknown_state_filters=[], transaction_states=[])
        mds = [md for md in mds if compiled.fullmatch(md.transactional_id)]
    return ListTransactionsResponse(
        throttle_time_ms=0, error_code=error, unknown_state_filters=unknown,
        transaction_states=[_State(transactional_id=md.transactional_id, producer_id=md.producer_id,
                                   transaction_state=md.state.state_name) for md in mds])
