/** Russian phrases of every kind. Plural forms go through Intl.PluralRules (one/few/many). */
import { plural } from "./format";
import type { ChangedContext, Phrases } from "./message";

const tickets = (count: number): string => plural(count, { one: "билет", few: "билета", many: "билетов", other: "билета" }, "ru");

const REFUND_TIME = "Деньги вернутся на карту, которой вы платили, обычно за 1–10 рабочих дней: срок зависит от банка.";

const what = (c: ChangedContext): string =>
  c.dateChanged && c.venueChanged ? "дату и площадку" : c.venueChanged ? "площадку" : "дату и время";
const now = (c: ChangedContext): string =>
  [c.dateChanged ? c.whenShort || "открытая дата" : "", c.venueChanged ? c.venue : ""].filter(Boolean).join(", ");

export const ru: Phrases = {
  locale: "ru",
  labels: {
    order: "Заказ",
    amount: "Сумма",
    event: "Мероприятие",
    date: "Дата и время",
    venue: "Площадка",
    address: "Адрес",
    category: "Категория",
    place: "Место",
    price: "Цена",
    barcode: "Штрихкод",
    tickets: "Билеты",
    refunded: "Возвращено",
    dateBefore: "Было",
    dateAfter: "Стало",
    venueBefore: "Прежняя площадка",
    venueAfter: "Новая площадка",
    reason: "Причина",
    buyer: "Покупатель",
  },
  place: { row: "ряд", seat: "место", sector: "сектор", general: "входной билет без места" },
  openDate: "открытая дата (билет действует в любой день проведения)",
  ticketTitle: (index, total) => `Билет ${index} из ${total}`,
  pdfHint: "Покажите QR-код на входе с экрана или распечатанным. Каждый код пропускает один раз.",
  tickets,
  greeting: (firstName) => (firstName ? `Здравствуйте, ${firstName}!` : "Здравствуйте!"),
  viewOrder: "Открыть заказ",
  footer: "Это автоматическое письмо о вашем заказе, отвечать на него не нужно.",

  order_paid: {
    subject: (c) => `Ваши билеты: «${c.name}», заказ ${c.number}`,
    heading: () => "Заказ оплачен",
    body: (c) => [
      `Спасибо за покупку! Заказ ${c.number} оплачен: ${tickets(c.count)} на сумму ${c.amount}.`,
      "Билеты с QR-кодами — во вложенном PDF, по одной странице на билет. Покажите код на входе с экрана или распечатанным.",
    ],
    sms: (c) => `Заказ ${c.number} оплачен: ${tickets(c.count)}, ${c.amount}. Билеты в письме.`,
    push: (c) => ({ title: "Заказ оплачен", body: `«${c.name}»: ${tickets(c.count)}, ${c.amount}` }),
  },

  order_not_paid: {
    subject: (c) => (c.reason === "expired" ? `Заказ ${c.number}: время оплаты истекло` : `Заказ ${c.number} не оплачен`),
    heading: (c) => (c.reason === "expired" ? "Время оплаты истекло" : "Оплата не прошла"),
    body: (c) => [
      c.reason === "expired"
        ? `Заказ ${c.number} на «${c.name}» не был оплачен вовремя и отменён.`
        : `Платёж по заказу ${c.number} на «${c.name}» не прошёл, заказ отменён.`,
      `Деньги не списаны. ${tickets(c.count)} снова в продаже — вы можете оформить новый заказ.`,
    ],
    sms: (c) =>
      c.reason === "expired"
        ? `Время оплаты заказа ${c.number} истекло. Деньги не списаны.`
        : `Заказ ${c.number} не оплачен, деньги не списаны.`,
    push: (c) => ({
      title: c.reason === "expired" ? "Время оплаты истекло" : "Оплата не прошла",
      body: `Заказ ${c.number}: деньги не списаны, билеты сняты с брони`,
    }),
  },

  refund_done: {
    subject: (c) => `Возврат по заказу ${c.number}: ${c.refunded}`,
    heading: () => "Возврат оформлен",
    body: (c) => [
      `Мы вернули ${c.refunded} ${
        { all: "за все билеты заказа", some: `за ${tickets(c.count)} заказа`, amount: "по заказу" }[c.scope]
      } ${c.number} на «${c.name}».`,
      REFUND_TIME,
      "Возвращённые билеты больше не действуют.",
    ],
    sms: (c) => `Возврат ${c.refunded} по заказу ${c.number} оформлен.`,
    push: (c) => ({
      title: "Возврат оформлен",
      body: `${c.refunded}${c.count > 0 ? ` за ${tickets(c.count)}` : ""}, заказ ${c.number}`,
    }),
  },

  event_cancelled: {
    subject: (c) => `Мероприятие отменено: «${c.name}»`,
    heading: () => "Мероприятие отменено",
    body: (c) => [
      `К сожалению, «${c.name}» (${c.when}) отменено.`,
      c.money === "refunded"
        ? `Мы вернём полную стоимость заказа ${c.number} — ${c.amount}. ${REFUND_TIME}`
        : `Заказ ${c.number} не был оплачен, деньги не списаны.`,
    ],
    sms: (c) =>
      `Отмена: «${c.name}»${c.whenShort ? ` ${c.whenShort}` : ""}. ${
        c.money === "refunded" ? "Деньги вернутся на карту." : "Деньги не списаны."
      }`,
    push: (c) => ({
      title: "Мероприятие отменено",
      body: `«${c.name}»: ${c.money === "refunded" ? `вернём ${c.amount} на карту` : "деньги не списаны"}`,
    }),
  },

  event_changed: {
    subject: (c) => `Изменения: «${c.name}»`,
    heading: (c) =>
      c.dateChanged && c.venueChanged
        ? "Изменились дата и площадка"
        : c.venueChanged
          ? "Изменилась площадка"
          : "Изменились дата и время",
    body: (c) => [
      `Организатор изменил ${what(c)} мероприятия «${c.name}».`,
      `Ваши ${tickets(c.count)} по заказу ${c.number} действуют, ничего делать не нужно.`,
    ],
    sms: (c) => `Изменение: «${c.name}» теперь ${now(c)}`,
    push: (c) => ({
      title: "Мероприятие изменилось",
      body: `«${c.name}»: теперь ${now(c)}`,
    }),
  },

  event_reminder: {
    subject: (c) => `Скоро: «${c.name}»${c.whenShort ? `, ${c.whenShort}` : ""}`,
    heading: () => "Напоминаем о мероприятии",
    body: (c) => [
      `Скоро начало: «${c.name}», ${c.when}.`,
      `У вас ${tickets(c.count)} (заказ ${c.number}). Возьмите с собой билеты из письма с заказом.`,
    ],
    sms: (c) => `Напоминание: «${c.name}»${c.whenShort ? ` ${c.whenShort}` : ""}, ${c.venue}`,
    push: (c) => ({
      title: `Скоро: «${c.name}»`,
      body: `${c.whenShort ? `${c.whenShort}, ` : ""}${c.venue}, ${tickets(c.count)}`,
    }),
  },
};
