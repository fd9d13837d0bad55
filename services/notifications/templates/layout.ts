/**
 * A Message as an e-mail's HTML and text parts. The HTML is what mail clients render
 * reliably: nested tables, inline styles, no scripts, no external CSS; every value escaped.
 */
import { escapeHtml } from "../../../lib/http/html";
import type { Fact, Message } from "./message";

const FONT = "font-family:Arial,Helvetica,sans-serif;";
const MUTED = "#6b7280";

/** Only web links become buttons: anything else (javascript:, data:) is dropped. */
function safeUrl(url: string): string | null {
  return /^https?:\/\//i.test(url) ? url : null;
}

function factRows(facts: Fact[]): string {
  return facts
    .filter((fact) => fact.value !== "")
    .map(
      (fact) =>
        `<tr><td width="150" style="${FONT}font-size:14px;color:${MUTED};padding:4px 12px 4px 0;vertical-align:top;width:150px">${escapeHtml(fact.label)}</td>` +
        `<td style="${FONT}font-size:14px;color:#111827;padding:4px 0;vertical-align:top">${escapeHtml(fact.value)}</td></tr>`,
    )
    .join("\n");
}

function factTable(facts: Fact[]): string {
  return `<table role="presentation" cellpadding="0" cellspacing="0" border="0" width="100%">\n${factRows(facts)}\n</table>`;
}

export function renderHtml(m: Message): string {
  const paragraphs = m.paragraphs
    .map((text) => `<p style="${FONT}font-size:15px;line-height:22px;color:#111827;margin:0 0 12px">${escapeHtml(text)}</p>`)
    .join("\n");
  const tickets = m.tickets
    .map(
      (ticket) =>
        `<tr><td style="padding:12px 0 0"><table role="presentation" cellpadding="12" cellspacing="0" border="0" width="100%" style="border:1px solid #e5e7eb;border-radius:6px">` +
        `<tr><td><p style="${FONT}font-size:15px;font-weight:bold;color:#111827;margin:0 0 6px">${escapeHtml(ticket.title)}</p>\n` +
        `${factTable(ticket.facts)}</td></tr></table></td></tr>`,
    )
    .join("\n");
  const url = m.action ? safeUrl(m.action.url) : null;
  const button =
    m.action && url
      ? `<tr><td style="padding:20px 0 4px"><table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr>` +
        `<td bgcolor="#2563eb" style="border-radius:6px"><a href="${escapeHtml(url)}" style="${FONT}display:inline-block;padding:12px 20px;font-size:15px;font-weight:bold;color:#ffffff;text-decoration:none">${escapeHtml(m.action.label)}</a></td>` +
        `</tr></table></td></tr>`
      : "";
  return `<!doctype html>
<html lang="${m.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(m.subject)}</title>
</head>
<body style="margin:0;padding:0;background:#f3f4f6">
<div style="display:none;max-height:0;overflow:hidden">${escapeHtml(m.paragraphs[1] ?? m.heading)}</div>
<table role="presentation" cellpadding="0" cellspacing="0" border="0" width="100%" bgcolor="#f3f4f6">
<tr><td align="center" style="padding:24px 12px">
<table role="presentation" cellpadding="0" cellspacing="0" border="0" width="600" style="max-width:600px;width:100%;background:#ffffff;border-radius:8px">
<tr><td style="padding:28px 28px 8px">
<h1 style="${FONT}font-size:22px;line-height:28px;color:#111827;margin:0 0 16px">${escapeHtml(m.heading)}</h1>
${paragraphs}
</td></tr>
<tr><td style="padding:0 28px">
<table role="presentation" cellpadding="0" cellspacing="0" border="0" width="100%">
<tr><td>${factTable(m.facts)}</td></tr>
${tickets}
${button}
</table>
</td></tr>
<tr><td style="${FONT}font-size:12px;line-height:18px;color:${MUTED};padding:20px 28px 28px">${escapeHtml(m.footer)}</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`;
}

function factLines(facts: Fact[], indent = ""): string[] {
  return facts.filter((fact) => fact.value !== "").map((fact) => `${indent}${fact.label}: ${fact.value}`);
}

/** The same content as the HTML, for clients that show text only (and for spam filters). */
export function renderText(m: Message): string {
  const lines: string[] = [m.heading, "", ...m.paragraphs.flatMap((text) => [text, ""]), ...factLines(m.facts)];
  for (const ticket of m.tickets) lines.push("", ticket.title, ...factLines(ticket.facts, "  "));
  const url = m.action ? safeUrl(m.action.url) : null;
  if (m.action && url) lines.push("", `${m.action.label}: ${url}`);
  lines.push("", "--", m.footer);
  return `${lines.join("\n")}\n`;
}
