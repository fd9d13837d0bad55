/**
 * The simulator's stand-in for YooKassa's payment page: plain HTML forms and inline styles, no
 * scripts and no external assets, so it works in any browser, offline, and under a strict CSP.
 */
import { escapeHtml, htmlDocument } from "../../http/html";
import type { Payment } from "./yookassa.port";

/** Reasons a bank gives for refusing a card, as YooKassa reports them in `cancellation_details`. */
export const DECLINE_REASONS = [
  "card_expired",
  "insufficient_funds",
  "3d_secure_failed",
  "call_issuer",
  "fraud_suspected",
  "general_decline",
] as const;

export type DeclineReason = (typeof DECLINE_REASONS)[number];

/** Scripts, frames and remote loads are all off; forms may post anywhere (the redirect leaves to the shop). */
export const CHECKOUT_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'";

const STYLE = `
body { font: 16px/1.5 system-ui, sans-serif; background: #f2f3f5; color: #1f2328; margin: 0; }
main { max-width: 26rem; margin: 3rem auto; background: #fff; border-radius: 12px; padding: 2rem; box-shadow: 0 2px 12px #0002; }
h1 { font-size: 1.3rem; margin: 0 0 1rem; }
.test { background: #fff4ce; border-radius: 6px; padding: .4rem .7rem; font-size: .9rem; }
dl { display: grid; grid-template-columns: auto 1fr; gap: .3rem 1rem; }
dt { color: #666; }
dd { margin: 0; overflow-wrap: anywhere; }
.amount { font-size: 1.6rem; font-weight: 600; }
form { margin-top: 1rem; }
button { width: 100%; padding: .75rem; font-size: 1rem; border: 0; border-radius: 8px; cursor: pointer; }
.pay { background: #2a7de1; color: #fff; }
.decline { background: #e8e8ea; color: #1f2328; }
select { width: 100%; margin: .3rem 0 .6rem; padding: .4rem; }
`;

export interface CheckoutLinks {
  /** Absolute URLs of the forms' targets. */
  pay: string;
  decline: string;
}

export function checkoutPage(payment: Payment, shopId: string, links: CheckoutLinks): string {
  const options = DECLINE_REASONS.map((reason) => `<option value="${reason}">${reason}</option>`).join("");
  return layout(
    "Payment",
    `<h1>Payment</h1>
<p class="test">YooKassa simulator: a test payment, no money moves.</p>
<p class="amount">${escapeHtml(payment.amount.value)} ${escapeHtml(payment.amount.currency)}</p>
<dl>
<dt>Shop</dt><dd>${escapeHtml(shopId)}</dd>
<dt>Order</dt><dd>${escapeHtml(payment.description ?? "")}</dd>
<dt>Payment</dt><dd>${escapeHtml(payment.id)}</dd>
</dl>
<form method="post" action="${escapeHtml(links.pay)}" id="pay"><button type="submit" class="pay">Pay</button></form>
<form method="post" action="${escapeHtml(links.decline)}" id="decline">
<label for="reason">What the bank says</label>
<select id="reason" name="reason">${options}</select>
<button type="submit" class="decline">Decline</button>
</form>`,
  );
}

/** For a payment that is no longer waiting for the buyer: what became of it, and the way back. */
export function statusPage(payment: Payment): string {
  const back = payment.confirmation?.return_url;
  const reason = payment.cancellation_details ? ` (${payment.cancellation_details.reason})` : "";
  return layout(
    "Payment",
    `<h1>Payment ${escapeHtml(payment.status)}${escapeHtml(reason)}</h1>
<p>Payment ${escapeHtml(payment.id)} for ${escapeHtml(payment.amount.value)} ${escapeHtml(payment.amount.currency)} is no longer waiting for the buyer.</p>
${back ? `<p><a href="${escapeHtml(back)}">Back to the shop</a></p>` : ""}`,
  );
}

export function notFoundPage(): string {
  return layout("Not found", "<h1>No such payment</h1>");
}

function layout(title: string, body: string): string {
  return htmlDocument({ title: `${title} · YooKassa simulator`, style: STYLE, body });
}
