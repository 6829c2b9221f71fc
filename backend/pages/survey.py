"""The patient survey page: server-rendered HTML at /survey/{token}, no JavaScript needed.

    GET   a usable link ──► the form (the organization's name and the visit date only) and a
          CSRF cookie; any other link ──► the neutral page
    POST  rate limited per client address ──► cross-origin refused ──► double-submit CSRF
          check (SameSite=Strict cookie = a nonce, hidden field = HMAC(link key, invitation,
          nonce)) ──► answers validated (errors re-render the form) ──► stored once ──► thanks

Every link that cannot be answered (expired, used, forged, altered, unknown) and every post that
fails the CSRF or origin check gets the same neutral page with the same status: it never tells
whether a link existed. Each request is one unit of work; the service (backend/surveys) decides.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from backend.audit.service import AuditTrail
from backend.core.clock import utcnow
from backend.core.errors import InvalidInput
from backend.core.request import RequestMeta
from backend.crypto import links
from backend.graphql.network import client_address
from backend.rate_limit import SlidingWindowLimiter
from backend.settings import Settings
from backend.surveys import service
from backend.surveys.limits import MAX_COMMENT, OVERALL_MAX, OVERALL_MIN, RECOMMEND_MAX, RECOMMEND_MIN

CSRF_COOKIE = "survey_csrf"
CSRF_FIELD = "csrf"
CSRF_MAX_AGE_SECONDS = 4 * 3600
NEUTRAL_STATUS = 404

STYLE = """
*{box-sizing:border-box}
body{margin:0;
  font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
  color:#1b1b1b;
  background:#f6f7f9}
main{max-width:40rem;margin:0 auto;padding:1.25rem 1rem 3rem}
h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0 .25rem}
.meta{color:#3d4451;margin:0 0 1.25rem}
fieldset{border:1px solid #8a93a3;
  border-radius:.5rem;
  margin:0 0 1.25rem;
  padding:.75rem .75rem 1rem;
  background:#fff}
legend{font-weight:600;padding:0 .25rem}
.hint{display:block;font-weight:400;color:#3d4451;font-size:.9375rem}
.scale{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.5rem}
.choice{position:relative}
.choice input{position:absolute;opacity:0;width:2.75rem;height:2.75rem;margin:0}
.choice label{display:flex;
  align-items:center;
  justify-content:center;
  min-width:2.75rem;
  min-height:2.75rem;
  padding:0 .75rem;
  border:2px solid #5b6475;
  border-radius:.5rem;
  background:#fff;
  cursor:pointer}
.choice input:checked+label{background:#0b4dd8;border-color:#0b4dd8;color:#fff;font-weight:600}
.choice input:focus-visible+label,textarea:focus-visible,button:focus-visible,
a:focus-visible{outline:3px solid #b3261e;outline-offset:2px}
.field{margin:0 0 1.25rem}
.field>label{display:block;font-weight:600;margin-bottom:.25rem}
textarea{width:100%;
  min-height:7rem;
  padding:.5rem;
  font:inherit;
  border:2px solid #5b6475;
  border-radius:.5rem}
button{font:inherit;
  font-weight:600;
  min-height:2.75rem;
  padding:.5rem 1.25rem;
  border:0;
  border-radius:.5rem;
  background:#0b4dd8;
  color:#fff;
  cursor:pointer}
.error{color:#b3261e;font-weight:600;margin:.25rem 0 0}
.summary{border:2px solid #b3261e;
  border-radius:.5rem;
  background:#fff;
  padding:.75rem 1rem;
  margin:0 0 1.25rem}
.summary h2{font-size:1.125rem;margin:0 0 .25rem}
""".strip()
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
SECURITY_HEADERS = {
    "content-security-policy": (
        f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "cross-origin-opener-policy": "same-origin",
}
NEUTRAL_TITLE = "This survey link can't be used"
NEUTRAL_TEXT = (
    "This link is not valid any more. Survey links work once and only for a limited time. "
    "Thank you for taking the time to give feedback — there is nothing else you need to do."
)

LEGENDS = {
    "overall": ("Overall, how was your experience?", "1 means very poor, 5 means excellent."),
    "recommend": (
        "How likely are you to recommend us to a friend or family member?",
        "0 means not at all likely, 10 means extremely likely.",
    ),
    "wait": ("Was the waiting time acceptable?", None),
}


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _response(
    content: str, status: int, cookies: Sequence[Cookie] = (), headers: Mapping[str, str] | None = None
) -> Response[str]:
    return Response(
        content,
        status_code=status,
        media_type="text/html; charset=utf-8",
        headers={**SECURITY_HEADERS, **(headers or {})},
        cookies=list(cookies),
    )


def neutral() -> Response[str]:
    body = f"<h1>{NEUTRAL_TITLE}</h1>\n<p>{html.escape(NEUTRAL_TEXT)}</p>"
    return _response(_page(NEUTRAL_TITLE, body), NEUTRAL_STATUS)


def _choices(name: str, values: range | Sequence[tuple[str, str]], chosen: str, error: str | None) -> str:
    legend, hint = LEGENDS[name]
    items = [(str(v), str(v)) for v in values] if isinstance(values, range) else list(values)
    described = f' aria-describedby="{name}-error"' if error else ""
    hint_html = f'<span class="hint">{html.escape(hint)}</span>' if hint else ""
    inputs = "".join(
        f'<div class="choice"><input type="radio" id="{name}-{value}" name="{name}" value="{value}"'
        f"{' checked' if value == chosen else ''}{described}>"
        f'<label for="{name}-{value}">{html.escape(text)}</label></div>'
        for value, text in items
    )
    error_html = f'<p class="error" id="{name}-error">{html.escape(error)}</p>' if error else ""
    return (
        f'<fieldset id="{name}"><legend>{html.escape(legend)}{hint_html}</legend>'
        f'<div class="scale">{inputs}</div>{error_html}</fieldset>'
    )


def _visit(visit_on: date | None) -> str:
    return (
        f"your visit on {visit_on.strftime('%B')} {visit_on.day}, {visit_on.year}"
        if visit_on
        else "your visit"
    )


def form_page(
    token: str,
    page: Any,
    csrf: str,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> str:
    values = values or {}
    errors = errors or {}
    organization = html.escape(page.organization_name or "Your care team")
    summary = ""
    if errors:
        items = "".join(
            f'<li><a href="#{name}">{html.escape(text)}</a></li>' for name, text in errors.items()
        )
        summary = (
            '<div class="summary" role="alert" tabindex="-1"><h2>Please check your answers</h2>'
            f"<ul>{items}</ul></div>"
        )
    comment_error = errors.get("comment")
    comment_described = ' aria-describedby="comment-error"' if comment_error else ""
    body = (
        f"<h1>How was your visit?</h1>\n"
        f'<p class="meta">{organization} · {html.escape(_visit(page.visit_on))}</p>\n{summary}'
        f'<form method="post" action="/survey/{html.escape(token)}" novalidate>\n'
        f'<input type="hidden" name="{CSRF_FIELD}" value="{html.escape(csrf)}">\n'
        + _choices(
            "overall", range(OVERALL_MIN, OVERALL_MAX + 1), values.get("overall", ""), errors.get("overall")
        )
        + _choices(
            "recommend",
            range(RECOMMEND_MIN, RECOMMEND_MAX + 1),
            values.get("recommend", ""),
            errors.get("recommend"),
        )
        + _choices("wait", (("yes", "Yes"), ("no", "No")), values.get("wait", ""), errors.get("wait"))
        + '\n<div class="field"><label for="comment">'
        "Anything else you would like to tell us? (optional)</label>"
        f'<textarea id="comment" name="comment" maxlength="{MAX_COMMENT}" rows="5"{comment_described}>'
        f"{html.escape(values.get('comment', ''))}</textarea>"
        + (f'<p class="error" id="comment-error">{html.escape(comment_error)}</p>' if comment_error else "")
        + '</div>\n<button type="submit">Send my answers</button>\n</form>'
    )
    return _page(f"Survey — {page.organization_name or 'your visit'}", body)


def thanks_page() -> str:
    body = (
        "<h1>Thank you</h1>\n<p>Your answers have been received. They help the team improve the care "
        "it gives. You can close this page now.</p>"
    )
    return _page("Thank you", body)


def _csrf_value(invitation_id: uuid.UUID, nonce: str) -> str:
    return links.sign("survey-csrf", invitation_id.hex, nonce)[:32]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _same_origin(request: Request[Any, Any, Any], settings: Settings) -> bool:
    """False for a post another site's page sent, as Sec-Fetch-Site or Origin says. Under our
    no-referrer policy browsers send ``Origin: null`` with the page's own posts, so a null (or
    missing) Origin is left to Sec-Fetch-Site, the SameSite=Strict cookie and the double submit."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in {"same-origin", "none"}:
        return False
    origin = (request.headers.get("origin") or "null").lower()
    if origin == "null":
        return True
    own = f"{request.url.scheme}://{request.headers.get('host', '')}".lower()
    return origin in {own, _origin(settings.survey.public_base_url)}


def build_survey_routes(settings: Settings) -> list[HTTPRouteHandler]:
    limiter = SlidingWindowLimiter(settings.survey.posts_per_minute)
    secure = settings.survey.public_base_url.startswith("https://")

    def csrf_cookie(nonce: str) -> Cookie:
        return Cookie(
            key=CSRF_COOKIE,
            value=nonce,
            path="/survey",
            max_age=CSRF_MAX_AGE_SECONDS,
            httponly=True,
            secure=secure,
            samesite="strict",
        )

    @get("/survey/{token:str}", include_in_schema=False, cache=False)
    async def survey_form(
        request: Request[Any, Any, Any], token: FromPath[str], state: State
    ) -> Response[str]:
        async with state.container.database.unit_of_work():
            page = await service.open_link(token, now=utcnow())
        if page is None:
            return neutral()
        nonce = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(18)
        csrf = _csrf_value(page.invitation_id, nonce)
        return _response(form_page(token, page, csrf), 200, [csrf_cookie(nonce)])

    @post("/survey/{token:str}", include_in_schema=False, cache=False, status_code=200)
    async def survey_submit(
        request: Request[Any, Any, Any], token: FromPath[str], state: State
    ) -> Response[str]:
        address = client_address(request, settings.trusted_proxies)
        wait = limiter.hit(address)
        if wait is not None:
            body = "<h1>Please wait a moment</h1>\n<p>Too many attempts from here. Try again in a minute.</p>"
            return _response(_page("Please wait", body), 429, headers={"retry-after": str(wait)})
        if not _same_origin(request, settings):
            return neutral()
        form = await request.form()
        values = {
            name: str(form.get(name, "")) for name in ("overall", "recommend", "wait", "comment", CSRF_FIELD)
        }
        nonce = request.cookies.get(CSRF_COOKIE, "")
        container = state.container
        meta = RequestMeta(client_address=address, request_id=uuid.uuid4().hex)
        now = utcnow()
        async with container.database.unit_of_work() as uow:
            invitation = await service.open_invitation(token, now=now)
            if invitation is None or not nonce:
                return neutral()
            if not secrets.compare_digest(values[CSRF_FIELD], _csrf_value(invitation.id, nonce)):
                return neutral()
            try:
                answers = service.parse_answers(values)
            except InvalidInput as error:
                errors: dict[str, str] = {}
                for problem in error.problems:
                    errors.setdefault(problem.field, problem.message)
                csrf = values[CSRF_FIELD]
                page = await service.page_of(invitation)
                return _response(form_page(token, page, csrf, values, errors), 422, [csrf_cookie(nonce)])
            stored = await service.answer(invitation, answers, AuditTrail(uow, meta), now=now)
        if not stored:
            return neutral()
        expired = Cookie(
            key=CSRF_COOKIE, value="", path="/survey", max_age=0, secure=secure, samesite="strict"
        )
        return _response(thanks_page(), 200, [expired])

    return [survey_form, survey_submit]
