"""What each channel sends: the webhook body, a Slack Block Kit message, an e-mail (text
and HTML, from the Jinja2 templates beside this file), one alert or a digest of several."""
from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Sequence

from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.domain.notify import top_reasons

_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
_HEADLINES = {"match.alert": "Newly relevant", "match.withdrawn": "No longer relevant", "revisit_due": "Follow up now"}


def webhook_body(message: dict[str, Any]) -> bytes:
    """The message as published, plus role_title, candidate_name, candidate_headline and link."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


def slack_body(message: dict[str, Any]) -> bytes:
    who = message.get("candidate_name") or message["candidate_id"]
    role = message.get("role_title") or message.get("role_id")
    title = f"{_HEADLINES.get(message['type'], message['type'])}: {who}" + (f" for {role}" if role else "")
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": title[:150]}}]
    fields = [{"type": "mrkdwn", "text": f"*Candidate*\n{who}"}]
    if role:
        fields.append({"type": "mrkdwn", "text": f"*Role*\n{role}"})
    if message.get("fit") is not None and message.get("readiness") is not None:
        fields += [{"type": "mrkdwn", "text": f"*Fit*\n{message['fit']:.2f}"},
                   {"type": "mrkdwn", "text": f"*Readiness*\n{message['readiness']:.2f}"}]
    blocks.append({"type": "section", "fields": fields})
    if message.get("candidate_headline"):
        blocks.append({"type": "context", "elements": [{"type": "plain_text", "text": message["candidate_headline"]}]})
    reasons = top_reasons(message.get("reasons") or [])
    if reasons:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": "\n".join(f"• {_escape(r)}" for r in reasons)[:2900]}})
    blocks.append({"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text",
                                                                                "text": "Open candidate"},
                                                    "url": message["link"]}]})
    return json.dumps({"text": title, "blocks": blocks}, ensure_ascii=False).encode()


def slack_digest_body(messages: Sequence[dict[str, Any]], period: str) -> bytes:
    title = f"Talent Radar: {len(messages)} update{'s' if len(messages) != 1 else ''}"
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": title}},
                                    {"type": "context", "elements": [{"type": "plain_text", "text": period}]}]
    for role_title, group in _by_role(messages).items():
        lines = [f"• <{m['link']}|{_escape(m.get('candidate_name') or m['candidate_id'])}>"
                 + (f" (fit {m['fit']:.2f})" if m.get("fit") is not None else "")
                 + ("" if m["type"] == "match.alert" else f" ({_HEADLINES.get(m['type'], m['type']).lower()})")
                 for m in group]
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": (f"*{_escape(role_title)}*\n" + "\n".join(lines))[:2900]}})
    return json.dumps({"text": title, "blocks": blocks[:50]}, ensure_ascii=False).encode()


def alert_email(message: dict[str, Any], sender: str, to: str) -> EmailMessage:
    context = {"m": message, "reasons": top_reasons(message.get("reasons") or [], limit=8)}
    who = message.get("candidate_name") or message["candidate_id"]
    role = message.get("role_title") or message.get("role_id")
    subject = f"{_HEADLINES.get(message['type'], message['type'])}: {who}" + (f" for {role}" if role else "")
    return _email(subject, sender, to, "alert", context)


def digest_email(messages: Sequence[dict[str, Any]], period: str, sender: str, to: str) -> EmailMessage:
    roles = [{"title": title, "messages": [{**m, "top_reasons": top_reasons(m.get("reasons") or [])} for m in group]}
             for title, group in _by_role(messages).items()]
    context = {"roles": roles, "count": len(messages), "period": period}
    subject = f"Talent Radar digest: {len(messages)} update{'s' if len(messages) != 1 else ''}"
    return _email(subject, sender, to, "digest", context)


def _email(subject: str, sender: str, to: str, template: str, context: dict[str, Any]) -> EmailMessage:
    email = EmailMessage()
    email["Subject"], email["From"], email["To"] = subject[:200], sender, to
    email.set_content(_templates.get_template(f"{template}.txt").render(**context))
    email.add_alternative(_templates.get_template(f"{template}.html").render(**context), subtype="html")
    return email


def _by_role(messages: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """A digest's messages grouped by role title (follow-ups, which have no role, together)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for message in messages:
        title = message.get("role_title") or message.get("role_id") or "Follow-ups"
        groups.setdefault(title, []).append(message)
    return groups


def _escape(text: str) -> str:
    """Slack's mrkdwn reads &, < and > as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
