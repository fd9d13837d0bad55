import { LOCALES, type Locale } from "../../../lib/domain/notifications";
import type { NotificationData } from "../../../services/notifications/notification-data";
import { plural, smsLimit } from "../../../services/notifications/templates/format";
import { renderNotification } from "../../../services/notifications/templates/render";
import { STARTS_AT, sampleData, sampleTickets } from "../../support/notification-data";

/** Intl puts no-break spaces in numbers and dates; tests read them as plain spaces. */
const plain = (text: string): string => text.replace(/[\u00a0\u202f]/g, " ");

const variants = (locale: Locale): NotificationData[] => [
  sampleData("order_paid", locale, {}),
  sampleData("order_not_paid", locale, { reason: "payment_failed" }),
  sampleData("order_not_paid", locale, { reason: "expired" }),
  sampleData("refund_done", locale, { refund: { amount: 150000, currency: "RUB", ticketIds: ["ticket-2"] } }),
  sampleData("event_cancelled", locale, { money: "refunded" }),
  sampleData("event_cancelled", locale, { money: "not_charged" }),
  sampleData("event_changed", locale, {
    before: {
      startsAt: STARTS_AT - 2 * 86400000,
      timezone: "Europe/Moscow",
      venue: { name: "Лужники", address: "ул. Лужники, 24", city: "Москва" },
    },
  }),
  sampleData("event_reminder", locale, {}),
];

describe("notification templates", () => {
  describe.each(LOCALES)("every kind in %s", (locale) => {
    it.each(
      variants(locale).map((data) => [
        `${data.kind} ${"reason" in data ? data.reason : "money" in data ? data.money : ""}`,
        data,
      ]),
    )("%s: every part is filled, the name is escaped in HTML, the SMS is one part", async (_, data) => {
      const hostile = { ...data, event: { ...data.event, name: `<script>alert("x")</script> & Co` } } as NotificationData;
      const r = await renderNotification(hostile, "email");
      for (const part of [r.subject, r.text, r.html, r.sms, r.push.title, r.push.body]) expect(part.trim()).not.toBe("");
      expect(r.html).not.toContain("<script>");
      expect(r.html).toContain("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; Co");
      expect(r.text).toContain(`<script>alert("x")</script> & Co`);
      expect(r.html).toContain(`<html lang="${locale}">`);
      expect(r.sms.length).toBeLessThanOrEqual(smsLimit(r.sms));
      expect(r.attachments.length).toBe(data.kind === "order_paid" ? 1 : 0);
    });
  });

  it("shows the time in the event's zone with its offset, whatever the zone", async () => {
    const moscow = await renderNotification(sampleData("event_reminder", "ru", {}), "email");
    expect(plain(moscow.text)).toContain("1 июня 2026 г. в 19:00 GMT+3");
    expect(moscow.html).toContain("19:00 GMT+3");
    expect(moscow.sms).toContain("01.06, 19:00");
    const yekaterinburg = await renderNotification(
      sampleData("event_reminder", "en", {}, { event: { timezone: "Asia/Yekaterinburg" } }),
      "email",
    );
    expect(plain(yekaterinburg.text)).toContain("June 1, 2026 at 21:00 GMT+5");
    expect(yekaterinburg.push.body).toContain("Jun 1, 21:00");
  });

  it("says an open-date event has no date instead of inventing one", async () => {
    for (const locale of LOCALES) {
      const r = await renderNotification(sampleData("order_paid", locale, {}, { event: { startsAt: null } }), "email");
      expect(r.text).toContain(locale === "ru" ? "открытая дата" : "open date");
      expect(r.text).not.toContain("GMT");
    }
  });

  it("shows the time in UTC when the event's zone is unknown, rather than failing the receipt", async () => {
    const r = await renderNotification(sampleData("order_paid", "en", {}, { event: { timezone: "Mars/Olympus" } }), "email");
    expect(plain(r.text)).toContain("16:00 GMT");
  });

  it("uses the Russian plural forms for ticket counts", async () => {
    expect(
      [1, 2, 4, 5, 11, 21, 22, 25].map((n) => plural(n, { one: "билет", few: "билета", many: "билетов", other: "билета" }, "ru")),
    ).toEqual(["1 билет", "2 билета", "4 билета", "5 билетов", "11 билетов", "21 билет", "22 билета", "25 билетов"]);
    const sms = async (count: number) =>
      (await renderNotification(sampleData("order_paid", "ru", {}, { tickets: sampleTickets(count) }), "email")).sms;
    expect(await sms(1)).toContain("1 билет,");
    expect(await sms(3)).toContain("3 билета,");
    expect(await sms(5)).toContain("5 билетов,");
    expect((await renderNotification(sampleData("order_paid", "en", {}, { tickets: sampleTickets(1) }), "email")).sms).toContain(
      "1 ticket,",
    );
  });

  it("formats amounts from minor units in the locale's way", async () => {
    const ru = await renderNotification(sampleData("order_paid", "ru", {}), "email");
    expect(plain(ru.text)).toContain("Сумма: 4 500,00 ₽");
    expect(plain(ru.text)).toContain("Цена: 1 500,00 ₽");
    const en = await renderNotification(
      sampleData("order_paid", "en", {}, { order: { currency: "EUR", amount: 123456 } }),
      "email",
    );
    expect(en.text).toContain("Amount: €1,234.56");
  });

  it("lists every ticket of the receipt with its place, price and barcode, and links to the order", async () => {
    const tickets = [
      ...sampleTickets(2),
      ...sampleTickets(1, { id: "ga", barcode: "GA0001", row: undefined, seat: undefined, sector: "Танцпол" }),
    ];
    const r = await renderNotification(sampleData("order_paid", "ru", {}, { tickets }), "email");
    for (const t of tickets) expect(r.text).toContain(t.barcode);
    expect(r.text).toContain("ряд 7, место 12");
    expect(r.text).toContain("сектор Танцпол");
    expect(r.text).toContain("ул. Международная, 20, Красногорск");
    expect(r.text).toContain("https://tickets.example.test/orders/order-1?sig=abc&v=1");
    expect(r.html).toContain('href="https://tickets.example.test/orders/order-1?sig=abc&#38;v=1"');
    expect(r.attachments[0]).toMatchObject({ filename: "tickets-MSK-0042.pdf", contentType: "application/pdf" });
  });

  it("makes no link of an order URL that is not a web address", async () => {
    const r = await renderNotification(
      sampleData("event_reminder", "en", {}, { order: { url: "javascript:alert(1)" } }),
      "email",
    );
    expect(r.html).not.toContain("javascript:");
    expect(r.text).not.toContain("javascript:");
  });

  it("tells why an order was not paid, and that nothing was charged", async () => {
    const failed = await renderNotification(sampleData("order_not_paid", "en", { reason: "payment_failed" }), "email");
    const expired = await renderNotification(sampleData("order_not_paid", "en", { reason: "expired" }), "email");
    expect(failed.subject).toContain("not paid");
    expect(expired.subject).toContain("time to pay ran out");
    for (const r of [failed, expired]) expect(r.text).toContain("Nothing was charged");
    expect((await renderNotification(sampleData("order_not_paid", "ru", { reason: "expired" }), "email")).sms).toContain(
      "Деньги не списаны",
    );
  });

  it("says how much was refunded and for which tickets", async () => {
    const r = await renderNotification(
      sampleData("refund_done", "ru", { refund: { amount: 150000, currency: "RUB", ticketIds: ["ticket-2"] } }),
      "email",
    );
    expect(plain(r.subject)).toContain("1 500,00 ₽");
    expect(r.text).toContain("за 1 билет");
    expect(r.text).toContain("место 13");
    expect(r.text).not.toContain("место 12");
    const whole = await renderNotification(
      sampleData("refund_done", "en", {
        refund: { amount: 450000, currency: "RUB", ticketIds: ["ticket-1", "ticket-2", "ticket-3"] },
      }),
      "email",
    );
    expect(whole.text).toContain("for all tickets");
    const amountOnly = await renderNotification(
      sampleData("refund_done", "ru", { refund: { amount: 50000, currency: "RUB", ticketIds: [] } }),
      "email",
    );
    expect(plain(amountOnly.text)).toContain("Мы вернули 500,00 ₽ по заказу MSK-0042");
    expect(amountOnly.push.body).not.toContain("билет");
  });

  it("tells the holders of a cancelled event what happens to their money", async () => {
    const refunded = await renderNotification(
      sampleData("event_cancelled", "ru", { money: "refunded" }, { event: { cancelReason: "болезнь артиста" } }),
      "email",
    );
    expect(plain(refunded.text)).toContain("полную стоимость заказа MSK-0042 — 4 500,00 ₽");
    expect(refunded.text).toContain("1–10 рабочих дней");
    expect(refunded.text).toContain("болезнь артиста");
    expect(refunded.sms).toContain("Деньги вернутся на карту");
    const free = await renderNotification(sampleData("event_cancelled", "en", { money: "not_charged" }), "email");
    expect(free.text).toContain("nothing was charged");
    expect(free.text).not.toContain("business days");
  });

  it("shows what changed about an event, before and after", async () => {
    const venue = { name: "Крокус Сити Холл", address: "ул. Международная, 20", city: "Красногорск" };
    const moved = await renderNotification(
      sampleData("event_changed", "ru", { before: { startsAt: STARTS_AT - 86400000, timezone: "Europe/Moscow", venue } }),
      "email",
    );
    expect(plain(moved.text)).toMatch(/Было: .*31 мая 2026 г\. в 19:00 GMT\+3\nСтало: .*1 июня 2026 г\. в 19:00 GMT\+3/);
    expect(moved.subject).toBe("Изменения: «Концерт «Весна»»");
    expect(moved.text).not.toContain("Прежняя площадка");
    const elsewhere = await renderNotification(
      sampleData("event_changed", "en", {
        before: {
          startsAt: STARTS_AT,
          timezone: "Europe/Moscow",
          venue: { name: "Luzhniki", address: "Luzhniki 24", city: "Moscow" },
        },
      }),
      "email",
    );
    expect(elsewhere.text).toContain("Former venue: Luzhniki, Luzhniki 24, Moscow");
    expect(elsewhere.text).toContain("New venue: Крокус Сити Холл");
    expect(elsewhere.text).not.toContain("Was:");
    expect(elsewhere.sms).toContain("now Крокус Сити Холл");
  });

  it("reminds of the date, the venue and how many tickets the buyer holds", async () => {
    const r = await renderNotification(sampleData("event_reminder", "ru", {}, { tickets: sampleTickets(2) }), "email");
    expect(r.text).toContain("Крокус Сити Холл");
    expect(r.text).toContain("Билеты: 2 билета");
    expect(r.push.body).toContain("2 билета");
  });

  it("keeps the subject, SMS and push on one line whatever the event's name holds", async () => {
    const r = await renderNotification(
      sampleData("event_cancelled", "en", { money: "refunded" }, { event: { name: "Gala\r\nBcc: victim@example.test" } }),
      "email",
    );
    for (const line of [r.subject, r.sms, r.push.title, r.push.body]) expect(line).not.toMatch(/[\r\n]/);
    expect(r.subject).toBe("Cancelled: Gala Bcc: victim@example.test");
  });

  it("cuts a long event name so the SMS stays one part", async () => {
    const name = "Большой праздничный концерт симфонического оркестра в честь юбилея";
    const r = await renderNotification(sampleData("event_cancelled", "ru", { money: "refunded" }, { event: { name } }), "email");
    expect(r.sms.length).toBeLessThanOrEqual(70);
    expect(r.sms).toMatch(/^Отмена: «Большой[^»]*…» 01\.06, 19:00\. Деньги вернутся на карту\.$/);
    expect(r.subject).toContain(name);
  });
});
