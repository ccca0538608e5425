"""Who is calling: bearer token -> sender, scope and registry checks, rate limits.

The sender comes from the per-process cache (``SenderInfo``), so authenticating
a request reads nothing from the database. The rate limit of the registry
paths is counted from the sender's transaction rows of the last minute (an
index on ``(sender_id, create_date)``): it holds across every worker and node
and costs one indexed read, no write. Paths that record no transaction (token,
receivers) keep a window in this process (``ratelimit.limiter``). Failed
authentications on those paths are counted in the database
(``ratelimit.failure_wait``): :func:`check_failures`, :func:`record_failures`.
"""

from odoo.addons.spp_dci.dci.codes import ErrorCode
from odoo.addons.spp_dci.dci.errors import DCIError

from .ratelimit import WINDOW_SECONDS, failure_wait, limiter, record_failure
from .tokens import verify_token


def authenticate(ctx, authorization, scope):
    """The SenderInfo of a valid bearer token with ``scope``; raises DCIError 401/403."""
    if not authorization or not authorization[:7].lower() == "bearer ":
        raise DCIError(ErrorCode.REQUEST_UNAUTHORIZED, "a bearer access token is required", 401)
    claims = verify_token(
        authorization[7:].strip(),
        ctx.token_keys(),
        issuer=ctx.our_id,
        audience=ctx.config.root_path,
    )
    sender = ctx.sender_info(claims["sub"])
    if not sender:
        raise DCIError(
            ErrorCode.REQUEST_UNAUTHORIZED, "the token's client is not an active sender", 401
        )
    if scope not in claims["scope"].split() or scope not in sender.scopes:
        raise DCIError(
            ErrorCode.REQUEST_FORBIDDEN, f"the access token lacks the scope {scope}", 403
        )
    check_registry_type(ctx, sender)
    return sender


def check_registry_type(ctx, sender):
    if ctx.config.registry_type not in sender.registry_types:
        raise DCIError(ErrorCode.REQUEST_FORBIDDEN, "this client may not use this registry", 403)


def _too_many(sender, retry_after):
    return DCIError(
        ErrorCode.REQUEST_TOO_MANY_REQUESTS,
        f"more than {sender.rate_limit} requests per minute",
        429,
        retry_after=retry_after,
    )


def check_rate(env, sender):
    """Registry paths: at most ``rate_limit`` transactions in the last minute, all workers."""
    if not sender.rate_limit or sender.rate_limit <= 0:
        return
    env.cr.execute(
        """
        SELECT count(*), EXTRACT(EPOCH FROM min(create_date)
                                 - (now() AT TIME ZONE 'UTC' - make_interval(secs => %s)))
          FROM spp_dci_transaction
         WHERE sender_id = %s
           AND create_date > now() AT TIME ZONE 'UTC' - make_interval(secs => %s)
        """,
        (WINDOW_SECONDS, sender.id, WINDOW_SECONDS),
    )
    count, wait = env.cr.fetchone()
    if count >= sender.rate_limit:
        raise _too_many(sender, max(1, int((wait or 0) + 0.999)))


def check_local_rate(ctx, sender):
    """Token and receiver paths: a sliding window in this process."""
    retry_after = limiter.hit((ctx.env.cr.dbname, sender.client_id), sender.rate_limit)
    if retry_after:
        raise _too_many(sender, retry_after)


def check_failures(ctx, keys):
    """429 when a key of ``keys`` failed to authenticate too often in the last minute."""
    retry_after = failure_wait(ctx.env, keys)
    if retry_after:
        raise DCIError(
            ErrorCode.REQUEST_TOO_MANY_REQUESTS,
            "too many failed authentication attempts; try again later",
            429,
            retry_after=retry_after,
        )


def record_failures(ctx, keys):
    """Count one failed authentication for each of ``keys`` (see check_failures)."""
    record_failure(ctx.env, keys)
